/**
 * The network a run trains, with the two task-uncertainty log-variances that balance its losses
 * (Kendall et al.): L = Σ exp(−s_t)·L_t + s_t. One per run; `dispose()` frees it.
 */
import * as tf from '@tensorflow/tfjs';
import type { CutPoint } from '../model/encoder.js';
import { AgeGenderNet } from '../model/net.js';

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Checkpoint names of the two log-variances. */
const LOG_VAR_NAMES = Object.freeze({ age: 'train/s_age', gender: 'train/s_gender' });

export class Learner {
  readonly net: AgeGenderNet;
  readonly logVars: { readonly age: tf.Variable; readonly gender: tf.Variable };
  /** Stable names for optimizer state in checkpoints (tfjs variable names differ between processes). */
  readonly stableNames: ReadonlyMap<tf.Variable, string>;
  private readonly topPrefixes: string[];

  /** Builds the network from face-api's encoder weights, which it takes over (they are disposed). */
  constructor(faceApi: tf.NamedTensorMap, options: { seed: number; cutPoint: CutPoint }) {
    this.net = new AgeGenderNet(faceApi, { trainableTop: true, seed: options.seed, cutPoint: options.cutPoint });
    for (const t of Object.values(faceApi)) t.dispose();
    this.logVars = { age: tf.variable(tf.scalar(0), true), gender: tf.variable(tf.scalar(0), true) };
    this.stableNames = new Map<tf.Variable, string>([
      ...this.net.namedWeights().map((w) => [w.tensor as tf.Variable, w.name] as const),
      [this.logVars.age, LOG_VAR_NAMES.age],
      [this.logVars.gender, LOG_VAR_NAMES.gender],
    ]);
    this.topPrefixes = this.net.encoder.layout.topBlocks.map((b) => `${b}/`);
  }

  /** A copy of the weights training can change (head and top blocks): the best-epoch snapshot. */
  snapshot(): NamedTensor[] {
    return this.net
      .namedWeights()
      .filter((w) => w.name.startsWith('head/') || this.topPrefixes.some((p) => w.name.startsWith(p)))
      .map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
  }

  /** The weights a stage trains (head and `top`) and the log-variances, by name, for a checkpoint (not copies). */
  trainedWeights(top: readonly tf.Variable[]): NamedTensor[] {
    return [
      ...this.net.namedWeights().filter((w) => w.name.startsWith('head/') || top.includes(w.tensor as tf.Variable)),
      { name: LOG_VAR_NAMES.age, tensor: this.logVars.age },
      { name: LOG_VAR_NAMES.gender, tensor: this.logVars.gender },
    ];
  }

  /** Assigns weights by name (head, encoder, log-variances); unknown names are skipped. */
  assign(weights: tf.NamedTensorMap): void {
    for (const [name, t] of Object.entries(weights)) {
      const v = this.net.head.get(name) ?? this.net.encoder.vars.get(name) ?? (name === LOG_VAR_NAMES.age ? this.logVars.age : name === LOG_VAR_NAMES.gender ? this.logVars.gender : undefined);
      if (v) v.assign(t);
    }
  }

  /** Assigns a snapshot back (e.g. the best epoch's weights). */
  restore(snapshot: readonly NamedTensor[]): void {
    this.assign(Object.fromEntries(snapshot.map((w) => [w.name, w.tensor])));
  }

  /** The two task losses combined with the learned log-variances. */
  combinedLoss(age: tf.Scalar, gender: tf.Scalar): tf.Scalar {
    const { age: sa, gender: sg } = this.logVars;
    return tf.addN([tf.mul(tf.exp(tf.neg(sa)), age), sa, tf.mul(tf.exp(tf.neg(sg)), gender), sg]) as tf.Scalar;
  }

  dispose(): void {
    this.net.dispose();
    tf.dispose([this.logVars.age, this.logVars.gender]);
  }
}
