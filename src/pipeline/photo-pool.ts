/**
 * The photo path (detect → align → predict) on several worker threads, each with its own model and
 * face detector: one photo per request, answered with the image size and its face reports. Detection
 * runs per photo on one thread, so this is how the photo path uses more than one core.
 *
 * @example
 *   const pool = await createPhotoPool({ modelDir: undefined, workers: 2 });
 *   const { faces } = await pool.analyze(rawImage);
 *   await pool.close();
 */
import { WorkerPool } from '../core/worker.js';
import { integerInRange } from '../core/validate.js';
import type { RawImage } from '../io/types.js';
import type { InferenceChoice } from '../model/index.js';
import type { PhotoReport } from './analyze.js';
import type { DetectorPreference } from './detect.js';
import { imageWorkerError } from './predict-pool.js';

export interface PhotoPoolOptions {
  /** Model folder (default: the shipped model). */
  modelDir: string | undefined;
  /** Worker threads. */
  workers: number;
  /** Runtime and test-time augmentation for each worker's model (`threads` is always 1 there). */
  load?: InferenceChoice;
  /** Which face detector each worker loads (default `auto`). */
  detector?: DetectorPreference;
  /** At most this many faces per photo (default: the detector's, 32). */
  maxFaces?: number;
}

/** One analysed photo, as the workers report it. */
export type PhotoReply = PhotoReport;

export interface PhotoPool {
  readonly size: number;
  /** What runs the network and the detector in each worker. */
  readonly runtime: string;
  /** `subject` (the file) names the photo in errors. */
  analyze(image: RawImage, subject?: string): Promise<PhotoReply>;
  close(): Promise<void>;
}

/** Starts the workers and waits until each has loaded its model and detector. */
export async function createPhotoPool(options: PhotoPoolOptions): Promise<PhotoPool> {
  const size = integerInRange(options.workers, 'workers', 1, 64);
  const pool = new WorkerPool<{ image: RawImage; subject?: string }, PhotoReply>({
    base: import.meta.url,
    name: 'photo-worker',
    workerData: { modelDir: options.modelDir, load: options.load ?? {}, detector: options.detector ?? 'auto', maxFaces: options.maxFaces },
    size,
    maxPerWorker: 1,
    toError: imageWorkerError,
  });
  const infos = await pool.readyOrTerminate();
  return {
    size,
    runtime: String(infos.at(-1) ?? 'unknown'),
    analyze: (image, subject) => pool.request(subject === undefined ? { image } : { image, subject }),
    close: () => pool.close(),
  };
}
