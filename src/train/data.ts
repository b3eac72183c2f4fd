/** Training data: manifest rows → labelled items, sample weights for `--balance`, subsets for `--limit`. */
import { deriveSeed, mulberry32, shuffleInPlace } from '../core/random.js';
import type { Ethnicity, Gender, ManifestRow, SplitName } from '../core/types.js';
import { manifestSha256, readManifest, rowsOfSplit } from '../workspace/manifest.js';

export interface TrainItem {
  source: string;
  hash: string | undefined;
  age: number;
  gender: Gender;
  ethnicity: Ethnicity;
}

/** Age buckets used for balancing (and reported in the docs). */
export const BALANCE_AGE_BUCKETS = Object.freeze([0, 3, 10, 20, 30, 40, 50, 60, 70] as const);

export function ageBucket(age: number): number {
  let b = 0;
  for (let i = 0; i < BALANCE_AGE_BUCKETS.length; i++) if (age >= BALANCE_AGE_BUCKETS[i]!) b = i;
  return b;
}

export function toItems(rows: readonly ManifestRow[]): TrainItem[] {
  const out: TrainItem[] = [];
  for (const r of rows) {
    if (r.age === null || r.gender === null || r.ethnicity === null) continue;
    out.push({ source: r.source, hash: undefined, age: r.age, gender: r.gender, ethnicity: r.ethnicity });
  }
  return out;
}

/** Deterministic subset of at most `n` items (seeded shuffle, then original order kept). */
export function limitItems<T>(items: readonly T[], n: number | undefined, seed: number, key: string): T[] {
  if (n === undefined || n >= items.length) return [...items];
  const idx = shuffleInPlace(items.map((_, i) => i), mulberry32(deriveSeed(seed, key))).slice(0, n).sort((a, b) => a - b);
  return idx.map((i) => items[i]!);
}

/** Inverse-frequency weights over ethnicity × gender × age bucket ({@link clippedMeanOne}). */
export function balanceWeights(items: readonly TrainItem[]): Float32Array {
  const key = (it: TrainItem): string => `${it.ethnicity}|${it.gender}|${ageBucket(it.age)}`;
  const counts = countBy(items, key);
  return clippedMeanOne(items.map((it) => items.length / (counts.size * counts.get(key(it))!)));
}

/** How many items share each key. */
function countBy<K>(items: readonly TrainItem[], key: (it: TrainItem) => K): Map<K, number> {
  const counts = new Map<K, number>();
  for (const it of items) counts.set(key(it), (counts.get(key(it)) ?? 0) + 1);
  return counts;
}

/** Sample weights clipped to [0.2, 5] so tiny strata cannot dominate, then scaled to mean 1. */
function clippedMeanOne(raw: readonly number[]): Float32Array {
  const w = new Float32Array(raw.length);
  let s = 0;
  for (let i = 0; i < raw.length; i++) s += w[i] = Math.min(5, Math.max(0.2, Math.fround(raw[i]!))); // clipped as stored (float32)
  for (let i = 0; i < w.length; i++) w[i]! *= w.length / s;
  return w;
}

/**
 * Weights that give every ethnicity the training set's age distribution (bucket share over the
 * ethnicity's own bucket share, n_bucket · n_ethnicity / (N · n_ethnicity,bucket)), so the network
 * cannot read ethnicity as a prior on age (UTKFace's Asian faces are mostly under 30); the overall
 * age and ethnicity mixes are unchanged ({@link clippedMeanOne}).
 */
export function ethnicityAgeWeights(items: readonly TrainItem[]): Float32Array {
  const bucket = (it: TrainItem): number => ageBucket(it.age);
  const both = (it: TrainItem): string => `${it.ethnicity}|${ageBucket(it.age)}`;
  const byEth = countBy(items, (it) => it.ethnicity);
  const byBucket = countBy(items, bucket);
  const byBoth = countBy(items, both);
  return clippedMeanOne(items.map((it) => (byBucket.get(bucket(it))! * byEth.get(it.ethnicity)!) / (items.length * byBoth.get(both(it))!)));
}

export interface SplitItems {
  train: TrainItem[];
  val: TrainItem[];
  test: TrainItem[];
  manifestHash: string;
}

/** Reads the workspace manifest, returns kept labelled rows per split and the manifest's sha256. */
export async function loadSplits(workspace: string, limit?: number, seed = 42): Promise<SplitItems> {
  const rows = await readManifest(workspace);
  const manifestHash = await manifestSha256(workspace);
  const of = (s: SplitName): TrainItem[] => toItems(rowsOfSplit(rows, s));
  const small = limit === undefined ? undefined : Math.max(8, Math.ceil(limit / 4));
  return {
    train: limitItems(of('train'), limit, seed, 'train'),
    val: limitItems(of('val'), small, seed, 'val'),
    test: limitItems(of('test'), small, seed, 'test'),
    manifestHash,
  };
}
