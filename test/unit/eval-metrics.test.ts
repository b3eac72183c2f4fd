import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ageDecade,
  ageMetrics,
  binaryCounts,
  calibrationBins,
  classificationMetrics,
  confusionMatrix,
  cumulativeScore,
  expectedCalibrationError,
  genderMetrics,
  mae,
  rmse,
  rocAuc,
} from '../../src/eval/metrics.js';
import { bootstrapIntervals, quantile } from '../../src/eval/bootstrap.js';
import { mulberry32 as seededRandom } from '../../src/core/random.js';

const close = (a: number | null, b: number, eps = 1e-9): void => {
  assert.ok(a !== null && Math.abs(a - b) < eps, `expected ${b} but got ${a}`);
};

test('MAE, RMSE and CS@k match hand-computed values', () => {
  const actual = [10, 20, 30, 40];
  const predicted = [12, 15, 30, 49]; // errors 2, -5, 0, 9
  close(mae(actual, predicted), 16 / 4);
  close(rmse(actual, predicted), Math.sqrt((4 + 25 + 0 + 81) / 4));
  close(cumulativeScore(actual, predicted, 1), 0.25);
  close(cumulativeScore(actual, predicted, 2), 0.5);
  close(cumulativeScore(actual, predicted, 8), 0.75);
  const m = ageMetrics(actual, predicted);
  assert.equal(m.count, 4);
  close(m.meanError, (2 - 5 + 0 + 9) / 4);
  close(m.within8, 0.75);
  close(m.cs['9'] ?? null, 1);
  close(m.cs['5'] ?? null, 0.75);
  assert.equal(Object.keys(m.cs).length, 20);
  assert.equal(mae([], []), null);
  assert.throws(() => mae([1], [1, 2]), /same length/);
});

test('accuracy, precision, recall and F1 from counts', () => {
  // actual:    T T T F F F
  // predicted: T T F T F F  → tp 2, fn 1, fp 1, tn 2
  const c = binaryCounts([true, true, true, false, false, false], [true, true, false, true, false, false]);
  assert.deepEqual(c, { tp: 2, fp: 1, tn: 2, fn: 1 });
  const m = classificationMetrics(c);
  close(m.accuracy, 4 / 6);
  close(m.precision, 2 / 3);
  close(m.recall, 2 / 3);
  close(m.f1, 2 / 3);
  const none = classificationMetrics(binaryCounts([false, false], [false, false]));
  assert.equal(none.precision, null);
  assert.equal(none.recall, null);
  assert.equal(none.f1, null);
  assert.equal(none.accuracy, 1);
});

test('ROC-AUC by ranks, with ties counted one half', () => {
  close(rocAuc([true, false, true, false], [0.9, 0.1, 0.4, 0.4]), 0.875);
  close(rocAuc([true, true, false, false], [0.9, 0.8, 0.2, 0.1]), 1);
  close(rocAuc([true, true, false, false], [0.1, 0.2, 0.8, 0.9]), 0);
  close(rocAuc([true, false, true, false], [0.5, 0.5, 0.5, 0.5]), 0.5);
  assert.equal(rocAuc([true, true], [0.1, 0.2]), null);
  // agrees with the pairwise definition on random data
  const rand = seededRandom(3);
  const labels = Array.from({ length: 200 }, () => rand() < 0.4);
  const scores = Array.from({ length: 200 }, () => Math.round(rand() * 20) / 20);
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < 200; i++)
    for (let j = 0; j < 200; j++)
      if (labels[i] && !labels[j]) {
        pairs++;
        wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
  close(rocAuc(labels, scores), wins / pairs, 1e-12);
});

test('ECE over 10 bins', () => {
  close(expectedCalibrationError([true, false], [0.8, 0.3]), 0.25);
  // bin [0.7,0.8): p 0.75,0.75, observed 1/2 → |0.75-0.5| ; weights 2/3. bin [0.1,0.2): p 0.1, observed 0 → 0.1; weight 1/3
  close(expectedCalibrationError([true, false, false], [0.75, 0.75, 0.1]), (2 / 3) * 0.25 + (1 / 3) * 0.1);
  const bins = calibrationBins([true, false, true], [1, 0, 0.95]);
  assert.equal(bins.length, 10);
  assert.equal(bins[9]!.count, 2);
  assert.equal(bins[0]!.count, 1);
  close(expectedCalibrationError([true, true, false], [1, 1, 0]), 0);
  assert.equal(expectedCalibrationError([], []), null);
});

test('confusion matrices: gender and age decades', () => {
  const cm = confusionMatrix(['male', 'female'], ['male', 'male', 'female', 'female', 'female'], ['male', 'female', 'female', 'female', 'male']);
  assert.deepEqual(cm.matrix, [
    [1, 1],
    [1, 2],
  ]);
  assert.equal(ageDecade(0.4), '0-9');
  assert.equal(ageDecade(34.9), '30-39');
  assert.equal(ageDecade(116), '90+');
  assert.equal(ageDecade(-3), '0-9');
  const g = genderMetrics([true, false, true, false], [0.9, 0.2, 0.4, 0.6]);
  close(g.accuracy, 0.5);
  close(g.rocAuc, 0.75);
  assert.equal(g.positive, 'female');
});

test('bootstrap intervals are seeded and cover the estimate', () => {
  const rand = seededRandom(11);
  const values = Array.from({ length: 300 }, () => rand() * 10);
  const mean = (idx: Int32Array): number => {
    let s = 0;
    for (const i of idx) s += values[i]!;
    return s / idx.length;
  };
  const a = bootstrapIntervals(values.length, { mean }, { seed: 5, replicates: 400 });
  const b = bootstrapIntervals(values.length, { mean }, { seed: 5, replicates: 400 });
  assert.deepEqual(a, b);
  const sample = values.reduce((s, v) => s + v, 0) / values.length;
  assert.ok(a.mean && a.mean.low < sample && sample < a.mean.high);
  // standard error of the mean of U(0,10) with n = 300 is ≈ 0.167; the 95% width ≈ 0.65
  assert.ok(a.mean.high - a.mean.low > 0.45 && a.mean.high - a.mean.low < 0.85, `width ${a.mean.high - a.mean.low}`);
  assert.equal(bootstrapIntervals(1, { mean }).mean, null);
  assert.equal(bootstrapIntervals(50, { never: () => null }).never, null);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
});

test('the O(n) resampled AUC equals the rank AUC of the resample', async () => {
  const { resampledAuc } = await import('../../src/eval/slices.js');
  const rand = seededRandom(21);
  const labels = Array.from({ length: 60 }, () => rand() < 0.5);
  const scores = Array.from({ length: 60 }, () => Math.round(rand() * 10) / 10);
  const stat = resampledAuc(labels, scores);
  for (let r = 0; r < 20; r++) {
    const idx = Int32Array.from({ length: 60 }, () => Math.floor(rand() * 60));
    const expected = rocAuc(
      Array.from(idx, (i) => labels[i]!),
      Array.from(idx, (i) => scores[i]!),
    );
    close(stat(idx), expected!, 1e-12);
  }
});
