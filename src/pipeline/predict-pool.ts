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
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../core/worker.js';
import { AgeGenderError, type ErrorCode } from '../core/errors.js';
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

interface Reply {
  id?: number;
  ready?: boolean;
  runtime?: string;
  predictions?: AgeGenderPrediction[];
  error?: { code: ErrorCode; message: string };
}

interface Slot {
  worker: Worker;
  busy: boolean;
  pending: Map<number, { resolve: (p: AgeGenderPrediction[]) => void; reject: (e: unknown) => void }>;
}


/** Starts the workers and waits until each has loaded the model. */
export async function createPredictPool(options: PredictPoolOptions): Promise<PredictPool> {
  const size = integerInRange(options.workers ?? defaultWorkerCount(), 'workers', 1, 64);
  const slots: Slot[] = [];
  const waiting: Array<() => void> = [];
  let nextId = 0;
  let runtime = 'unknown';
  const started = Array.from({ length: size }, () => {
    const worker = spawnModuleWorker(import.meta.url, 'predict-worker', { modelDir: options.modelDir, load: options.load ?? {} });
    const slot: Slot = { worker, busy: false, pending: new Map() };
    slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: Reply) => {
        if (msg.ready) {
          runtime = msg.runtime ?? runtime;
          return resolve();
        }
        if (msg.id === undefined) return;
        const p = slot.pending.get(msg.id);
        slot.pending.delete(msg.id);
        if (!p) return;
        if (msg.error) p.reject(new AgeGenderError(msg.error.code, msg.error.message));
        else p.resolve(msg.predictions ?? []);
      });
      worker.on('error', (error) => {
        reject(error);
        for (const p of slot.pending.values()) p.reject(error);
        slot.pending.clear();
      });
    });
  });
  try {
    await Promise.all(started);
  } catch (error) {
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw error;
  }

  const acquire = async (): Promise<Slot> => {
    for (;;) {
      const free = slots.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
  const release = (slot: Slot): void => {
    slot.busy = false;
    waiting.shift()?.();
  };

  return {
    size,
    runtime,
    async predictBatch(images) {
      const slot = await acquire();
      try {
        const id = nextId++;
        return await new Promise<AgeGenderPrediction[]>((resolve, reject) => {
          slot.pending.set(id, { resolve, reject });
          slot.worker.postMessage({ id, images });
        });
      } finally {
        release(slot);
      }
    },
    async close() {
      await Promise.all(
        slots.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.worker.once('exit', () => resolve());
              s.worker.postMessage('close');
              setTimeout(() => void s.worker.terminate(), 2000).unref();
            }),
        ),
      );
    },
  };
}
