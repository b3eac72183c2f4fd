/**
 * The resume step. A fresh run empties its checkpoint folder; a run with `resume` reads the last
 * checkpoint there, refuses one made with other options or data, and continues from its weights,
 * its best weights and (stages.ts) its optimizer state.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../core/errors.js';
import { optionDifferences } from '../core/option-differences.js';
import { checkpointFiles } from '../workspace/layout.js';
import type { CallbackList } from './callbacks.js';
import { readCheckpoint, readState, type CheckpointState } from './checkpoint.js';
import type { Learner } from './learner.js';
import { replaceBest, type RunProgress } from './progress.js';

/** With `resume`, the checkpoint's state (null when there is none); without, the folder is emptied. Either way it exists afterwards. */
export async function openCheckpoints(ckptDir: string, resume: boolean, log: (line: string) => void): Promise<CheckpointState | null> {
  let state: CheckpointState | null = null;
  if (resume) {
    state = await readState(ckptDir);
    if (!state) log(`no checkpoint in ${ckptDir}: starting from scratch`);
  } else if (existsSync(ckptDir)) {
    const stale = await readState(ckptDir).catch(() => null);
    if (stale) log(`discarding the checkpoint of an earlier run in ${ckptDir} (it had reached stage ${stale.stage} epoch ${stale.epoch}; --resume continues a checkpoint made with the same options)`);
    await rm(ckptDir, { recursive: true, force: true });
  }
  await mkdir(ckptDir, { recursive: true });
  return state;
}

/** The fields of two resume keys (options.ts `resumeKey`) that differ, as `name checkpoint → this run`. */
export function keyDifferences(checkpointKey: string, key: string): string[] {
  const parse = (k: string): Record<string, unknown> => {
    try {
      const v = JSON.parse(k) as unknown;
      return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  return optionDifferences(parse(checkpointKey), parse(key));
}

/** Throws INVALID_ARGUMENT when the checkpoint was made with another resume key (options.ts), naming what differs. */
export function checkResumable(state: CheckpointState | null, key: string, ckptDir: string): void {
  if (state && state.optionsKey !== key) {
    const differs = keyDifferences(state.optionsKey, key);
    const what = differs.length > 0 ? `: ${differs.join(', ')}` : '';
    throw new AgeGenderError('INVALID_ARGUMENT', `the checkpoint was made with other options or another manifest${what}; rerun with the checkpoint's options to resume, or without --resume to discard it and start over`, { subject: checkpointFiles(ckptDir).state });
  }
}

/**
 * Loads the checkpoint of `progress.state` into the learner (a finished stage 1 continues from its
 * best epoch, not its last) and its best weights into `progress`, then emits `resume`. Returns the
 * checkpoint's tensors, optimizer state included (caller disposes); null for a fresh run.
 */
export async function restoreCheckpoint(learner: Learner, progress: RunProgress, ckptDir: string, callbacks: CallbackList): Promise<tf.NamedTensorMap | null> {
  const { state } = progress;
  if (!state) return null;
  const { current, best } = await readCheckpoint(ckptDir, state);
  learner.assign(current);
  replaceBest(progress, Object.entries(best).map(([name, tensor]) => ({ name, tensor })));
  const stage1Finished = state.stage === 1 && state.stage1Done;
  if (stage1Finished) learner.restore(progress.best);
  await callbacks.emit('resume', { stage: stage1Finished ? 2 : state.stage, fromEpoch: stage1Finished ? 1 : state.epoch + 1, stage1Done: state.stage1Done, checkpoint: state.folder });
  return current;
}
