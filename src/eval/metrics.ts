/**
 * Pure evaluation metrics. Every function takes plain arrays and returns plain numbers (or null when
 * a metric is undefined for the input, e.g. AUC with one class only), so they are easy to test.
 */

/** Mean absolute error. @example mae([1, 2], [2, 4]) // 1.5 */
export function mae(actual: readonly number[], predicted: readonly number[]): number | null {
  checkSameLength(actual, predicted);
  if (actual.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(predicted[i]! - actual[i]!);
  return sum / actual.length;
}

/** Root mean squared error. @example rmse([0, 0], [3, 4]) // 3.5355… */
export function rmse(actual: readonly number[], predicted: readonly number[]): number | null {
  checkSameLength(actual, predicted);
  if (actual.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += (predicted[i]! - actual[i]!) ** 2;
  return Math.sqrt(sum / actual.length);
}

/** Mean signed error (predicted − actual): negative means the model under-estimates. */
export function meanError(actual: readonly number[], predicted: readonly number[]): number | null {
  checkSameLength(actual, predicted);
  if (actual.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += predicted[i]! - actual[i]!;
  return sum / actual.length;
}

/**
 * Cumulative score CS@k: the fraction of faces whose absolute age error is at most k years.
 * @example cumulativeScore([10, 20], [12, 30], 2) // 0.5
 */
export function cumulativeScore(actual: readonly number[], predicted: readonly number[], k: number): number | null {
  checkSameLength(actual, predicted);
  if (actual.length === 0) return null;
  let hits = 0;
  for (let i = 0; i < actual.length; i++) if (Math.abs(predicted[i]! - actual[i]!) <= k) hits++;
  return hits / actual.length;
}

/** CS@k for k = 1…maxK, keyed by k. */
export function cumulativeScores(actual: readonly number[], predicted: readonly number[], maxK = 20): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (let k = 1; k <= maxK; k++) out[String(k)] = cumulativeScore(actual, predicted, k);
  return out;
}

export interface AgeMetrics {
  count: number;
  mae: number | null;
  rmse: number | null;
  meanError: number | null;
  /** Fraction within ±8 years (the reference analysis's "correct" criterion). */
  within8: number | null;
  /** CS@k for k = 1…20. */
  cs: Record<string, number | null>;
}

export function ageMetrics(actual: readonly number[], predicted: readonly number[]): AgeMetrics {
  return {
    count: actual.length,
    mae: mae(actual, predicted),
    rmse: rmse(actual, predicted),
    meanError: meanError(actual, predicted),
    within8: cumulativeScore(actual, predicted, 8),
    cs: cumulativeScores(actual, predicted, 20),
  };
}

/** Binary classification counts with `positive` = true. */
export interface BinaryCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function binaryCounts(actual: readonly boolean[], predicted: readonly boolean[]): BinaryCounts {
  checkSameLength(actual, predicted);
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < actual.length; i++) {
    if (actual[i]) {
      if (predicted[i]) c.tp++;
      else c.fn++;
    } else if (predicted[i]) c.fp++;
    else c.tn++;
  }
  return c;
}

export interface ClassificationMetrics {
  count: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

/**
 * Accuracy, precision, recall and F1 for the positive class. Precision (recall) is null when nothing was
 * predicted (is) positive; F1 is null when either is null.
 * @example classificationMetrics(binaryCounts([true, false], [true, true])) // accuracy 0.5, precision 0.5, recall 1
 */
export function classificationMetrics(c: BinaryCounts): ClassificationMetrics {
  const n = c.tp + c.fp + c.tn + c.fn;
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : null;
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : null;
  const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { count: n, accuracy: n > 0 ? (c.tp + c.tn) / n : null, precision, recall, f1 };
}

/**
 * ROC-AUC by ranks (Mann–Whitney U): tied scores get their mean rank, so a tie between a positive
 * and a negative counts one half. Null when either class is absent.
 * @example rocAuc([true, false, true, false], [0.9, 0.1, 0.4, 0.4]) // 0.875
 */
export function rocAuc(actual: readonly boolean[], scores: readonly number[]): number | null {
  checkSameLength(actual, scores);
  const n = actual.length;
  let positives = 0;
  for (const a of actual) if (a) positives++;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPositives = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const meanRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (actual[order[k]!]) rankSumPositives += meanRank;
    i = j + 1;
  }
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface CalibrationBin {
  /** Lower edge of the probability bin. */
  low: number;
  high: number;
  count: number;
  /** Mean predicted probability in the bin (null when empty). */
  meanProbability: number | null;
  /** Observed frequency of the positive label in the bin (null when empty). */
  observedFrequency: number | null;
}

/** Reliability-diagram bins of a probability of the positive label: [0, 0.1), …, [0.9, 1]. */
export function calibrationBins(actual: readonly boolean[], probabilities: readonly number[], bins = 10): CalibrationBin[] {
  checkSameLength(actual, probabilities);
  const counts = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  for (let i = 0; i < actual.length; i++) {
    const p = probabilities[i]!;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    counts[b]!++;
    sumP[b]! += p;
    if (actual[i]) sumY[b]!++;
  }
  return counts.map((count, b) => ({
    low: b / bins,
    high: (b + 1) / bins,
    count,
    meanProbability: count > 0 ? sumP[b]! / count : null,
    observedFrequency: count > 0 ? sumY[b]! / count : null,
  }));
}

/**
 * Expected calibration error of a probability of the positive label: Σ_b (n_b / n)·|mean p_b − freq_b|
 * over equal-width bins. 0 is perfectly calibrated.
 * @example expectedCalibrationError([true, false], [0.8, 0.3]) // (|0.8−1| + |0.3−0|) / 2 = 0.25
 */
export function expectedCalibrationError(actual: readonly boolean[], probabilities: readonly number[], bins = 10): number | null {
  if (actual.length === 0) return null;
  let ece = 0;
  for (const bin of calibrationBins(actual, probabilities, bins)) {
    if (bin.count === 0) continue;
    ece += (bin.count / actual.length) * Math.abs(bin.meanProbability! - bin.observedFrequency!);
  }
  return ece;
}

export interface ConfusionMatrix {
  labels: string[];
  /** matrix[actual][predicted] = count. */
  matrix: number[][];
}

/** Confusion matrix over the given labels; values outside them are counted nowhere (and do not throw). */
export function confusionMatrix(labels: readonly string[], actual: readonly string[], predicted: readonly string[]): ConfusionMatrix {
  checkSameLength(actual, predicted);
  const index = new Map(labels.map((l, i) => [l, i]));
  const matrix = labels.map(() => labels.map(() => 0));
  for (let i = 0; i < actual.length; i++) {
    const a = index.get(actual[i]!);
    const p = index.get(predicted[i]!);
    if (a !== undefined && p !== undefined) matrix[a]![p]!++;
  }
  return { labels: [...labels], matrix };
}

/** Age decade labels for the decade confusion matrix: 0-9 … 80-89, 90+. */
export const AGE_DECADES = Object.freeze(['0-9', '10-19', '20-29', '30-39', '40-49', '50-59', '60-69', '70-79', '80-89', '90+'] as const);

/** Decade label of an age (predicted ages are continuous; they are floored). @example ageDecade(34.9) // '30-39' */
export function ageDecade(age: number): string {
  const d = Math.min(AGE_DECADES.length - 1, Math.max(0, Math.floor(age / 10)));
  return AGE_DECADES[d]!;
}

export interface GenderMetrics extends ClassificationMetrics {
  /** Positive class for precision/recall/F1. */
  positive: 'female';
  rocAuc: number | null;
  ece: number | null;
}

/** Gender metrics with `female` as the positive class, from labels and the female probability. */
export function genderMetrics(isFemale: readonly boolean[], femaleProbability: readonly number[]): GenderMetrics {
  const predicted = femaleProbability.map((p) => p >= 0.5);
  return {
    positive: 'female',
    ...classificationMetrics(binaryCounts(isFemale, predicted)),
    rocAuc: rocAuc(isFemale, femaleProbability),
    ece: expectedCalibrationError(isFemale, femaleProbability),
  };
}

function checkSameLength(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new RangeError(`Expected arrays of the same length but received ${a.length} and ${b.length}`);
}
