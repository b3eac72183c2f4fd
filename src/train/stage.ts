/**
 * The two stages. Each runs shuffled epochs (epoch.ts), validates after every one, keeps the best
 * epoch on val, writes a checkpoint, and stops early on val MAE; at its end the best weights are
 * restored. A resumed stage continues from the epoch after its checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { AdamW } from './adamw.js';
import { earlyStopping, type CallbackList, type EpochLogs } from './callbacks.js';
import { saveCheckpoint } from './checkpoint.js';
import type { RunContext } from './context.js';
import { trainEpoch, type StageOptimizer, type StagePlan } from './epoch.js';
import { replaceBest } from './progress.js';
import { standardise, topFeatures, type TopFeatures } from './standardise.js';
import { validate } from './validate.js';

/** AdamW over the heads and log-variances (+ the top blocks at a lower rate in stage 2); a resumed stage gets its saved state back. */
function optimizerFor(ctx: RunContext, stage: 1 | 2): StageOptimizer {
  const { o, learner, resumeTensors } = ctx;
  const { state } = ctx.progress;
  const { top, head } = learner.net.trainableVariables();
  const groups = [
    { vars: [...head], lrScale: 1, weightDecay: o.weightDecay },
    { vars: [learner.logVars.age, learner.logVars.gender], lrScale: 1, weightDecay: 0 },
    ...(stage === 2 ? [{ vars: top, lrScale: o.topLrScale, weightDecay: o.weightDecay }] : []),
  ];
  const opt = new AdamW(groups, {}, learner.stableNames);
  if (resumeTensors && state && state.stage === stage && !(stage === 1 && state.stage1Done)) {
    opt.loadState(resumeTensors, state.optimizerStep);
  }
  return { opt, varList: groups.flatMap((g) => g.vars), top };
}

/**
 * After an epoch: its logs go to the history and the callbacks, a better val MAE becomes the best
 * epoch, and a checkpoint is written. True when the stage ends here (last epoch, or a callback said stop).
 */
async function endEpoch(ctx: RunContext, plan: StagePlan, optimizer: StageOptimizer, logs: EpochLogs, stageSeconds: () => number): Promise<boolean> {
  const p = ctx.progress;
  const { stage, epoch } = logs;
  p.history.push({ ...logs });
  const stop = await plan.callbacks.epochEnd(logs);
  if (logs.valMae < p.bestValMae) {
    p.bestValMae = logs.valMae;
    p.bestEpoch = epoch;
    replaceBest(p, ctx.learner.snapshot());
  }
  p.elapsed[`stage${stage}`] = stageSeconds();
  const current = [...ctx.learner.trainedWeights(optimizer.top), ...optimizer.opt.state()];
  const stageDone = stop || epoch === plan.epochs;
  const saved = { stage, epoch, stage1Done: stage === 2 || stageDone, bestValMae: p.bestValMae, bestEpoch: p.bestEpoch, optimizerStep: optimizer.opt.step, optionsKey: ctx.resumeKey, history: p.history, startedAt: p.startedAt, elapsedSeconds: p.elapsed };
  p.state = await saveCheckpoint(ctx.ckptDir, saved, current, p.best);
  await plan.callbacks.emit('checkpoint', { stage, epoch, folder: p.state.folder });
  return stageDone;
}

/** Runs the plan's epochs, then restores the stage's best weights. */
async function runStage(ctx: RunContext, plan: StagePlan): Promise<void> {
  const { o, learner, data, progress: p } = ctx;
  const { stage, epochs, startEpoch, callbacks } = plan;
  const optimizer = optimizerFor(ctx, stage);
  await callbacks.stageBegin({ stage, epochs, startEpoch, trainCount: data.train.items.length, valCount: data.val.items.length });
  const tStage = Date.now();
  // seconds this stage already took before a resume (read once: `elapsed` is updated every epoch)
  const stageBase = p.state && p.state.stage === stage ? p.state.elapsedSeconds[`stage${stage}`] ?? 0 : 0;
  for (let epoch = startEpoch; epoch <= epochs; epoch++) {
    await callbacks.epochBegin({ stage, epoch, epochs });
    const tE = Date.now();
    const t = await trainEpoch(ctx, plan, optimizer, epoch);
    const val = await validate(learner.net, data, ctx.labels, o.ageLoss, stage === 1 && plan.top ? plan.top.val : null);
    const logs: EpochLogs = {
      stage, epoch, epochs, loss: t.loss, ageLoss: t.ageLoss, genderLoss: t.genderLoss, ...(t.consistencyLoss === undefined ? {} : { consistencyLoss: t.consistencyLoss }),
      valMae: val.mae, valCs8: val.cs8, valGenderAccuracy: val.acc, valAgeLoss: val.ageLoss, valGenderLoss: val.genderLoss,
      seconds: (Date.now() - tE) / 1000, lr: t.lr,
    };
    if (await endEpoch(ctx, plan, optimizer, logs, () => stageBase + (Date.now() - tStage) / 1000)) break;
  }
  optimizer.opt.dispose();
  learner.restore(p.best);
  await callbacks.stageEnd({ stage, bestEpoch: p.bestEpoch, bestValMae: p.bestValMae });
}

/**
 * Runs a stage from the epoch after the checkpoint's, with early stopping (primed with the val MAEs
 * of the stage's epochs already run) added to this stage's callbacks; when a resumed run had
 * finished it, or stopped it early, restores the best weights instead. In stage 2 the first half
 * of the cosine schedule does not count against the patience: its high-learning-rate epochs can
 * worsen val for two epochs running before improving on it.
 */
async function runOrRestore(ctx: RunContext, stage: 1 | 2, epochs: number, patience: number, top: TopFeatures | null, callbacks: CallbackList): Promise<void> {
  const { state, history } = ctx.progress;
  const start = state && state.stage === stage ? state.epoch + 1 : 1;
  const seen = history
    .filter((h) => h['stage'] === stage && typeof h['epoch'] === 'number' && typeof h['valMae'] === 'number')
    .map((h) => ({ epoch: h['epoch'] as number, valMae: h['valMae'] as number }));
  const stopper = earlyStopping({ patience, graceEpochs: stage === 2 ? Math.floor(epochs / 2) : 0, seen });
  // finished, or stopped early before the interruption: nothing left to run
  if (start > epochs || stopper.stopped) {
    ctx.learner.restore(ctx.progress.best);
    return;
  }
  await runStage(ctx, { stage, epochs, startEpoch: start, top, callbacks: callbacks.with(stopper) });
}

/**
 * Stage 1: the encoder frozen, the heads trained on the top blocks' precomputed output; a fresh run
 * first fits the head's input standardisation. Skipped when the checkpoint says it is done.
 */
export async function runStage1(ctx: RunContext, callbacks: CallbackList): Promise<void> {
  const { o, learner, data, progress: p } = ctx;
  const resumed = p.state;
  if (resumed && (resumed.stage === 2 || resumed.stage1Done)) return;
  const t0 = Date.now();
  const top = topFeatures(learner.net, data);
  if (!resumed) {
    await standardise(learner.net, data, top);
    replaceBest(p, learner.snapshot());
  }
  p.elapsed['topFeatures'] = (Date.now() - t0) / 1000;
  await runOrRestore(ctx, 1, o.stage1Epochs, o.stage1Patience, top, callbacks);
  tf.dispose([top.train, top.val]);
  if (p.state) p.state = { ...p.state, stage1Done: true };
}

/**
 * Stage 2: the blocks after the cut point fine-tuned with the heads. The best val MAE carries over
 * from stage 1: a fine-tuned epoch is kept only if it beats the frozen-encoder model on val.
 */
export async function runStage2(ctx: RunContext, callbacks: CallbackList): Promise<void> {
  if (ctx.o.epochs > 0) await runOrRestore(ctx, 2, ctx.o.epochs, ctx.o.patience, null, callbacks);
}
