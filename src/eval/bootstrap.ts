import { mulberry32 as seededRandom } from '../core/random.js';

export interface ConfidenceInterval {
  low: number;
  high: number;
  /** Replicates where the statistic was defined (e.g. AUC needs both classes in the resample). */
  replicates: number;
}

export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  replicates?: number;
  seed?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
}

export const BOOTSTRAP_DEFAULTS = Object.freeze({ replicates: 1000, seed: 1, level: 0.95 });

/** A statistic over a resample, given as indices into the caller's data (with repeats). */
export type Statistic = (indices: Int32Array) => number | null;

/**
 * Percentile bootstrap intervals for several statistics over the same resamples (seeded, so the same
 * data and seed give the same intervals). A statistic gets null when fewer than half the replicates
 * defined it or the sample has fewer than 2 items.
 * @example bootstrapIntervals(values.length, { mean: (idx) => meanOf(idx) }, { seed: 7 })
 */
export function bootstrapIntervals<K extends string>(
  n: number,
  statistics: Record<K, Statistic>,
  options: BootstrapOptions = {},
): Record<K, ConfidenceInterval | null> {
  const replicates = options.replicates ?? BOOTSTRAP_DEFAULTS.replicates;
  const level = options.level ?? BOOTSTRAP_DEFAULTS.level;
  const keys = Object.keys(statistics) as K[];
  const out = {} as Record<K, ConfidenceInterval | null>;
  if (n < 2) {
    for (const k of keys) out[k] = null;
    return out;
  }
  const rand = seededRandom(options.seed ?? BOOTSTRAP_DEFAULTS.seed);
  const values = new Map<K, number[]>(keys.map((k) => [k, []]));
  const indices = new Int32Array(n);
  for (let r = 0; r < replicates; r++) {
    for (let i = 0; i < n; i++) indices[i] = Math.floor(rand() * n);
    for (const k of keys) {
      const v = statistics[k](indices);
      if (v !== null && Number.isFinite(v)) values.get(k)!.push(v);
    }
  }
  const alpha = (1 - level) / 2;
  for (const k of keys) {
    const v = values.get(k)!.sort((a, b) => a - b);
    out[k] = v.length < replicates / 2 ? null : { low: quantile(v, alpha), high: quantile(v, 1 - alpha), replicates: v.length };
  }
  return out;
}

/** Linear-interpolated quantile of sorted values. @example quantile([1, 2, 3, 4], 0.5) // 2.5 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
