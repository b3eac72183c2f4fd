/**
 * What one run has reached so far: the last checkpoint, the best epoch on val and its weights, the
 * epoch history and the seconds spent per step. Every checkpoint saves it; a resume starts from it.
 * One per run, owned by `train()` and handed to the steps that advance it.
 */
import * as tf from '@tensorflow/tfjs';
import type { CheckpointState } from './checkpoint.js';
import type { Learner, NamedTensor } from './learner.js';

export interface RunProgress {
  /** The last checkpoint written or resumed from (null before the first one of a fresh run). */
  state: CheckpointState | null;
  /** The best epoch's trainable weights (copies; disposed when replaced). */
  best: NamedTensor[];
  bestValMae: number;
  bestEpoch: number;
  /** Every epoch's logs, across stages and resumes. */
  history: Array<Record<string, unknown>>;
  /** Seconds per step (extract, topFeatures, stage1, stage2, save, score, …), across resumes. */
  elapsed: Record<string, number>;
  /** When the first run of this checkpoint started (ISO time; this run's start for a fresh one). */
  readonly startedAt: string;
}

/** Progress at the start of a run: from the checkpoint `state` when resuming, else from nothing. */
export function startProgress(state: CheckpointState | null, learner: Learner, extractSeconds: number, t0: number): RunProgress {
  return {
    state,
    best: learner.snapshot(),
    bestValMae: state?.bestValMae ?? Infinity,
    bestEpoch: state?.bestEpoch ?? 0,
    history: state?.history ?? [],
    elapsed: { ...(state?.elapsedSeconds ?? {}), extract: (state?.elapsedSeconds['extract'] ?? 0) + extractSeconds },
    startedAt: state?.startedAt ?? new Date(t0).toISOString(),
  };
}

/** Replaces the best-epoch weights (disposing the old copies). */
export function replaceBest(p: RunProgress, best: NamedTensor[]): void {
  tf.dispose(p.best.map((w) => w.tensor));
  p.best = best;
}
