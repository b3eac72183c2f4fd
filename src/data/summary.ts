import { countBy } from '../core/count.js';
import { percent } from '../core/format.js';
import { SPLITS, type FileStatus, type ManifestRow, type SplitName } from '../core/types.js';
import type { DedupResult } from './dedup.js';
import { ageBucket } from './labels.js';
import { labelAgreement } from './label-agreement.js';
import type { SplitResult } from './split.js';
import type { LabelAgreement, LabelDistribution, PrepareSummary } from '../workspace/summary.js';

export type { LabelDistribution, PrepareSummary } from '../workspace/summary.js';

function distribution(rows: readonly ManifestRow[]): LabelDistribution {
  const ageSum = rows.reduce((sum, r) => sum + r.age!, 0);
  return {
    count: rows.length,
    gender: countBy(rows, (r) => r.gender!),
    ethnicity: countBy(rows, (r) => r.ethnicity!),
    ageBucket: countBy(rows, (r) => ageBucket(r.age!)),
    meanAge: rows.length ? Math.round((ageSum / rows.length) * 100) / 100 : 0,
  };
}

export function summarize(input: {
  rows: readonly ManifestRow[];
  ignored: number;
  dedup: DedupResult;
  split: SplitResult;
  crossSplitPairs: Array<{ a: string; b: string; distance: number }>;
  settings: PrepareSummary['settings'];
  timings: PrepareSummary['timings'];
  command: string | null;
}): PrepareSummary {
  const { rows, dedup } = input;
  const statusCounts = { kept: 0, unreadable: 0, 'invalid-label': 0, 'duplicate-exact': 0, 'duplicate-near': 0, conflict: 0, 'flagged-near': 0 } as Record<FileStatus, number>;
  for (const r of rows) statusCounts[r.status]++;
  const readable = rows.filter((r) => r.status !== 'unreadable').length;
  const kept = rows.filter((r) => r.status === 'kept');
  const counts = {} as Record<SplitName, number>;
  const distributions = {} as Record<SplitName, LabelDistribution>;
  for (const s of SPLITS) {
    const inSplit = kept.filter((r) => r.split === s);
    counts[s] = inSplit.length;
    distributions[s] = distribution(inSplit);
  }
  return {
    settings: input.settings,
    command: input.command,
    files: rows.length,
    ignoredNonImages: input.ignored,
    unreadable: rows.filter((r) => r.status === 'unreadable').map((r) => ({ source: r.source, reason: r.reason })),
    invalidLabels: rows.filter((r) => r.status === 'invalid-label').map((r) => ({ source: r.source, reason: r.reason })),
    exactUnique: dedup.exactUnique,
    exactDuplicates: readable - dedup.exactUnique,
    nearPairs: dedup.nearPairs,
    clusters: dedup.clusters.length,
    flagged: dedup.flagged,
    unflagged: dedup.exactUnique - dedup.flagged,
    kept: kept.length,
    statusCounts,
    droppedClusters: dedup.clusters
      .filter((c) => c.outcome !== 'kept-one')
      .map(({ id, outcome, reason, members }) => ({ id, outcome, reason, members })),
    examplePairs: dedup.clusters
      .filter((c) => c.example !== null)
      .map((c) => c.example!)
      .sort((a, b) => a.distance - b.distance || a.a.localeCompare(b.a))
      .slice(0, 24),
    split: { groups: input.split.groups, largestGroup: input.split.largestGroup, counts, distributions },
    crossSplitNearPairs: {
      distance: input.settings.auditDistance,
      groupDistance: input.settings.groupDistance,
      count: input.crossSplitPairs.length,
      withinGroupDistance: input.crossSplitPairs.filter((p) => p.distance <= input.settings.groupDistance).length,
      byDistance: countBy(input.crossSplitPairs, (p) => String(p.distance)),
      examples: input.crossSplitPairs.slice(0, 20),
    },
    labelAgreement: {
      identicalBytes: labelAgreement(rows),
      sameCluster: labelAgreement(rows, { imageKey: (r) => (r.cluster === null ? null : String(r.cluster)) }),
    },
    timings: input.timings,
  };
}

function labelAgreementLine(a: LabelAgreement): string {
  return a.pairs === 0
    ? 'label agreement       no byte-identical image under two records'
    : `label agreement       ${a.pairs.toLocaleString('en-US')} record pairs of byte-identical images: ages differ by > 8 years in ${percent(a.ageDifferenceOver8)}, genders in ${percent(a.genderDisagree)}`;
}

/** A short human-readable account of a summary, for the terminal. */
export function formatSummary(s: PrepareSummary): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const lines = [
    `files seen            ${n(s.files)}${s.ignoredNonImages ? ` (+${n(s.ignoredNonImages)} non-image files ignored)` : ''}`,
    `unreadable            ${n(s.unreadable.length)}`,
    `invalid labels        ${n(s.invalidLabels.length)}`,
    `exact-unique          ${n(s.exactUnique)} (${n(s.exactDuplicates)} byte-identical copies)`,
    `near pairs (≤${s.settings.threshold})       ${n(s.nearPairs)}`,
    `clusters              ${n(s.clusters)}`,
    `flagged               ${n(s.flagged)} (exact-unique images with a near twin)`,
    `kept (${s.settings.policy})${' '.repeat(Math.max(1, 15 - s.settings.policy.length))}${n(s.kept)}`,
    `dropped clusters      ${n(s.droppedClusters.length)} (${n(s.droppedClusters.filter((c) => c.outcome === 'dropped-conflict').length)} for conflicting labels)`,
    `splits                train ${n(s.split.counts.train)} · val ${n(s.split.counts.val)} · test ${n(s.split.counts.test)} (${n(s.split.groups)} groups within distance ${s.settings.groupDistance}; largest ${n(s.split.largestGroup)})`,
    `cross-split pairs ≤${s.crossSplitNearPairs.distance}  ${n(s.crossSplitNearPairs.count)} (${n(s.crossSplitNearPairs.withinGroupDistance)} within ${s.settings.groupDistance})`,
    labelAgreementLine(s.labelAgreement.identicalBytes),
    `time                  ${s.timings.totalSeconds.toFixed(1)} s (hashing ${s.timings.hashSeconds.toFixed(1)} s; cache ${n(s.timings.cacheHits)} hits, ${n(s.timings.cacheMisses)} misses)`,
  ];
  for (const u of s.unreadable.slice(0, 10)) lines.push(`  unreadable: ${u.source}: ${u.reason}`);
  if (s.unreadable.length > 10) lines.push(`  … ${s.unreadable.length - 10} more unreadable (see manifest)`);
  for (const u of s.invalidLabels.slice(0, 10)) lines.push(`  invalid label: ${u.source}: ${u.reason}`);
  if (s.invalidLabels.length > 10) lines.push(`  … ${s.invalidLabels.length - 10} more invalid labels (see manifest)`);
  return lines.join('\n');
}
