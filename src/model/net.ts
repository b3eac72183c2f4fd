/**
 * The whole network: face-api's ResNet encoder (frozen stem + trainable top) and a two-head MLP.
 * One forward pass gives age-bin logits and gender logits.
 *
 *   image → preprocess → stem → cut (8×8×128) ─ top → GAP of the last block ‖ of conv256_down (512) ┐
 *                              └ pooled stage features (224) ───────────────────────────────────┴→ standardise → dense 256 (relu)
 *                                                                                                    ├→ age logits (101 bins)
 *                                                                                                    └→ gender logits (male, female)
 *
 * (That is train's default cut, conv128_2, which the shipped model uses. At conv256_down / conv256_1 the cut is 4×4×256, the top gives
 * GAP of the last block (256) and the stem's pooled features are 480 wide: 736 in every case.)
 */
import * as tf from '@tensorflow/tfjs';
import { AGE_BINS } from './ageBins.js';
import { FaceRecEncoder, FEATURE_DIM } from './encoder.js';

/** The head's input width (the same at every cut point). */
export const HEAD_IN = FEATURE_DIM;
export const HIDDEN = 256;

/** Names of the head's weights (all prefixed `head/`). */
export const HEAD_WEIGHTS = Object.freeze(['head/mu', 'head/sigma', 'head/w1', 'head/b1', 'head/wAge', 'head/bAge', 'head/wGender', 'head/bGender'] as const);

export type NetOutputs = {
  ageLogits: tf.Tensor2D;
  genderLogits: tf.Tensor2D;
};

/** Initial head weights (He-normal, seeded). */
export function initHeadWeights(seed: number): tf.NamedTensorMap {
  return {
    'head/mu': tf.zeros([HEAD_IN]),
    'head/sigma': tf.ones([HEAD_IN]),
    'head/w1': tf.randomNormal([HEAD_IN, HIDDEN], 0, Math.sqrt(2 / HEAD_IN), 'float32', seed),
    'head/b1': tf.zeros([HIDDEN]),
    'head/wAge': tf.randomNormal([HIDDEN, AGE_BINS], 0, Math.sqrt(1 / HIDDEN), 'float32', seed + 1),
    'head/bAge': tf.zeros([AGE_BINS]),
    'head/wGender': tf.randomNormal([HIDDEN, 2], 0, Math.sqrt(1 / HIDDEN), 'float32', seed + 2),
    'head/bGender': tf.zeros([2]),
  };
}

export class AgeGenderNet {
  readonly encoder: FaceRecEncoder;
  readonly head: Map<string, tf.Variable>;

  /** `weights`: encoder weights (face-api names) + `head/*`; missing head weights are initialised. */
  /** `cutPoint`: where the frozen stem ends (see `cutLayout`; default conv256_1). */
  constructor(weights: tf.NamedTensorMap, options: { trainableTop?: boolean; trainableHead?: boolean; seed?: number; cutPoint?: string } = {}) {
    const enc: tf.NamedTensorMap = {};
    const head: tf.NamedTensorMap = {};
    for (const [k, v] of Object.entries(weights)) (k.startsWith('head/') ? head : enc)[k] = v;
    this.encoder = new FaceRecEncoder(enc, { trainableTop: options.trainableTop ?? false, cutPoint: options.cutPoint });
    const init = Object.keys(head).length === 0 ? initHeadWeights(options.seed ?? 1) : head;
    this.head = new Map();
    for (const name of HEAD_WEIGHTS) {
      const t = init[name];
      if (!t) throw new Error(`head weight ${name} missing`);
      const trainable = (options.trainableHead ?? true) && name !== 'head/mu' && name !== 'head/sigma';
      this.head.set(name, tf.variable(t, trainable));
    }
    if (init !== head) for (const t of Object.values(init)) t.dispose();
  }

  private h(name: (typeof HEAD_WEIGHTS)[number]): tf.Tensor {
    return this.head.get(name)!;
  }

  /** Sets the input standardisation (per-feature mean and std of the head input). */
  setStandardisation(mu: Float32Array, sigma: Float32Array): void {
    this.head.get('head/mu')!.assign(tf.tensor1d(mu));
    this.head.get('head/sigma')!.assign(tf.tensor1d(sigma));
  }

  /** Head on the 736-d feature vector (top output ‖ stem pooled). `dropout` only while training. */
  headForward(features: tf.Tensor2D, dropout = 0, seed?: number): NetOutputs {
    return tf.tidy(() => {
      const z = tf.div(tf.sub(features, this.h('head/mu')), this.h('head/sigma'));
      let hdn = tf.relu(tf.add(tf.matMul(z as tf.Tensor2D, this.h('head/w1') as tf.Tensor2D), this.h('head/b1')));
      if (dropout > 0) hdn = tf.dropout(hdn, dropout, undefined, seed);
      const ageLogits = tf.add(tf.matMul(hdn as tf.Tensor2D, this.h('head/wAge') as tf.Tensor2D), this.h('head/bAge')) as tf.Tensor2D;
      const genderLogits = tf.add(tf.matMul(hdn as tf.Tensor2D, this.h('head/wGender') as tf.Tensor2D), this.h('head/bGender')) as tf.Tensor2D;
      return { ageLogits, genderLogits };
    });
  }

  /** From cached activations: cut (N × layout.cutShape) and pooled (N × layout.pooledDim). */
  forwardFromCut(cut: tf.Tensor4D, pooled: tf.Tensor2D, dropout = 0, seed?: number): NetOutputs {
    return tf.tidy(() => this.headForward(tf.concat([this.encoder.top(cut), pooled], 1), dropout, seed));
  }

  /** From a preprocessed batch (N×150×150×3, from `preprocessChips`): what every inference runtime runs. */
  forwardPreprocessed(x: tf.Tensor4D): NetOutputs {
    return tf.tidy(() => {
      const { cut, pooled } = this.encoder.stem(x);
      return this.forwardFromCut(cut, pooled);
    });
  }

  /** From RGB chips (N×H×W×3, uint8 values): the single forward pass used for prediction. */
  forward(images: tf.Tensor4D): NetOutputs {
    return tf.tidy(() => this.forwardPreprocessed(this.encoder.preprocess(images)));
  }

  trainableVariables(): { top: tf.Variable[]; head: tf.Variable[] } {
    return { top: this.encoder.trainableVariables(), head: [...this.head.values()].filter((v) => v.trainable) };
  }

  /** All weights by name (encoder weights folded), for saving. */
  namedWeights(): Array<{ name: string; tensor: tf.Tensor }> {
    return [...[...this.encoder.vars.entries()].map(([name, tensor]) => ({ name, tensor })), ...[...this.head.entries()].map(([name, tensor]) => ({ name, tensor }))];
  }

  dispose(): void {
    this.encoder.dispose();
    for (const v of this.head.values()) v.dispose();
    this.head.clear();
  }
}
