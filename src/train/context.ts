/** What the steps of one run share: built by `train()` for that run and passed to each step. */
import type * as tf from '@tensorflow/tfjs';
import type { TrainData } from './features.js';
import type { Learner } from './learner.js';
import type { TrainConfig } from './options.js';
import type { RunProgress } from './progress.js';

export interface RunContext {
  readonly o: TrainConfig;
  readonly learner: Learner;
  readonly data: TrainData;
  /** Soft age targets, one row per whole age (losses.ts labelTable). */
  readonly labels: readonly Float32Array[];
  /** Advanced by every epoch; saved in every checkpoint. */
  readonly progress: RunProgress;
  readonly ckptDir: string;
  /** Recorded in every checkpoint; a resume must match it (options.ts resumeKey). */
  readonly resumeKey: string;
  /** The resumed checkpoint's tensors: its optimizer state goes to the stage it was in. Null for a fresh run. */
  readonly resumeTensors: tf.NamedTensorMap | null;
}
