import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { mulberry32 } from '../../src/core/random.js';
import {
  errorScaleForCumulativeScore,
  expectedCumulativeScore,
  expectedMae,
  fitLabelNoise,
  laplaceSumMeanAbs,
  laplaceSumTail,
  pairStatistics,
  type LabelNoiseModel,
} from '../../src/eval/label-noise.js';

const random = mulberry32(11);
const laplace = (b: number): number => {
  const u = random() - 0.5;
  return -b * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
};
const noisyLabel = (truth: number, m: LabelNoiseModel): number => Math.round(truth + (random() < m.exact ? 0 : laplace(m.scale)));

test('the closed forms for sums of Laplace errors match a simulation', () => {
  const n = 200_000;
  let over = 0;
  let abs = 0;
  for (let i = 0; i < n; i++) {
    const x = laplace(2) + laplace(5);
    if (Math.abs(x) > 8) over++;
    abs += Math.abs(x);
  }
  assert.ok(Math.abs(over / n - laplaceSumTail(2, 5, 8)) < 0.004, `${over / n} vs ${laplaceSumTail(2, 5, 8)}`);
  assert.ok(Math.abs(abs / n - laplaceSumMeanAbs(2, 5)) < 0.03, `${abs / n} vs ${laplaceSumMeanAbs(2, 5)}`);
  // equal scales use the limit, continuous with the general formula
  assert.ok(Math.abs(laplaceSumTail(3, 3, 8) - laplaceSumTail(3, 3.000001, 8)) < 1e-5);
  assert.equal(laplaceSumTail(0, 3, 8), Math.exp(-8 / 3));
});

test('pair statistics match simulated pairs of integer labels, and the fit recovers the model from them', () => {
  const truth: LabelNoiseModel = { exact: 0.6, scale: 7 };
  const n = 200_000;
  let equal = 0;
  let over = 0;
  for (let i = 0; i < n; i++) {
    const age = 20 + random() * 40;
    const d = Math.abs(noisyLabel(age, truth) - noisyLabel(age, truth));
    if (d === 0) equal++;
    if (d > 8) over++;
  }
  const predicted = pairStatistics(truth, 8);
  assert.ok(Math.abs(equal / n - predicted.equal) < 0.006, `equal ${equal / n} vs ${predicted.equal}`);
  assert.ok(Math.abs(over / n - predicted.over) < 0.006, `over ${over / n} vs ${predicted.over}`);
  const fitted = fitLabelNoise(predicted, 8);
  assert.ok(Math.abs(fitted.exact - 0.6) < 1e-6 && Math.abs(fitted.scale - 7) < 1e-6, JSON.stringify(fitted));
  const plain = fitLabelNoise(predicted, 8, { exact: 0 });
  assert.equal(plain.exact, 0);
  assert.ok(Math.abs(pairStatistics(plain, 8).over - predicted.over) < 1e-9);
});

test('expected CS@k and MAE of a model against noisy labels: simulation, the noise-free ceiling, and the inverse', () => {
  const noise: LabelNoiseModel = { exact: 0.65, scale: 6.5 };
  const s = 3;
  const n = 200_000;
  let hits = 0;
  let abs = 0;
  for (let i = 0; i < n; i++) {
    const age = 20 + random() * 40;
    const err = age + laplace(s) - (age + (random() < noise.exact ? 0 : laplace(noise.scale)));
    if (Math.abs(err) <= 8) hits++;
    abs += Math.abs(err);
  }
  assert.ok(Math.abs(hits / n - expectedCumulativeScore(noise, s, 8)) < 0.004);
  assert.ok(Math.abs(abs / n - expectedMae(noise, s)) < 0.03);
  // a perfect model still misses the records whose label is more than 8 years off
  const ceiling = noise.exact + (1 - noise.exact) * (1 - Math.exp(-8 / noise.scale));
  assert.ok(Math.abs(expectedCumulativeScore(noise, 1e-9, 8) - ceiling) < 1e-9);
  assert.ok(Math.abs(errorScaleForCumulativeScore(noise, expectedCumulativeScore(noise, s, 8), 8) - s) < 1e-6);
  assert.throws(() => errorScaleForCumulativeScore(noise, ceiling + 0.01, 8), RangeError);
});
