/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter) over named tf.Variables, with parameter
 * groups (own LR multiplier and decay) and an exportable state for checkpoints.
 */
import * as tf from '@tensorflow/tfjs';

export interface ParamGroup {
  vars: tf.Variable[];
  /** Multiplies the scheduled learning rate. */
  lrScale: number;
  /** Decoupled weight decay (applied to rank ≥ 2 weights only; biases and scales are not decayed). */
  weightDecay: number;
}

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class AdamW {
  readonly groups: ParamGroup[];
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  step = 0;

  private readonly key: (w: tf.Variable) => string;

  /** `names` gives each variable a stable name for `state()` (default: the tfjs variable name). */
  constructor(groups: ParamGroup[], options: AdamWOptions = {}, names?: ReadonlyMap<tf.Variable, string>) {
    this.groups = groups;
    this.key = (w) => names?.get(w) ?? w.name;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.epsilon ?? 1e-8;
    for (const g of groups) {
      for (const w of g.vars) {
        this.m.set(this.key(w), tf.variable(tf.zerosLike(w), false));
        this.v.set(this.key(w), tf.variable(tf.zerosLike(w), false));
      }
    }
  }

  /** One update with gradients keyed by variable name. */
  apply(grads: tf.NamedTensorMap, lr: number): void {
    this.step += 1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    for (const g of this.groups) {
      const glr = lr * g.lrScale;
      for (const w of g.vars) {
        const grad = grads[w.name];
        if (!grad) continue;
        const m = this.m.get(this.key(w))!;
        const v = this.v.get(this.key(w))!;
        tf.tidy(() => {
          const m2 = tf.add(tf.mul(m, b1), tf.mul(grad, 1 - b1));
          const v2 = tf.add(tf.mul(v, b2), tf.mul(tf.square(grad), 1 - b2));
          m.assign(m2);
          v.assign(v2);
          const upd = tf.div(tf.div(m2, c1), tf.add(tf.sqrt(tf.div(v2, c2)), this.eps));
          let next = tf.sub(w, tf.mul(upd, glr));
          if (g.weightDecay > 0 && w.rank >= 2) next = tf.sub(next, tf.mul(w, glr * g.weightDecay));
          w.assign(next);
        });
      }
    }
  }

  /** Optimizer state as named tensors (`m/<var>`, `v/<var>`), for checkpoints. */
  state(): Array<{ name: string; tensor: tf.Tensor }> {
    return [...[...this.m].map(([k, t]) => ({ name: `m/${k}`, tensor: t as tf.Tensor })), ...[...this.v].map(([k, t]) => ({ name: `v/${k}`, tensor: t as tf.Tensor }))];
  }

  loadState(tensors: tf.NamedTensorMap, step: number): void {
    for (const [k, t] of this.m) { const s = tensors[`m/${k}`]; if (s) t.assign(s); }
    for (const [k, t] of this.v) { const s = tensors[`v/${k}`]; if (s) t.assign(s); }
    this.step = step;
  }

  dispose(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
  }
}

/** Cosine schedule with linear warm-up: lr(t) for t in [0, total). */
export function cosineLr(step: number, total: number, maxLr: number, warmup: number, minFactor = 0.02): number {
  if (step < warmup) return maxLr * (step + 1) / warmup;
  const p = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return maxLr * (minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}
