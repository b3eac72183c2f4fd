import { AgeGenderError } from '../core/errors.js';
import { describe } from '../core/validate.js';
import { deriveSeed, mulberry32, shuffleInPlace } from '../core/random.js';
import { SPLITS, type FaceLabels, type SplitName } from '../core/types.js';
import { connectedComponents } from './clusters.js';
import { findNearPairs, hashTableFromHex } from './hamming-index.js';
import { ageBucket } from './labels.js';

export interface SplitItem {
  labels: FaceLabels;
  phash: string;
}

export interface SplitOptions {
  /** Fractions for train, val, test; must sum to 1. */
  fractions: readonly [number, number, number];
  seed: number;
  /**
   * Images within this pHash distance are grouped and never straddle splits. `null` splits image by
   * image, as a naive random split does: near-duplicates leak across splits (for measuring that leak).
   */
  groupDistance: number | null;
}

export interface SplitResult {
  splits: SplitName[];
  /** Number of groups (connected components at groupDistance). */
  groups: number;
  /** Size of the largest group. */
  largestGroup: number;
}

export function stratumOf(labels: FaceLabels): string {
  return `${ageBucket(labels.age)}|${labels.gender}|${labels.ethnicity}`;
}

/**
 * Split shares for train, val and test: three numbers ≥ 0 that sum to 1, train and val above 0.
 * Returns them; INVALID_ARGUMENT naming `name` otherwise.
 */
export function checkSplitFractions(fractions: unknown, name = 'fractions'): readonly [number, number, number] {
  const ok =
    Array.isArray(fractions) &&
    fractions.length === 3 &&
    fractions.every((f) => typeof f === 'number' && Number.isFinite(f) && f >= 0) &&
    Math.abs((fractions as number[]).reduce((a, b) => a + b, 0) - 1) <= 1e-9 &&
    (fractions as number[])[0]! > 0 &&
    (fractions as number[])[1]! > 0;
  if (!ok) throw new AgeGenderError('INVALID_ARGUMENT', `Expected three shares (train, val, test) ≥ 0 that sum to 1, train and val above 0, for ${name} but received ${Array.isArray(fractions) ? `[${fractions.map(String).join(', ')}]` : describe(fractions)}`);
  return fractions as unknown as readonly [number, number, number];
}

/**
 * Deterministic, stratified, group-aware split. Images within `groupDistance` of each other
 * (transitively) form a group that goes to one split. Groups are stratified by age bucket × gender ×
 * ethnicity of their first member: within each stratum, groups are shuffled with a seed derived from
 * (seed, stratum) and each goes to the split furthest below its target share.
 */
export function assignSplits(items: readonly SplitItem[], options: SplitOptions): SplitResult {
  const { fractions, seed, groupDistance } = options;
  const total = fractions.reduce((a, b) => a + b, 0);
  if (fractions.some((f) => f < 0) || Math.abs(total - 1) > 1e-9) {
    throw new RangeError(`Expected split fractions that are ≥ 0 and sum to 1 but received ${fractions.join(', ')}`);
  }
  const pairs = items.length > 1 && groupDistance !== null ? findNearPairs(hashTableFromHex(items.map((i) => i.phash)), groupDistance) : [];
  const groups = connectedComponents(items.length, pairs);
  const byStratum = new Map<string, number[][]>();
  for (const group of groups) {
    const key = stratumOf(items[group[0]!]!.labels);
    const list = byStratum.get(key);
    if (list) list.push(group);
    else byStratum.set(key, [group]);
  }
  const splits: SplitName[] = new Array<SplitName>(items.length).fill('train');
  for (const key of [...byStratum.keys()].sort()) {
    const stratumGroups = shuffleInPlace(byStratum.get(key)!, mulberry32(deriveSeed(seed, key)));
    const assigned = [0, 0, 0];
    let done = 0;
    for (const group of stratumGroups) {
      const after = done + group.length;
      let best = 0;
      let bestDeficit = -Infinity;
      for (let s = 0; s < 3; s++) {
        const deficit = fractions[s]! * after - assigned[s]!;
        if (deficit > bestDeficit + 1e-12) {
          bestDeficit = deficit;
          best = s;
        }
      }
      assigned[best]! += group.length;
      done = after;
      for (const i of group) splits[i] = SPLITS[best]!;
    }
  }
  rebalanceShortSplits(splits, groups, fractions, seed);
  return { splits, groups: groups.length, largestGroup: Math.max(0, ...groups.map((g) => g.length)) };
}

/**
 * Within a stratum the first group always goes to train, so a set of many tiny strata (a few dozen
 * images) leaves val or test nearly empty (30 UTKFace chips: 28 / 2 / 0). A split more than a fifth
 * (and at least one image) short of its share then takes whole groups, in a seeded order, from the
 * split furthest over its share, as long as each move narrows both gaps. A split within that margin
 * (any ordinary data set: UTKFace's is 0.4% off at most) is left exactly as stratified.
 */
function rebalanceShortSplits(splits: SplitName[], groups: readonly number[][], fractions: readonly number[], seed: number): void {
  const n = splits.length;
  const count = SPLITS.map((name) => splits.filter((x) => x === name).length);
  const target = fractions.map((f) => f * n);
  const order = shuffleInPlace([...groups], mulberry32(deriveSeed(seed, 'rebalance')));
  for (;;) {
    const short = [0, 1, 2].filter((s) => fractions[s]! > 0 && count[s]! < target[s]! - Math.max(1, 0.2 * target[s]!)).sort((a, b) => (count[a]! - target[a]!) / target[a]! - (count[b]! - target[b]!) / target[b]!)[0];
    if (short === undefined) return;
    const donor = [0, 1, 2].reduce((b, s) => (count[s]! - target[s]! > count[b]! - target[b]! ? s : b), 0);
    const room = Math.min(target[short]! - count[short]!, count[donor]! - target[donor]!);
    const group = order.find((g) => splits[g[0]!] === SPLITS[donor] && g.length < 2 * room);
    if (!group || donor === short) return;
    for (const i of group) splits[i] = SPLITS[short]!;
    count[donor]! -= group.length;
    count[short]! += group.length;
  }
}

/** Pairs of images in different splits within `distance` (the leakage audit; 0 when the split is clean). */
export function crossSplitNearPairs(phashes: readonly string[], splits: readonly SplitName[], distance: number): Array<{ a: number; b: number; distance: number }> {
  if (phashes.length < 2) return [];
  return findNearPairs(hashTableFromHex(phashes), distance).filter((p) => splits[p.a] !== splits[p.b]);
}
