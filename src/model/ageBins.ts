/**
 * Age as a distribution over one-year bins (0…MAX_AGE), read out as the expected value.
 * Training targets are Gaussian label distributions around the true age (DLDL).
 */
export const MAX_AGE = 100;
export const AGE_BINS = MAX_AGE + 1;
/** Width (years) of the Gaussian label distribution used as the training target. */
export const LABEL_SIGMA = 2.5;

/**
 * Width of the label distribution for one age: `sigma + slope · age` years, at least 0.5. A slope > 0
 * widens the target where annotations are less precise (UTKFace's older ages are noisier).
 */
export function labelSigmaAt(age: number, sigma = LABEL_SIGMA, slope = 0): number {
  return Math.max(0.5, sigma + slope * Math.min(Math.max(age, 0), MAX_AGE));
}

/** Soft target for one age: Gaussian over bins, normalised to sum 1. */
export function ageLabelDistribution(age: number, sigma = LABEL_SIGMA): Float32Array {
  const a = Math.min(Math.max(age, 0), MAX_AGE);
  const out = new Float32Array(AGE_BINS);
  let sum = 0;
  for (let k = 0; k < AGE_BINS; k++) {
    const v = Math.exp(-((k - a) ** 2) / (2 * sigma * sigma));
    out[k] = v;
    sum += v;
  }
  for (let k = 0; k < AGE_BINS; k++) out[k]! /= sum;
  return out;
}

/** Expected age of a probability vector over bins. */
export function expectedAge(p: ArrayLike<number>): number {
  let e = 0;
  for (let k = 0; k < AGE_BINS; k++) e += k * (p[k] ?? 0);
  return e;
}

/**
 * Central interval holding `mass` of the distribution (default 80%: 10th…90th percentile),
 * linearly interpolated inside bins (bin k spans k−0.5…k+0.5), clipped at 0.
 */
export function ageInterval(p: ArrayLike<number>, mass = 0.8): [number, number] {
  const lo = (1 - mass) / 2;
  const hi = 1 - lo;
  const quantile = (q: number): number => {
    let c = 0;
    for (let k = 0; k < AGE_BINS; k++) {
      const pk = p[k] ?? 0;
      if (c + pk >= q && pk > 0) return Math.max(0, k - 0.5 + (q - c) / pk);
      c += pk;
    }
    return MAX_AGE + 0.5;
  };
  return [quantile(lo), quantile(hi)];
}
