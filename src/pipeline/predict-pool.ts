/**
 * Chip prediction on several worker threads, each with its own model instance (the wasm backend is
 * single-threaded in Node). Batches go to whichever worker is free; order is kept by the caller.
 *
 * @example
 *   const pool = await createPredictPool({ modelDir: undefined, workers: 2 });
 *   const predictions = await pool.predictBatch(chips);
 *   await pool.close();
 */
import { availableParallelism } from 'node:os';
import { WorkerPool, type WorkerError } from '../core/worker.js';
import { AgeGenderError, isErrorCode } from '../core/errors.js';
import { integerInRange } from '../core/validate.js';
import type { AgeGenderPrediction } from '../core/types.js';
import type { RawImage } from '../io/types.js';
import type { InferenceChoice } from '../model/index.js';

export interface PredictPool {
  readonly size: number;
  /** What runs the network in each worker (`model.runtime` there). */
  readonly runtime: string;
  predictBatch(images: readonly RawImage[]): Promise<AgeGenderPrediction[]>;
  close(): Promise<void>;
}

export interface PredictPoolOptions {
  /** Model folder (default: the shipped model). */
  modelDir: string | undefined;
  /** Worker threads (default: available cores, at most 4). */
  workers?: number;
  /** Runtime and test-time augmentation for each worker's model (`threads` is always 1 there). */
  load?: InferenceChoice;
}

/** Default worker count: the cores Node may use, capped at 4 (each worker holds a model copy). */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** A chip batch for one worker (answered with its predictions). */
export interface PredictRequest {
  images: readonly RawImage[];
}

/** A worker's error as an AgeGenderError: its own code when it has one, else INVALID_IMAGE (the image was the cause). */
export function imageWorkerError(error: WorkerError): AgeGenderError {
  return new AgeGenderError(isErrorCode(error.code) ? error.code : 'INVALID_IMAGE', error.message);
}

/** Starts the workers and waits until each has loaded the model. */
export async function createPredictPool(options: PredictPoolOptions): Promise<PredictPool> {
  const size = integerInRange(options.workers ?? defaultWorkerCount(), 'workers', 1, 64);
  const pool = new WorkerPool<PredictRequest, AgeGenderPrediction[]>({
    base: import.meta.url,
    name: 'predict-worker',
    workerData: { modelDir: options.modelDir, load: options.load ?? {} },
    size,
    maxPerWorker: 1, // a batch waits for a free worker rather than queueing behind a busy one
    toError: imageWorkerError,
  });
  const infos = await pool.readyOrTerminate();
  return {
    size,
    runtime: String(infos.at(-1) ?? 'unknown'),
    predictBatch: (images) => pool.request({ images }),
    close: () => pool.close(),
  };
}
