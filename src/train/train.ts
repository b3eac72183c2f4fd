/**
 * `train(options)`: the whole recipe behind `agegender train`, as named steps.
 *
 *  1. Data: the workspace manifest's train / val / test splits (from `agegender prepare`), data.ts.
 *  2. Resume: a fresh run empties its checkpoint folder; `resume: true` continues from the last
 *     checkpoint after a kill (resume.ts; every epoch writes one, checkpoint.ts).
 *  3. Features: the frozen stem run once per image (and its mirror), the activation at the cut point
 *     and pooled stage features cached on disk (features.ts, featureCache.ts).
 *  4. Stage 1: encoder frozen; the two heads train on [frozen top output ‖ pooled features], after
 *     the head's input standardisation is fitted on them (stage.ts, standardise.ts).
 *  5. Stage 2: the blocks after the cut point (by default `cutPoint: 'conv128_2'`, the whole conv256
 *     stage; from conv256_1 or conv256_2 on with 'conv256_down' / 'conv256_1') are unfrozen and
 *     trained with the heads from the cached cut activations, a random cached copy per sample (the
 *     original or its mirror; with `jitter`, also two rotated/zoomed/shifted/relit copies, see jitter.ts;
 *     with `photoAugment`, also two photo-like copies, see photo-augment.ts).
 *  6. Metadata, save, score: the best epoch on val is saved as one network (metadata.ts), then the
 *     saved folder is scored once on val and test with the project's evaluator (score.ts).
 *
 * Callbacks are per run: the built-in ones (NaN guard, JSONL metrics log, console log) then
 * `options.callbacks`; each stage adds its own early stopping to a copy of that list.
 *
 * @example
 *   await train({ workspace: 'workspace/utk', out: 'workspace/utk/exp/e4', epochs: 4 });
 */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { removeStaleTempDirs, replaceDirAtomic } from '../core/atomic.js';
import { AgeGenderError } from '../core/errors.js';
import { lockFolder } from '../core/folder-lock.js';
import { checkOutputFolder } from '../core/output-path.js';
import { initBackend } from '../model/backend.js';
import { checkpointFiles, workspacePaths } from '../workspace/layout.js';
import { CallbackList, consoleLogger, jsonlLogger, nanGuard } from './callbacks.js';
import type { RunContext } from './context.js';
import { loadSplits } from './data.js';
import { prepareFeatures } from './features.js';
import { Learner } from './learner.js';
import { labelTable } from './losses.js';
import { trainingMetadata } from './metadata.js';
import { resolveOptions, resumeKey, type TrainConfig, type TrainOptions, type TrainResult } from './options.js';
import { startProgress } from './progress.js';
import { checkReplaceable, checkTrainOut } from './out-folder.js';
import { checkResumable, openCheckpoints, restoreCheckpoint } from './resume.js';
import { recordResults, saveTrained, scoreSaved, type Scored } from './score.js';
import { runStage1, runStage2 } from './stage.js';

export { AGE_LOSSES, TRAIN_DEFAULTS, type AgeLoss, type TrainOptions, type TrainResult } from './options.js';
export { taskLosses } from './losses.js';

/** Trains, saves and scores a model. See the module comment. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const o = resolveOptions(options);
  const t0 = Date.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const workspace = workspacePaths(o.workspace);
  checkTrainOut(o.out, workspace.root); // before any work: not the shipped model, not over the workspace
  const out = await checkOutputFolder(o.out); // INVALID_ARGUMENT naming --out
  // one run at a time per --out: a second would interleave its checkpoints and results with this one's
  const lock = await lockFolder(out, 'agegender train');
  if (lock.tookOver) log(`took over ${lock.path}, left by process ${lock.tookOver.pid} (started ${lock.tookOver.startedAt}), which no longer runs`);
  try {
    return await trainInto(out, o, options, { workspace, log, t0 });
  } finally {
    await lock.release();
  }
}

/** {@link train} once `out` is checked and locked. */
async function trainInto(out: string, o: TrainConfig, options: TrainOptions, run: { workspace: ReturnType<typeof workspacePaths>; log: (line: string) => void; t0: number }): Promise<TrainResult> {
  const { workspace, log, t0 } = run;
  checkReplaceable(out); // the folder is replaced as a whole: nothing else in it to lose
  for (const stale of await removeStaleTempDirs(out)) log(`removed ${stale}, left by a run killed while saving`);
  const cacheDir = resolve(o.cacheDir ?? workspace.featureCache);
  const ckptDir = resolve(o.checkpointDir ?? workspace.checkpointDir(out));
  const backend = await initBackend();
  log(`backend: ${backend.backend} (${backend.provider})`);

  // data (validated before anything is written), then the checkpoint folder
  const splits = await loadSplits(workspace.root, o.limit, o.seed);
  if (splits.train.length === 0 || splits.val.length === 0) {
    throw new AgeGenderError('WORKSPACE_INVALID', `need kept rows in train and val (found ${splits.train.length} / ${splits.val.length})`, { subject: workspace.manifest });
  }
  const state = await openCheckpoints(ckptDir, Boolean(o.resume), log);
  const callbacks = new CallbackList([nanGuard(), jsonlLogger(resolve(o.metricsLog ?? checkpointFiles(ckptDir).metricsLog)), consoleLogger(log), ...(o.callbacks ?? [])]);
  const key = resumeKey(o, splits.manifestHash);
  checkResumable(state, key, ckptDir);
  await callbacks.trainBegin({ trainCount: splits.train.length, valCount: splits.val.length });

  const features = await prepareFeatures(o, splits, cacheDir, callbacks, log);
  const learner = new Learner(features.faceApi, o);
  const progress = startProgress(state, learner, features.seconds, t0);
  const resumeTensors = await restoreCheckpoint(learner, progress, ckptDir, callbacks);
  const ctx: RunContext = { o, learner, data: features.data, labels: labelTable(o.labelSigma, o.labelSigmaSlope), progress, ckptDir, resumeKey: key, resumeTensors };
  await runStage1(ctx, callbacks);
  await runStage2(ctx, callbacks);
  if (resumeTensors) tf.dispose(Object.values(resumeTensors));

  const metadata = await trainingMetadata({ o, out, backend, splits, data: features.data, learner, progress });
  // built (saved, scored, recorded) in a folder beside `out`, then swapped in: a kill never leaves a half-written model
  let scored: Scored = { metrics: {} };
  await replaceDirAtomic(out, async (folder) => {
    await saveTrained(learner, folder, metadata, o, progress);
    scored = await scoreSaved(o, folder, splits, metadata.command, progress, log);
    progress.elapsed['total'] = (Date.now() - t0) / 1000; // this process
    progress.elapsed['sinceFirstStart'] = (Date.now() - Date.parse(progress.startedAt)) / 1000; // across resumes
    scored.metrics['timingsSeconds'] = progress.elapsed;
    await recordResults(folder, metadata, scored);
  });
  await callbacks.trainEnd({ out, metrics: scored.metrics });
  await callbacks.emit('trainEnd', { out, metrics: scored.metrics });
  return { out, backend, metrics: scored.metrics, timings: progress.elapsed, bestEpoch: progress.bestEpoch };
}
