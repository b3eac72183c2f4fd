/**
 * Stage 1's inputs: the frozen top blocks' output for every cached copy (computed once, since the
 * encoder does not change in stage 1), and the head's input standardisation fitted on them.
 */
import * as tf from '@tensorflow/tfjs';
import type { AgeGenderNet } from '../model/net.js';
import { cutBatch, pooledBatch, type Features } from './batches.js';
import type { TrainData } from './features.js';

/** Top-block outputs of train (every copy, item-major: row i·copies + k) and val (originals). Caller disposes. */
export interface TopFeatures {
  train: tf.Tensor2D;
  val: tf.Tensor2D;
}

const BATCH = 128;

/** The top blocks' output for `v` copies of every item, item-major (i·v + k). */
function computeTop(net: AgeGenderNet, f: Features, v: number): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  const n = f.items.length;
  for (let s = 0; s < n; s += BATCH) {
    const idx = Array.from({ length: Math.min(BATCH, n - s) }, (_, k) => s + k);
    for (let k = 0; k < v; k++) parts.push(tf.tidy(() => net.encoder.top(cutBatch(f, idx, idx.map(() => k), v))));
  }
  // reorder to item-major (i*v + k)
  const out = tf.tidy(() => {
    if (v === 1) return tf.concat(parts, 0);
    const chunks: tf.Tensor2D[] = [];
    for (let c = 0; c < parts.length; c += v) chunks.push(tf.reshape(tf.stack(parts.slice(c, c + v), 1), [-1, f.layout.topDim]));
    return tf.concat(chunks, 0);
  });
  tf.dispose(parts);
  return out;
}

export function topFeatures(net: AgeGenderNet, data: TrainData): TopFeatures {
  return { train: computeTop(net, data.train, data.train.copies), val: computeTop(net, data.val, 1) };
}

/** Sets the head's input standardisation to the mean and std of the training features (original images). */
export async function standardise(net: AgeGenderNet, data: TrainData, top: TopFeatures): Promise<void> {
  const tr = data.train;
  const stats = tf.tidy(() => {
    const idx = tr.items.map((_, i) => i);
    const feats = tf.concat([tf.gather(top.train, tf.tensor1d(idx.map((i) => i * tr.copies), 'int32')), pooledBatch(tr, idx, idx.map(() => 0), tr.copies)], 1);
    const { mean, variance } = tf.moments(feats, 0);
    return [mean, tf.sqrt(tf.add(variance, 1e-6))];
  });
  net.setStandardisation((await stats[0]!.data()) as Float32Array, (await stats[1]!.data()) as Float32Array);
  tf.dispose(stats);
}
