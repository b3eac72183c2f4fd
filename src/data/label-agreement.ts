import { countBy } from '../core/count.js';
import type { ManifestRow } from '../core/types.js';
import type { LabelAgreement } from '../workspace/summary.js';

/** How often two separate records of the same image agree on its labels (stored in `summary.json`; fields in `workspace/summary.ts`). */
export type { LabelAgreement };

type Labelled = ManifestRow & { age: number; gender: NonNullable<ManifestRow['gender']>; ethnicity: NonNullable<ManifestRow['ethnicity']> };

const isLabelled = (r: ManifestRow): r is Labelled => r.age !== null && r.gender !== null && r.ethnicity !== null;

/**
 * Compares the labels of separate records of one image. Rows are grouped by `imageKey` (by default
 * the content hash: byte-identical files); within a group, two rows are separate records when their
 * `recordKey` differs (by default UTKFace's collection datetime, else the file name) — a re-encoded
 * copy of one record, such as a `crop_part1/` file beside its `UTKFace/` original, is the same
 * labelling, not a second one. Rows without labels are skipped.
 * @example labelAgreement(rows).ageDifferenceOver8 // 0.178 on UTKFace/: 66 of 371 record pairs
 */
export function labelAgreement(
  rows: readonly ManifestRow[],
  options: { imageKey?: (row: ManifestRow) => string | null; recordKey?: (row: ManifestRow) => string; examples?: number } = {},
): LabelAgreement {
  const imageKey = options.imageKey ?? ((r) => r.sha256);
  const recordKey = options.recordKey ?? ((r) => r.datetime ?? r.name);
  const groups = new Map<string, Labelled[]>();
  for (const row of rows) {
    const key = isLabelled(row) ? imageKey(row) : null;
    if (key === null) continue;
    const group = groups.get(key);
    if (group) group.push(row as Labelled);
    else groups.set(key, [row as Labelled]);
  }
  const pairs: Array<[Labelled, Labelled]> = [];
  let images = 0;
  for (const group of groups.values()) {
    const before = pairs.length;
    for (let i = 0; i < group.length; i++)
      for (let j = i + 1; j < group.length; j++) if (recordKey(group[i]!) !== recordKey(group[j]!)) pairs.push([group[i]!, group[j]!]);
    if (pairs.length > before) images++;
  }
  const diffs = pairs.map(([a, b]) => Math.abs(a.age - b.age));
  const share = (n: number): number => (pairs.length ? n / pairs.length : 0);
  const sorted = [...diffs].sort((x, y) => x - y);
  const median = sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  return {
    pairs: pairs.length,
    images,
    ageEqual: share(diffs.filter((d) => d === 0).length),
    meanAbsAgeDifference: share(diffs.reduce((s, d) => s + d, 0)),
    medianAbsAgeDifference: median,
    ageDifferenceOver8: share(diffs.filter((d) => d > 8).length),
    ageDifferenceOver16: share(diffs.filter((d) => d > 16).length),
    genderDisagree: share(pairs.filter(([a, b]) => a.gender !== b.gender).length),
    ethnicityDisagree: share(pairs.filter(([a, b]) => a.ethnicity !== b.ethnicity).length),
    byAbsAgeDifference: countBy(diffs, String),
    examples: pairs
      .map((p, i) => ({ p, d: diffs[i]! }))
      .sort((x, y) => y.d - x.d || x.p[0].source.localeCompare(y.p[0].source))
      .slice(0, options.examples ?? 12)
      .map(({ p: [a, b] }) => ({ a: a.source, b: b.source, ageA: a.age, ageB: b.age })),
  };
}
