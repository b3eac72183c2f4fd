/**
 * Accuracy–coverage of gender abstention: at a threshold t, a face is *answered* when the probability
 * of its more likely label is ≥ t; coverage is the answered share, accuracy is measured on the
 * answered faces. {@link chooseGenderThreshold} picks the lowest threshold (so the highest coverage)
 * whose answered accuracy reaches a target — on **val**; test only reports it.
 *
 * @example
 *   const t = chooseGenderThreshold(valRecords, 0.97);    // e.g. { threshold: 0.781, coverage: 0.918, accuracy: 0.970 }
 *   const s = abstentionSummary(testRecords, t.threshold); // overall and by age bucket
 */
import type { Gender } from '../core/types.js';
import { checkGenderThreshold, likelyGender } from '../core/gender.js';
import { numberInRange } from '../core/validate.js';
import { AGE_BUCKETS, ageBucket } from '../data/labels.js';

/** What abstention needs of an evaluated face. */
export interface AbstentionRecord {
  age: number;
  gender: Gender;
  femaleProbability: number;
}

/** Coverage and accuracy at one threshold. */
export interface CoveragePoint {
  threshold: number;
  /** Faces in the group. */
  count: number;
  answered: number;
  /** answered / count (null for an empty group). */
  coverage: number | null;
  /** Accuracy on the answered faces (null when none is answered). */
  accuracy: number | null;
}

export interface AbstentionGroup extends CoveragePoint {
  /** 'all', an age bucket name (`0-2` …) or `0-9`. */
  group: string;
  /** Accuracy on every face of the group, answered or not (what no abstention gives). */
  accuracyAll: number | null;
}

export interface AbstentionSummary {
  threshold: number;
  overall: AbstentionGroup;
  /** Ages 0–9 together (buckets 0-2 and 3-9), where gender is hardest. */
  children: AbstentionGroup;
  byAgeBucket: AbstentionGroup[];
  /** Accuracy–coverage curves over {@link CURVE_THRESHOLDS}: overall and per age bucket. */
  curves: Array<{ group: string; points: CoveragePoint[] }>;
}

export const ABSTENTION_DEFAULTS = Object.freeze({ targetAccuracy: 0.97 });

/** 0.50, 0.51, …, 0.99, 0.995, 0.999: the points of the report's curves. */
export const CURVE_THRESHOLDS: readonly number[] = Object.freeze([...Array.from({ length: 50 }, (_v, i) => (50 + i) / 100), 0.995, 0.999]);

const share = (n: number, d: number): number | null => (d > 0 ? n / d : null);

/** Coverage and answered accuracy of `records` at `threshold` (0–1; INVALID_ARGUMENT otherwise). */
export function coverageAt(records: readonly AbstentionRecord[], threshold: number): CoveragePoint {
  numberInRange(threshold, 'threshold', 0, 1);
  let answered = 0;
  let correct = 0;
  for (const r of records) {
    const { label, probability } = likelyGender(r.femaleProbability);
    if (probability < threshold) continue;
    answered++;
    if (label === r.gender) correct++;
  }
  return { threshold, count: records.length, answered, coverage: share(answered, records.length), accuracy: share(correct, answered) };
}

function group(name: string, records: readonly AbstentionRecord[], threshold: number): AbstentionGroup {
  const all = coverageAt(records, 0);
  return { group: name, ...coverageAt(records, threshold), accuracyAll: all.accuracy };
}

/** The summary at `threshold` (0.5–1): overall, ages 0–9, every age bucket, and the curves. */
export function abstentionSummary(records: readonly AbstentionRecord[], threshold: number): AbstentionSummary {
  checkGenderThreshold(threshold, 'threshold');
  const byBucket = AGE_BUCKETS.map((b) => b.name);
  const inBucket = (name: string): AbstentionRecord[] => records.filter((r) => ageBucket(r.age) === name);
  const curve = (rs: readonly AbstentionRecord[]): CoveragePoint[] => CURVE_THRESHOLDS.map((t) => coverageAt(rs, t));
  return {
    threshold,
    overall: group('all', records, threshold),
    children: group('0-9', records.filter((r) => r.age <= 9), threshold),
    byAgeBucket: byBucket.map((name) => group(name, inBucket(name), threshold)),
    curves: [{ group: 'all', points: curve(records) }, ...byBucket.map((name) => ({ group: name, points: curve(inBucket(name)) }))],
  };
}

/**
 * The lowest threshold on a 0.001 grid (0.500–0.999) whose answered accuracy is at least
 * `targetAccuracy` (a fraction, 0–1: 0.97, not 97): the most faces answered at that accuracy. When
 * no threshold reaches it, 0.999.
 */
export function chooseGenderThreshold(records: readonly AbstentionRecord[], targetAccuracy: number = ABSTENTION_DEFAULTS.targetAccuracy): CoveragePoint {
  numberInRange(targetAccuracy, 'targetAccuracy', 0, 1);
  for (let k = 500; k <= 999; k++) {
    const point = coverageAt(records, k / 1000);
    if (point.accuracy !== null && point.accuracy >= targetAccuracy) return point;
  }
  return coverageAt(records, 0.999);
}
