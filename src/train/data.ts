/** Training data: manifest rows → labelled items, sample weights for `--balance`, subsets for `--limit`. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { deriveSeed, mulberry32, shuffleInPlace } from '../core/random.js';
import type { Ethnicity, Gender, ManifestRow, SplitName } from '../core/types.js';
import { readManifest, rowsOfSplit } from '../workspace/manifest.js';
import { workspacePaths } from '../workspace/layout.js';

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

/**
 * Inverse-frequency weights over ethnicity × gender × age bucket, normalised to mean 1 and
 * clipped to [0.2, 5] so tiny strata cannot dominate.
 */
export function balanceWeights(items: readonly TrainItem[]): Float32Array {
  const key = (it: TrainItem): string => `${it.ethnicity}|${it.gender}|${ageBucket(it.age)}`;
  const counts = new Map<string, number>();
  for (const it of items) counts.set(key(it), (counts.get(key(it)) ?? 0) + 1);
  const strata = counts.size;
  const w = new Float32Array(items.length);
  for (let i = 0; i < items.length; i++) w[i] = items.length / (strata * counts.get(key(items[i]!))!);
  const clip = (x: number): number => Math.min(5, Math.max(0.2, x));
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i] = clip(w[i]!);
  for (let i = 0; i < w.length; i++) w[i]! *= w.length / s;
  return w;
}

/**
 * Weights that give every ethnicity the training set's age distribution (bucket share over the
 * ethnicity's own bucket share, n_bucket · n_ethnicity / (N · n_ethnicity,bucket)), so the network
 * cannot read ethnicity as a prior on age (UTKFace's Asian faces are mostly under 30); the overall
 * age and ethnicity mixes are unchanged. Clipped to [0.2, 5] and normalised to mean 1 as
 * {@link balanceWeights}.
 */
export function ethnicityAgeWeights(items: readonly TrainItem[]): Float32Array {
  const n = items.length;
  const byEth = new Map<string, number>();
  const byBucket = new Map<number, number>();
  const byBoth = new Map<string, number>();
  const both = (it: TrainItem): string => `${it.ethnicity}|${ageBucket(it.age)}`;
  for (const it of items) {
    byEth.set(it.ethnicity, (byEth.get(it.ethnicity) ?? 0) + 1);
    byBucket.set(ageBucket(it.age), (byBucket.get(ageBucket(it.age)) ?? 0) + 1);
    byBoth.set(both(it), (byBoth.get(both(it)) ?? 0) + 1);
  }
  const w = new Float32Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const it = items[i]!;
    const raw = (byBucket.get(ageBucket(it.age))! * byEth.get(it.ethnicity)!) / (n * byBoth.get(both(it))!);
    s += w[i] = Math.min(5, Math.max(0.2, raw));
  }
  for (let i = 0; i < n; i++) w[i]! *= n / s;
  return w;
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
  const bytes = await readFile(workspacePaths(workspace).manifest);
  const manifestHash = createHash('sha256').update(bytes).digest('hex');
  const of = (s: SplitName): TrainItem[] => toItems(rowsOfSplit(rows, s));
  const small = limit === undefined ? undefined : Math.max(8, Math.ceil(limit / 4));
  return {
    train: limitItems(of('train'), limit, seed, 'train'),
    val: limitItems(of('val'), small, seed, 'val'),
    test: limitItems(of('test'), small, seed, 'test'),
    manifestHash,
  };
}
