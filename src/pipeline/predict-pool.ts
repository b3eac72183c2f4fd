/**
 * Chip prediction on several worker threads, each with its own model instance (the wasm backend is
 * single-threaded in Node). Batches go to whichever worker is free; order is kept by the caller.
 * `gateAndPredict` also runs the quality gate in the worker (with the worker's own face detector
 * when the pool was created with `detector`), so gating does not serialise the workers.
 *
 * @example
 *   const pool = await createPredictPool({ modelDir: undefined, workers: 2 });
 *   const predictions = await pool.predictBatch(chips);
 *   await pool.close();
 */
import { availableParallelism } from 'node:os';
import { WorkerPool, workerErrorToError, type WorkerError } from '../core/worker.js';
import { AgeGenderError } from '../core/errors.js';
import { integerInRange } from '../core/validate.js';
import type { AgeGenderPrediction } from '../core/types.js';
import type { RawImage } from '../io/types.js';
import type { InferenceChoice } from '../model/index.js';
import type { DetectorPreference } from './detect.js';
import type { ChipOutcome, SubjectChip } from './gated-chips.js';

export interface PredictPool {
  readonly size: number;
  /** What runs the network in each worker (`model.runtime` there). */
  readonly runtime: string;
  predictBatch(images: readonly RawImage[]): Promise<AgeGenderPrediction[]>;
  /**
   * Quality gate and prediction for each chip in one worker (see gated-chips.ts); a chip's error is
   * an AgeGenderError with its code (INVALID_IMAGE when it had none), without the subject.
   */
  gateAndPredict(chips: readonly SubjectChip[]): Promise<ChipOutcome[]>;
  close(): Promise<void>;
}

export interface PredictPoolOptions {
  /** Model folder (default: the shipped model). */
  modelDir: string | undefined;
  /** Worker threads (default: available cores, at most 4). */
  workers?: number;
  /** Runtime and test-time augmentation for each worker's model (`threads` is always 1 there). */
  load?: InferenceChoice;
  /** Face detector each worker loads to confirm a face in each chip of `gateAndPredict` (default none: the gate uses image statistics only). */
  detector?: DetectorPreference;
}

/** Default worker count: the cores Node may use, capped at 4 (each worker holds a model copy). */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** A chip batch for one worker: answered with its predictions, or, with `subjects` (one per image), with each chip's gated outcome. */
export interface PredictRequest {
  images: readonly RawImage[];
  subjects?: readonly string[];
}

/** A chip's outcome as it crosses the thread boundary. */
export type WorkerChipOutcome = ChipOutcome<WorkerError>;

/** A worker's error as an AgeGenderError, naming its file as thrown: its own code when it has one, else INVALID_IMAGE (the image was the cause). */
export function imageWorkerError(error: WorkerError): AgeGenderError {
  return workerErrorToError(error, 'INVALID_IMAGE') as AgeGenderError;
}

/** Starts the workers and waits until each has loaded the model. */
export async function createPredictPool(options: PredictPoolOptions): Promise<PredictPool> {
  const size = integerInRange(options.workers ?? defaultWorkerCount(), 'workers', 1, 64);
  const pool = new WorkerPool<PredictRequest, AgeGenderPrediction[] | WorkerChipOutcome[]>({
    base: import.meta.url,
    name: 'predict-worker',
    workerData: { modelDir: options.modelDir, load: options.load ?? {}, detector: options.detector ?? null },
    size,
    maxPerWorker: 1, // a batch waits for a free worker rather than queueing behind a busy one
    toError: imageWorkerError,
  });
  const infos = await pool.readyOrTerminate();
  return {
    size,
    runtime: String(infos.at(-1) ?? 'unknown'),
    predictBatch: async (images) => (await pool.request({ images })) as AgeGenderPrediction[],
    gateAndPredict: async (chips) => {
      const outcomes = (await pool.request({ images: chips.map((c) => c.image), subjects: chips.map((c) => c.subject) })) as WorkerChipOutcome[];
      return outcomes.map((o) => ('error' in o ? { error: imageWorkerError(o.error) } : o));
    },
    close: () => pool.close(),
  };
}
