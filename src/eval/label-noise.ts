/**
 * A label-noise model fitted to records that label the same image twice, and what it implies for
 * the cumulative score CS@k of any model scored against such labels.
 *
 * Noise model: a record's age label is the true age plus e, where e = 0 with probability `exact`
 * and e ~ Laplace(0, `scale`) otherwise, independently per record. Labels are integers, so a
 * continuous difference d counts as "equal" when |d| < 0.5 and as "more than k apart" when
 * |d| > k + 0.5. A model's own error is Laplace(0, s), independent of the label noise.
 */
export interface LabelNoiseModel {
  /** Probability that a record's age label carries no error. */
  exact: number;
  /** Laplace scale (years) of the error when there is one (its mean absolute value). */
  scale: number;
}

/** P(|X| > t) for X ~ Laplace(0, b). */
const laplaceTail = (b: number, t: number): number => Math.exp(-t / b);

/** P(|X + Y| > t) for independent X ~ Laplace(0, a), Y ~ Laplace(0, b). */
export function laplaceSumTail(a: number, b: number, t: number): number {
  if (a <= 0) return laplaceTail(b, t);
  if (b <= 0) return laplaceTail(a, t);
  if (Math.abs(a - b) < 1e-9 * Math.max(a, b)) return Math.exp(-t / a) * (1 + t / (2 * a));
  return (a * a * Math.exp(-t / a) - b * b * Math.exp(-t / b)) / (a * a - b * b);
}

/** E|X + Y| for independent X ~ Laplace(0, a), Y ~ Laplace(0, b). */
export function laplaceSumMeanAbs(a: number, b: number): number {
  return a + b === 0 ? 0 : (a * a + a * b + b * b) / (a + b);
}

/** What the model predicts for two records of one image: P(labels equal), P(more than k apart). */
export function pairStatistics(noise: LabelNoiseModel, k: number): { equal: number; over: number } {
  const { exact: q, scale: b } = noise;
  const one = 2 * q * (1 - q); // one record wrong: d ~ Laplace(b)
  const both = (1 - q) ** 2; // both wrong: d ~ Laplace(b) − Laplace(b)
  return {
    equal: q * q + one * (1 - laplaceTail(b, 0.5)) + both * (1 - laplaceSumTail(b, b, 0.5)),
    over: one * laplaceTail(b, k + 0.5) + both * laplaceSumTail(b, b, k + 0.5),
  };
}

/** Bisection for an increasing function: the x in [lo, hi] with f(x) = target. */
function solveIncreasing(f: (x: number) => number, target: number, lo: number, hi: number): number {
  if (f(lo) > target || f(hi) < target) throw new RangeError(`no solution in [${lo}, ${hi}] for target ${target}`);
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Fits the noise model to the observed share of record pairs with equal ages and with ages more
 * than k apart (e.g. from `labelAgreement`). With `exact` fixed at 0 it fits the scale alone to the
 * "more than k apart" share (plain Laplace noise on every record).
 * @example fitLabelNoise({ equal: 0.474, over: 0.178 }, 8) // ≈ { exact: 0.66, scale: 6.7 }
 */
export function fitLabelNoise(observed: { equal: number; over: number }, k: number, options: { exact?: 0 } = {}): LabelNoiseModel {
  if (options.exact === 0) {
    const scale = solveIncreasing((b) => pairStatistics({ exact: 0, scale: b }, k).over, observed.over, 1e-3, 1e3);
    return { exact: 0, scale };
  }
  // for a given scale, the exact share matching the equal-label share; then the scale matching the tail
  // (a scale so small that noisy records already agree that often leaves no room for exact ones: 0)
  const exactFor = (b: number): number =>
    pairStatistics({ exact: 0, scale: b }, k).equal >= observed.equal ? 0 : solveIncreasing((q) => pairStatistics({ exact: q, scale: b }, k).equal, observed.equal, 0, 1);
  const scale = solveIncreasing((b) => pairStatistics({ exact: exactFor(b), scale: b }, k).over, observed.over, 0.5, 1e3);
  return { exact: exactFor(scale), scale };
}

/** CS@k against noisy labels of a model whose own error (against the true age) is Laplace(0, s). */
export function expectedCumulativeScore(noise: LabelNoiseModel, s: number, k: number): number {
  return noise.exact * (1 - laplaceTail(s, k)) + (1 - noise.exact) * (1 - laplaceSumTail(noise.scale, s, k));
}

/** MAE against noisy labels of a model whose own error is Laplace(0, s). */
export function expectedMae(noise: LabelNoiseModel, s: number): number {
  return noise.exact * s + (1 - noise.exact) * laplaceSumMeanAbs(noise.scale, s);
}

/** The own-error scale s at which a model scores `cs` at CS@k against noisy labels. */
export function errorScaleForCumulativeScore(noise: LabelNoiseModel, cs: number, k: number): number {
  return solveIncreasing((s) => -expectedCumulativeScore(noise, s, k), -cs, 1e-6, 1e3);
}
