/**
 * The cached features of one split in memory, and the batches cut from them: cut activations
 * (stored as float16 bits, decoded per batch), pooled features, and the per-sample targets.
 */
import * as tf from '@tensorflow/tfjs';
import { AGE_BINS, MAX_AGE } from '../model/ageBins.js';
import type { CutLayout } from '../model/encoder.js';
import { decodeHalfInto } from '../model/half.js';
import type { TrainItem } from './data.js';

export interface Features {
  items: TrainItem[];
  /** The cut the cached activations belong to (their shape and widths). */
  layout: CutLayout;
  /** Items whose cache entry holds a real mirrored variant (the others repeat the original). */
  mirroredCount: number;
  /** Copies per item: 1 (val: the original), 2 (original, mirror), 4 or 6 (+ two jittered and/or two photo-like copies). */
  copies: number;
  /** N × copies × layout.cutSize float16 bits (orig, mirror[, jitter 0, jitter 1][, photo 0, photo 1]). */
  cut: Uint16Array;
  /** N × copies × layout.pooledDim. */
  pooled: Float32Array;
  ages: Float32Array;
  female: Float32Array;
  weights: Float32Array;
}

/** Per-sample targets of a batch (caller disposes). */
export interface Targets {
  ageTarget: tf.Tensor2D;
  ages: tf.Tensor1D;
  female: tf.Tensor1D;
  w: tf.Tensor1D;
}

/** Cut activations of items `idx`, copy `variants[b]` of each (of `v` copies per item). */
export function cutBatch(f: Features, idx: readonly number[], variants: readonly number[], v: number): tf.Tensor4D {
  const { cutSize, cutShape } = f.layout;
  const out = new Float32Array(idx.length * cutSize);
  for (let b = 0; b < idx.length; b++) {
    const off = (idx[b]! * v + variants[b]!) * cutSize;
    decodeHalfInto(f.cut.subarray(off, off + cutSize), out, b * cutSize);
  }
  return tf.tensor4d(out, [idx.length, ...cutShape]);
}

/** Pooled features of items `idx`, copy `variants[b]` of each. */
export function pooledBatch(f: Features, idx: readonly number[], variants: readonly number[], v: number): tf.Tensor2D {
  const { pooledDim } = f.layout;
  const out = new Float32Array(idx.length * pooledDim);
  for (let b = 0; b < idx.length; b++) {
    const off = (idx[b]! * v + variants[b]!) * pooledDim;
    out.set(f.pooled.subarray(off, off + pooledDim), b * pooledDim);
  }
  return tf.tensor2d(out, [idx.length, pooledDim]);
}

/** Soft age targets (from `table`, one row per whole age), ages, gender and sample weights of items `idx`. */
export function targets(f: Features, idx: readonly number[], table: readonly Float32Array[]): Targets {
  const t = new Float32Array(idx.length * AGE_BINS);
  idx.forEach((i, b) => t.set(table[Math.min(MAX_AGE, Math.max(0, Math.round(f.ages[i]!)))]!, b * AGE_BINS));
  return {
    ageTarget: tf.tensor2d(t, [idx.length, AGE_BINS]),
    ages: tf.tensor1d(idx.map((i) => Math.min(MAX_AGE, f.ages[i]!))),
    female: tf.tensor1d(idx.map((i) => f.female[i]!)),
    w: tf.tensor1d(idx.map((i) => f.weights[i]!)),
  };
}
