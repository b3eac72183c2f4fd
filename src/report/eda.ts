import { ETHNICITIES, FILE_STATUSES, GENDERS, SPLITS, type ManifestRow } from '../core/types.js';
import { AGE_BUCKETS, ageBucket } from '../data/labels.js';
import { isLabelled, type LabelledRow } from '../workspace/manifest.js';

/** Counts for the exploratory-data-analysis section, from the manifest alone. */
export interface EdaStats {
  kept: number;
  statusCounts: Array<{ status: string; count: number }>;
  ageYears: Array<{ age: number; count: number }>;
  ageDecades: Array<{ decade: string; order: number; count: number }>;
  genderCounts: Array<{ gender: string; count: number }>;
  ethnicityGender: Array<{ ethnicity: string; gender: string; count: number }>;
  pyramid: Array<{ ethnicity: string; gender: string; bucket: string; order: number; count: number; signed: number }>;
  splits: SplitStats[];
}

export interface SplitStats {
  split: string;
  count: number;
  meanAge: number | null;
  female: number | null;
  ethnicity: Record<string, number>;
  buckets: Record<string, number>;
}

/** Kept, labelled rows (whatever their split). */
export function keptRows(rows: readonly ManifestRow[]): LabelledRow[] {
  return rows.filter(isLabelled);
}

export function decadeOf(age: number): { decade: string; order: number } {
  const d = Math.min(9, Math.floor(age / 10));
  return { decade: d === 9 ? '90+' : `${d * 10}-${d * 10 + 9}`, order: d };
}

export function edaStats(rows: readonly ManifestRow[]): EdaStats {
  const kept = keptRows(rows);
  const statusCounts = FILE_STATUSES.map((status) => ({ status, count: rows.filter((r) => r.status === status).length })).filter((s) => s.count > 0);
  const years = new Map<number, number>();
  const decades = new Map<string, { decade: string; order: number; count: number }>();
  for (const r of kept) {
    years.set(r.age, (years.get(r.age) ?? 0) + 1);
    const d = decadeOf(r.age);
    const entry = decades.get(d.decade) ?? { ...d, count: 0 };
    entry.count++;
    decades.set(d.decade, entry);
  }
  const ethnicityGender = ETHNICITIES.flatMap((ethnicity) =>
    GENDERS.map((gender) => ({ ethnicity, gender, count: kept.filter((r) => r.ethnicity === ethnicity && r.gender === gender).length })),
  );
  const pyramid = ETHNICITIES.flatMap((ethnicity) =>
    GENDERS.flatMap((gender) =>
      AGE_BUCKETS.map((b, order) => {
        const count = kept.filter((r) => r.ethnicity === ethnicity && r.gender === gender && ageBucket(r.age) === b.name).length;
        return { ethnicity, gender, bucket: b.name, order, count, signed: gender === 'male' ? -count : count };
      }),
    ),
  );
  const splits = SPLITS.map((split) => splitStats(split, kept.filter((r) => r.split === split)));
  return {
    kept: kept.length,
    statusCounts,
    ageYears: [...years.entries()].sort((a, b) => a[0] - b[0]).map(([age, count]) => ({ age, count })),
    ageDecades: [...decades.values()].sort((a, b) => a.order - b.order),
    genderCounts: GENDERS.map((gender) => ({ gender, count: kept.filter((r) => r.gender === gender).length })),
    ethnicityGender,
    pyramid,
    splits,
  };
}

function splitStats(split: string, rows: readonly LabelledRow[]): SplitStats {
  const share = (pred: (r: LabelledRow) => boolean): number => (rows.length ? rows.filter(pred).length / rows.length : 0);
  return {
    split,
    count: rows.length,
    meanAge: rows.length ? rows.reduce((s, r) => s + r.age, 0) / rows.length : null,
    female: rows.length ? share((r) => r.gender === 'female') : null,
    ethnicity: Object.fromEntries(ETHNICITIES.map((e) => [e, share((r) => r.ethnicity === e)])),
    buckets: Object.fromEntries(AGE_BUCKETS.map((b) => [b.name, share((r) => ageBucket(r.age) === b.name)])),
  };
}

/** Example near-duplicate or conflicting pairs: a dropped/flagged row and the row it duplicates. */
export function duplicatePairs(rows: readonly ManifestRow[], limit: number): Array<{ a: ManifestRow; b: ManifestRow | null; status: string; reason: string }> {
  const bySource = new Map(rows.map((r) => [r.source, r]));
  const wanted = ['duplicate-near', 'conflict', 'flagged-near', 'duplicate-exact'];
  const out: Array<{ a: ManifestRow; b: ManifestRow | null; status: string; reason: string }> = [];
  for (const status of wanted) {
    for (const r of rows) {
      if (out.length >= limit) return out;
      if (r.status !== status) continue;
      const other = r.duplicateOf ? (bySource.get(r.duplicateOf) ?? null) : clusterMate(rows, r);
      out.push({ a: r, b: other, status, reason: r.reason });
      if (out.filter((p) => p.status === status).length >= Math.ceil(limit / 2)) break;
    }
  }
  return out;
}

function clusterMate(rows: readonly ManifestRow[], row: ManifestRow): ManifestRow | null {
  if (row.cluster === null) return null;
  return rows.find((r) => r !== row && r.cluster === row.cluster) ?? null;
}
