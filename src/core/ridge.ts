/**
 * Ridge regression by the normal equations, for the small dense problems the project fits offline
 * (a few dozen features, a few thousand rows): W = (XᵀX + λ·n·D)⁻¹ XᵀY, where a column of ones is
 * appended to X for the intercept and D is the identity except for that column (the intercept is not
 * shrunk). Solved by Gauss–Jordan elimination with partial pivoting.
 *
 * @example
 *   const w = fitRidge([[0], [1], [2]], [[1], [3], [5]], 0); // [[2], [1]]: slope 2, intercept 1
 *   predictRidge(w, [3]); // [7]
 */
import { AgeGenderError } from './errors.js';

/** Weights: one row per feature, then the intercept row; one column per target. */
export type RidgeWeights = number[][];

export function fitRidge(x: readonly (readonly number[])[], y: readonly (readonly number[])[], lambda: number): RidgeWeights {
  const n = x.length;
  if (n === 0 || y.length !== n) throw new AgeGenderError('INVALID_ARGUMENT', `Expected matching non-empty feature and target rows but received ${n} and ${y.length}`);
  if (!(lambda >= 0)) throw new AgeGenderError('INVALID_ARGUMENT', `Expected lambda to be a number ≥ 0 but received ${lambda}`);
  const p = x[0]!.length + 1;
  const q = y[0]!.length;
  const m = Array.from({ length: p }, () => new Array<number>(p + q).fill(0));
  for (let r = 0; r < n; r++) {
    const row = [...x[r]!, 1];
    if (row.length !== p || y[r]!.length !== q) throw new AgeGenderError('INVALID_ARGUMENT', `row ${r} has ${row.length - 1} features and ${y[r]!.length} targets; expected ${p - 1} and ${q}`);
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) m[i]![j]! += row[i]! * row[j]!;
      for (let k = 0; k < q; k++) m[i]![p + k]! += row[i]! * y[r]![k]!;
    }
  }
  for (let i = 0; i < p - 1; i++) m[i]![i]! += lambda * n;
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    if (Math.abs(m[pivot]![c]!) < 1e-12) throw new AgeGenderError('INVALID_ARGUMENT', 'the features are linearly dependent (use lambda > 0)');
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    const d = m[c]![c]!;
    for (let k = 0; k < p + q; k++) m[c]![k]! /= d;
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      if (f !== 0) for (let k = 0; k < p + q; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row) => row.slice(p));
}

/** The fitted targets for one feature row. */
export function predictRidge(w: RidgeWeights, features: readonly number[]): number[] {
  if (features.length + 1 !== w.length) throw new AgeGenderError('INVALID_ARGUMENT', `Expected ${w.length - 1} features but received ${features.length}`);
  const q = w[0]!.length;
  const out = new Array<number>(q).fill(0);
  for (let k = 0; k < q; k++) {
    let s = w[features.length]![k]!;
    for (let i = 0; i < features.length; i++) s += features[i]! * w[i]![k]!;
    out[k] = s;
  }
  return out;
}
