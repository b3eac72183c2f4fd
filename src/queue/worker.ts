/**
 * `startQueueWorker`: a BullMQ worker that loads the model (and the face detector) once and runs each
 * job's images through `predictFiles` — the pipeline of `agegender predict`, same options, same
 * results. An image that cannot be read or decoded is recorded with its error code (not retried);
 * a job that throws is retried by BullMQ with exponential backoff, and after its last try every image
 * in it is recorded as JOB_FAILED. A worker that dies holding a job loses its lock after
 * `lockDurationMs`; another worker's stalled-job check then puts the job back in the queue.
 *
 * @example
 *   const worker = await startQueueWorker({ redis: 'redis://10.0.0.5:6379', detect: false });
 *   process.once('SIGTERM', () => void worker.close()); // finishes the job in hand, then resolves
 *   await worker.closed;
 */
import { Queue, Worker, type Job } from 'bullmq';
import { reasonOf } from '../core/errors.js';
import { integerInRange } from '../core/validate.js';
import type { AgeGenderModel } from '../model/api.js';
import type { InferenceChoice } from '../model/index.js';
import { loadModelFrom } from '../model/load.js';
import type { FaceDetector } from '../pipeline/detect.js';
import { predictFiles, type PredictFileResult } from '../pipeline/predict-files.js';
import { encodeJobResults, failedResults } from './codec.js';
import { connectQueueRedis } from './connection.js';
import { QUEUE_DEFAULTS, queueName } from './defaults.js';
import { unpackSources, type PackedSources } from './jobs.js';
import { queueStore, type QueueStore } from './store.js';
import { count } from '../core/format.js';

export interface QueueWorkerOptions {
  redis: string;
  queue?: string;
  /** Jobs in hand at once (default 2: one decodes while the other runs the network). */
  concurrency?: number;
  /** Face detection (default true); false: every image is an aligned chip. */
  detect?: boolean;
  /** Chips per forward batch with detection off (default 32, as `predict`). */
  batchSize?: number;
  maxPixels?: number;
  /** A loaded model, used as is (the caller disposes it); else `modelDir` is loaded once. */
  model?: AgeGenderModel;
  /** Model folder (default: the shipped model), runtime and TTA, onnxruntime threads. */
  modelDir?: string;
  load?: InferenceChoice;
  threads?: number;
  /** Lock on a job; a worker silent this long is presumed dead (default 30 s). */
  lockDurationMs?: number;
  maxStalledCount?: number;
  ttlSeconds?: number;
  /** Stop (resolve `closed`) once no job is waiting, delayed or active. */
  untilEmpty?: boolean;
  /** One line per finished job, retry and connection problem. */
  log?: (line: string) => void;
}

export interface QueueWorkerStats {
  jobs: number;
  images: number;
  failedImages: number;
}

export interface QueueWorker {
  /** What runs the network. */
  readonly runtime: string;
  readonly stats: QueueWorkerStats;
  /** Finishes the jobs in hand, then stops; resolves when stopped. */
  close(): Promise<void>;
  /** Resolves when the worker has stopped (after `close`, or with `untilEmpty` when the queue is empty). */
  readonly closed: Promise<void>;
}

interface Loaded {
  model: AgeGenderModel;
  detector: FaceDetector | undefined;
  dispose(): void;
}

async function loadPipeline(o: QueueWorkerOptions): Promise<Loaded> {
  const model = o.model ?? (await loadModelFrom(o.modelDir, { ...(o.load ?? {}), ...(o.threads === undefined ? {} : { threads: o.threads }) }));
  const disposeModel = (): void => (o.model ? undefined : model.dispose());
  // loaded with detection off too: the quality gate confirms a face in each chip with it
  try {
    const detector = await (await import('../pipeline/detect.js')).loadFaceDetector();
    return { model, detector, dispose: () => (detector.dispose(), disposeModel()) };
  } catch (error) {
    disposeModel();
    throw error;
  }
}

/** Predicts one job's images; results in the job's order, one per image. */
async function runJob(job: Job<PackedSources>, loaded: Loaded, o: QueueWorkerOptions): Promise<PredictFileResult[]> {
  const sources = unpackSources(job.data);
  const byFile = new Map<string, PredictFileResult>();
  await predictFiles(sources, {
    model: loaded.model,
    detect: o.detect ?? true,
    ...(loaded.detector ? { detector: loaded.detector } : {}),
    ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
    ...(o.maxPixels === undefined ? {} : { maxPixels: o.maxPixels }),
    onResult: (r) => byFile.set(r.file, r),
  });
  return sources.map((s) => byFile.get(s) ?? failedResults([s], 'UNREADABLE_FILE', 'no result from the pipeline')[0]!);
}

/** After the last try, every image of the job is recorded as failed with the job's reason. */
async function recordFinalFailure(store: QueueStore, job: Job<PackedSources> | undefined, error: Error, log: (l: string) => void): Promise<void> {
  if (!job?.id) return;
  const tries = job.opts.attempts ?? 1;
  // final when BullMQ put it in the failed set: out of tries, or stalled (its workers died) too often
  if ((await job.getState()) !== 'failed') {
    log(`job ${job.id}: try ${job.attemptsMade} of ${tries} failed (${error.message}); retrying with backoff`);
    return;
  }
  const sources = unpackSources(job.data);
  await store.recordResults(job.id, encodeJobResults(failedResults(sources, 'JOB_FAILED', `job failed after ${job.attemptsMade} tries: ${error.message}`)), sources.length, sources.length);
  log(`job ${job.id}: failed for good (${error.message}); its ${count(sources.length, 'image')} recorded as JOB_FAILED`);
}

/** Resolves once the queue has nothing waiting, delayed or active (checked every `everyMs`). */
async function whenEmpty(queue: Queue, everyMs: number, stopped: () => boolean): Promise<void> {
  for (;;) {
    if (stopped()) return;
    const c = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'waiting-children');
    if (Object.values(c).every((n) => n === 0)) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A Redis connection whose problems are logged once each (ioredis reconnects by itself). */
async function connectLogged(url: string, log: (line: string) => void): Promise<{ redis: Awaited<ReturnType<typeof connectQueueRedis>>; note: (e: Error) => void }> {
  let last = '';
  const note = (e: Error): void => {
    if (e.message !== last) log(`redis: ${(last = e.message)} (reconnecting)`);
  };
  const redis = await connectQueueRedis(url, note);
  redis.on('reconnecting', () => (last ? undefined : log(`redis: ${(last = 'connection lost')} (reconnecting)`)));
  redis.on('ready', () => {
    if (last) log('redis: connected again');
    last = '';
  });
  return { redis, note };
}

/**
 * Connects (QUEUE_UNAVAILABLE when Redis does not answer), loads the model once, and starts taking
 * jobs. Errors: INVALID_ARGUMENT for bad options; MODEL_* when the model cannot load.
 */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<QueueWorker> {
  const name = queueName(o.queue ?? QUEUE_DEFAULTS.queue);
  const concurrency = integerInRange(o.concurrency ?? 2, 'concurrency', 1, 64);
  const lockDuration = integerInRange(o.lockDurationMs ?? QUEUE_DEFAULTS.lockDurationMs, 'lockDurationMs', 500, 3_600_000);
  const log = o.log ?? (() => undefined);
  const { redis, note } = await connectLogged(o.redis, log);
  let loaded: Loaded;
  try {
    loaded = await loadPipeline(o);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const store = queueStore(redis, name, o.ttlSeconds ?? QUEUE_DEFAULTS.ttlSeconds);
  const stats: QueueWorkerStats = { jobs: 0, images: 0, failedImages: 0 };
  let started = false;
  let inHand = 0;
  const worker = new Worker<PackedSources>(
    name,
    async (job) => {
      inHand++;
      try {
        if (!started) await store.markStarted().then(() => (started = true));
        const results = await runJob(job, loaded, o);
        const failed = results.filter((r) => r.error).length;
        await store.recordResults(job.id!, encodeJobResults(results), results.length, failed);
        Object.assign(stats, { jobs: stats.jobs + 1, images: stats.images + results.length, failedImages: stats.failedImages + failed });
        return { images: results.length, failed };
      } finally {
        inHand--;
      }
    },
    { connection: redis, concurrency, lockDuration, stalledInterval: lockDuration, maxStalledCount: o.maxStalledCount ?? QUEUE_DEFAULTS.maxStalledCount },
  );
  worker.on('failed', (job, error) => void recordFinalFailure(store, job, error, log).catch((e: unknown) => log(`job ${job?.id}: cannot record its failure: ${reasonOf(e)}`)));
  worker.on('error', note);
  worker.on('stalled', (id) => log(`job ${id}: its worker stopped answering; put back in the queue`));
  worker.on('completed', (job, value: { images: number; failed: number }) => log(`job ${job.id}: ${count(value.images, 'image')}, ${value.failed} failed`));
  const counts = o.untilEmpty ? new Queue(name, { connection: redis }) : null;
  counts?.on('error', note); // without a listener BullMQ prints each reconnect try's error with its stack
  let stopping: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (stopping ??= (async () => {
      if (redis.status === 'ready') await worker.close();
      else {
        // BullMQ's graceful close waits for ever on a blocking connection lost to a Redis outage: take no new job, let those in hand finish (recording their results waits for Redis), then force it
        await worker.pause(true);
        while (inHand > 0) await new Promise((r) => setTimeout(r, 100));
        await worker.close(true);
      }
      await counts?.close();
      loaded.dispose();
      redis.disconnect();
    })());
  const stopped = new Promise<void>((resolve) => worker.once('closed', () => void stopping?.then(resolve)));
  // with untilEmpty: stopped when the queue is empty, or by close() (the job-count poll may be waiting on a Redis that is down)
  const emptied = counts ? whenEmpty(counts, 1000, () => stopping !== null).then(close, (error: unknown) => (stopping ? undefined : Promise.reject(error))) : null;
  const closed = emptied ? Promise.race([emptied, stopped]) : stopped;
  return { runtime: loaded.model.runtime, stats, close, closed };
}
