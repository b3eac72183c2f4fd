/**
 * The two task losses and the age targets they compare against. Tensors made here belong to the
 * caller's scope (`tf.tidy`, `tf.variableGrads`): nothing is kept between calls.
 */
import * as tf from '@tensorflow/tfjs';
import { AGE_BINS, ageLabelDistribution, labelSigmaAt, MAX_AGE } from '../model/ageBins.js';
import type { NetOutputs } from '../model/net.js';
import type { AgeLoss } from './options.js';

/** Soft targets for every whole age 0…MAX_AGE: σ(age) = sigma + slope · age. */
export function labelTable(sigma: number, slope: number): Float32Array[] {
  return Array.from({ length: MAX_AGE + 1 }, (_, a) => ageLabelDistribution(a, labelSigmaAt(a, sigma, slope)));
}

/** The expected age of each row of age logits (softmax over the bins 0…MAX_AGE). */
export function expectedAge(ageLogits: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(tf.softmax(ageLogits), ageBins()), 1);
}

/** 0…MAX_AGE as a float32 tensor. */
function ageBins(): tf.Tensor1D {
  return tf.range(0, AGE_BINS, 1, 'float32');
}

/**
 * Per-batch losses: age = KL(label distribution ‖ prediction) + |E[age] − age| / ageScale (or one
 * of the two terms, `ageLoss`); gender = cross-entropy (also used by experiments/encoder-probe.ts).
 */
export function taskLosses(out: NetOutputs, ageTarget: tf.Tensor2D, ages: tf.Tensor1D, female: tf.Tensor1D, w: tf.Tensor1D, ageScale: number, ageLoss: AgeLoss = 'kl+l1'): { age: tf.Scalar; gender: tf.Scalar } {
  const logp = tf.logSoftmax(out.ageLogits);
  const kl = (): tf.Tensor1D => tf.sum(tf.mul(ageTarget, tf.sub(tf.log(tf.add(ageTarget, 1e-12)), logp)), 1);
  const l1 = (): tf.Tensor1D => tf.div(tf.abs(tf.sub(tf.sum(tf.mul(tf.exp(logp), ageBins()), 1), ages)), ageScale);
  const perSample = ageLoss === 'kl' ? kl() : ageLoss === 'l1' ? l1() : tf.add(kl(), l1());
  const lg = tf.logSoftmax(out.genderLogits);
  const ce = tf.neg(tf.add(tf.mul(tf.sub(1, female), tf.squeeze(tf.slice(lg, [0, 0], [-1, 1]), [1])), tf.mul(female, tf.squeeze(tf.slice(lg, [0, 1], [-1, 1]), [1]))));
  const wsum = tf.sum(w);
  return {
    age: tf.div(tf.sum(tf.mul(w, perSample)), wsum) as tf.Scalar,
    gender: tf.div(tf.sum(tf.mul(w, ce)), wsum) as tf.Scalar,
  };
}

/** The identity whose gradient is zero: a target that the loss may not move (TF's stop_gradient). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const identity = tf.customGrad(((t: tf.Tensor) => ({ value: tf.clone(t), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return identity(x) as T;
}

/**
 * Consistency losses between two copies of the same chips (rows of `anchor` and `copy` pair up):
 * age = KL(p_anchor ‖ p_copy) + |E_anchor − E_copy| / ageScale over the 101-bin softmax, gender =
 * KL of the two-class softmax, weighted means with `w`. The anchor is a fixed target (its gradient
 * is stopped), so the loss moves the copy's prediction towards the anchor's and not the reverse.
 */
export function consistencyLosses(anchor: NetOutputs, copy: NetOutputs, w: tf.Tensor1D, ageScale: number): { age: tf.Scalar; gender: tf.Scalar } {
  const kl = (pLogits: tf.Tensor2D, qLogits: tf.Tensor2D): tf.Tensor1D => {
    const logp = stopGradient(tf.logSoftmax(pLogits));
    return tf.sum(tf.mul(tf.exp(logp), tf.sub(logp, tf.logSoftmax(qLogits))), 1);
  };
  const l1 = tf.div(tf.abs(tf.sub(stopGradient(expectedAge(anchor.ageLogits)), expectedAge(copy.ageLogits))), ageScale);
  const wsum = tf.sum(w);
  return {
    age: tf.div(tf.sum(tf.mul(w, tf.add(kl(anchor.ageLogits, copy.ageLogits), l1))), wsum) as tf.Scalar,
    gender: tf.div(tf.sum(tf.mul(w, kl(anchor.genderLogits, copy.genderLogits))), wsum) as tf.Scalar,
  };
}
