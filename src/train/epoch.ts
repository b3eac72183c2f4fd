/**
 * One training epoch: shuffled batches (seeded per stage and epoch), a random cached copy per
 * sample, AdamW under the cosine schedule, dropout seeded per step.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, mulberry32, shuffleInPlace } from '../core/random.js';
import type { NetOutputs } from '../model/net.js';
import { cosineLr, type AdamW } from './adamw.js';
import { cutBatch, pooledBatch, targets } from './batches.js';
import type { BatchLogs, CallbackList } from './callbacks.js';
import type { RunContext } from './context.js';
import { consistencyLosses, taskLosses } from './losses.js';
import type { TopFeatures } from './standardise.js';

/** A stage as it runs: which, how long, from where, on what, with which callbacks. */
export interface StagePlan {
  stage: 1 | 2;
  epochs: number;
  startEpoch: number;
  /** Stage 1: the precomputed top features (the heads train on them); stage 2: null (the top blocks train too). */
  top: TopFeatures | null;
  /** The run's callbacks with this stage's early stopping. */
  callbacks: CallbackList;
}

/** The optimizer of a stage and the variables it updates. */
export interface StageOptimizer {
  opt: AdamW;
  varList: tf.Variable[];
  /** The encoder's trainable top blocks (updated in stage 2 only). */
  top: tf.Variable[];
}

interface StepLosses {
  loss: number;
  /** The task losses alone (with a consistency weight, its term is reported apart, in `consistencyLoss`). */
  ageLoss: number;
  genderLoss: number;
  /** Stage 2 with a consistency weight: the unweighted consistency losses (age + gender) of the step. */
  consistencyLoss?: number;
}

/**
 * The copies a consistency step pairs up, for `copies` cached copies per item (4 or 6: original,
 * mirror, then one or two augmented sets of two, whose second copy is mirrored): an anchor (the
 * original or the mirror, at random) and a copy of the same orientation from a random augmented set.
 */
export function consistencyPair(copies: number, rng: () => number): { anchor: number; copy: number } {
  const sets = (copies - 2) / 2;
  if (!Number.isInteger(sets) || sets < 1) throw new Error(`consistency needs augmented copies; got ${copies} copies per item`);
  const anchor = rng() < 0.5 ? 0 : 1;
  return { anchor, copy: 2 + 2 * Math.min(sets - 1, Math.floor(rng() * sets)) + anchor };
}

/**
 * One optimizer step on items `idx`, copy `variants[k]` of each; returns the batch's losses. With
 * `pairs` (stage 2 with a consistency weight), `idx` lists each item twice, the first half at its
 * anchor copy and the second at an augmented one: the task losses cover both halves, and the
 * consistency losses (weighted by `o.consistency`) pull the second half towards the first. They are
 * added to the task losses that the learned task weights combine, and reported apart.
 */
async function trainStep(ctx: RunContext, plan: StagePlan, optimizer: StageOptimizer, idx: readonly number[], variants: readonly number[], step: number, lr: number, pairs = false): Promise<StepLosses> {
  const { o, learner, data } = ctx;
  const tr = data.train;
  const dropSeed = deriveSeed(o.seed, `drop-${plan.stage}-${step}`);
  const t = targets(tr, idx, ctx.labels);
  const kept: { age?: tf.Scalar; gender?: tf.Scalar; consistency?: tf.Scalar } = {};
  const { value, grads } = tf.variableGrads(() => {
    let outp: NetOutputs;
    if (plan.stage === 1 && plan.top) {
      const rows = tf.tensor1d(idx.map((i, k) => i * tr.copies + variants[k]!), 'int32');
      outp = learner.net.headForward(tf.concat([tf.gather(plan.top.train, rows), pooledBatch(tr, idx, variants, tr.copies)], 1), o.dropout, dropSeed);
    } else {
      outp = learner.net.forwardFromCut(cutBatch(tr, idx, variants, tr.copies), pooledBatch(tr, idx, variants, tr.copies), o.dropout, dropSeed);
    }
    const l = taskLosses(outp, t.ageTarget, t.ages, t.female, t.w, data.ageScale, o.ageLoss);
    kept.age = tf.keep(l.age);
    kept.gender = tf.keep(l.gender);
    if (pairs) {
      const h = idx.length / 2;
      const half = (x: tf.Tensor2D, from: number): tf.Tensor2D => tf.slice(x, [from, 0], [h, -1]);
      const c = consistencyLosses(
        { ageLogits: half(outp.ageLogits, 0), genderLogits: half(outp.genderLogits, 0) },
        { ageLogits: half(outp.ageLogits, h), genderLogits: half(outp.genderLogits, h) },
        tf.slice(t.w, [0], [h]),
        data.ageScale,
      );
      kept.consistency = tf.keep(tf.add<tf.Scalar>(c.age, c.gender));
      return learner.combinedLoss(tf.add(l.age, tf.mul(o.consistency, c.age)), tf.add(l.gender, tf.mul(o.consistency, c.gender)));
    }
    return learner.combinedLoss(l.age, l.gender);
  }, optimizer.varList);
  optimizer.opt.apply(grads, lr);
  const [lv, av, gv, cv] = await Promise.all([value.data(), kept.age!.data(), kept.gender!.data(), kept.consistency?.data()]);
  tf.dispose([value, kept.age!, kept.gender!, t.ageTarget, t.ages, t.female, t.w]);
  kept.consistency?.dispose();
  tf.dispose(Object.values(grads));
  return { loss: lv[0]!, ageLoss: av[0]!, genderLoss: gv[0]!, ...(cv ? { consistencyLoss: cv[0]! } : {}) };
}

/** Trains epoch `epoch` of the stage; returns its sample-weighted mean losses and last learning rate. */
export async function trainEpoch(ctx: RunContext, plan: StagePlan, optimizer: StageOptimizer, epoch: number): Promise<StepLosses & { lr: number }> {
  const { o, data } = ctx;
  const { stage } = plan;
  const pairs = stage === 2 && o.consistency > 0;
  // with pairs a step holds half as many chips, each twice: the rows per step stay `batchSize`
  const batch = stage === 1 ? o.stage1BatchSize : pairs ? Math.max(1, Math.floor(o.batchSize / 2)) : o.batchSize;
  const maxLr = stage === 1 ? o.stage1Lr : o.lr;
  const n = data.train.items.length;
  const steps = Math.ceil(n / batch);
  const total = steps * plan.epochs;
  const rng = mulberry32(deriveSeed(o.seed, `stage${stage}-epoch${epoch}`));
  const order = shuffleInPlace(Array.from({ length: n }, (_, i) => i), rng);
  let sumL = 0;
  let sumA = 0;
  let sumG = 0;
  let sumC = 0;
  let lr: number = maxLr;
  for (let b = 0; b < steps; b++) {
    const idx = order.slice(b * batch, (b + 1) * batch);
    const step = (epoch - 1) * steps + b;
    lr = cosineLr(step, total, maxLr, Math.min(o.warmupSteps, Math.floor(total / 10) + 1));
    let losses: StepLosses;
    if (pairs) {
      const drawn = idx.map(() => consistencyPair(data.train.copies, rng));
      losses = await trainStep(ctx, plan, optimizer, [...idx, ...idx], [...drawn.map((d) => d.anchor), ...drawn.map((d) => d.copy)], step, lr, true);
    } else {
      // which cached copy each sample trains on (with 2 copies: the same draws as `rng() < 0.5 ? 0 : 1`)
      const variants = idx.map(() => Math.floor(rng() * data.train.copies));
      losses = await trainStep(ctx, plan, optimizer, idx, variants, step, lr);
    }
    const logs: BatchLogs = { stage, epoch, batch: b + 1, batches: steps, ...losses, lr };
    sumL += logs.loss * idx.length;
    sumA += logs.ageLoss * idx.length;
    sumG += logs.genderLoss * idx.length;
    sumC += (logs.consistencyLoss ?? 0) * idx.length;
    await plan.callbacks.batchEnd(logs);
  }
  return { loss: sumL / n, ageLoss: sumA / n, genderLoss: sumG / n, ...(pairs ? { consistencyLoss: sumC / n } : {}), lr };
}
