/** The validate step: one forward pass over the val split (original images) → metrics and losses. */
import * as tf from '@tensorflow/tfjs';
import { binaryCounts, classificationMetrics, cumulativeScore, mae as maeOf } from '../eval/metrics.js';
import type { AgeGenderNet } from '../model/net.js';
import { cutBatch, pooledBatch, targets } from './batches.js';
import type { TrainData } from './features.js';
import { expectedAge, taskLosses } from './losses.js';
import type { AgeLoss } from './options.js';

export interface ValMetrics {
  mae: number;
  cs8: number;
  acc: number;
  ageLoss: number;
  genderLoss: number;
}

const BATCH = 256;

/**
 * Scores the network on val: from the cut activations, or (stage 1, `fromTopFeat`) from the val
 * split's precomputed top features. `labels`: the soft age targets (losses.ts labelTable).
 */
export async function validate(net: AgeGenderNet, data: TrainData, labels: readonly Float32Array[], ageLoss: AgeLoss, fromTopFeat: tf.Tensor2D | null): Promise<ValMetrics> {
  const va = data.val;
  const n = va.items.length;
  const ageE = new Float32Array(n);
  const fem = new Float32Array(n);
  let ageL = 0;
  let genL = 0;
  for (let s = 0; s < n; s += BATCH) {
    const idx = Array.from({ length: Math.min(BATCH, n - s) }, (_, k) => s + k);
    const zeros = idx.map(() => 0);
    const res = tf.tidy(() => {
      const outp = fromTopFeat
        ? net.headForward(tf.concat([tf.slice(fromTopFeat, [s, 0], [idx.length, va.layout.topDim]), pooledBatch(va, idx, zeros, 1)], 1))
        : net.forwardFromCut(cutBatch(va, idx, zeros, 1), pooledBatch(va, idx, zeros, 1));
      const t = targets(va, idx, labels);
      const l = taskLosses(outp, t.ageTarget, t.ages, t.female, t.w, data.ageScale, ageLoss);
      const g = tf.squeeze(tf.slice(tf.softmax(outp.genderLogits), [0, 1], [-1, 1]), [1]);
      return [expectedAge(outp.ageLogits), g, tf.mul(l.age, idx.length), tf.mul(l.gender, idx.length)] as tf.Tensor[];
    });
    const [e, g, la, lgn] = await Promise.all(res.map((t) => t.data()));
    ageE.set(e as Float32Array, s);
    fem.set(g as Float32Array, s);
    ageL += (la as Float32Array)[0]!;
    genL += (lgn as Float32Array)[0]!;
    tf.dispose(res);
  }
  // the evaluator's own metric functions, so the logged val figures mean what the reports' do
  const actual = Array.from(va.ages);
  const predicted = Array.from(ageE);
  const gender = classificationMetrics(binaryCounts(Array.from(va.female, (f) => f === 1), Array.from(fem, (p) => p >= 0.5)));
  return { mae: maeOf(actual, predicted)!, cs8: cumulativeScore(actual, predicted, 8)!, acc: gender.accuracy!, ageLoss: ageL / n, genderLoss: genL / n };
}
