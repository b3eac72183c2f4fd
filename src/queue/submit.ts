/**
 * `submitImages`: expands inputs the way `agegender predict` does (files, folders, globs, http(s)
 * URLs), leaves out images this queue already holds (same path, size and modification time, or
 * same URL), cuts the rest into jobs of `batch` images and adds them to the BullMQ queue with ids
 * derived from their images. Submitting the same inputs twice adds nothing the second time.
 *
 * @example
 *   const s = await submitImages(['/data/photos/'], { redis: 'redis://10.0.0.5:6379', batch: 64 });
 *   console.log(`${s.newImages} images in ${s.newJobs} jobs`);
 */
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AgeGenderError } from '../core/errors.js';
import { integerInRange } from '../core/validate.js';
import { expandImageArgs, type MissingInput } from '../pipeline/inputs.js';
import { withQueueSession } from './connection.js';
import { QUEUE_DEFAULTS, queueName } from './defaults.js';
import { identifyImages, planJobs, type PlannedJob } from './jobs.js';
import { queueStore, type QueueStore } from './store.js';

export interface SubmitOptions {
  /** redis:// URL. */
  redis: string;
  /** Queue name (default `agegender`). */
  queue?: string;
  /** Images per job (default 64). */
  batch?: number;
  /** Tries per job (default 3), with exponential backoff from `backoffMs` (default 2 s). */
  attempts?: number;
  backoffMs?: number;
  /** How long the queue's results are kept after its last write (default 7 days). */
  ttlSeconds?: number;
}

export interface SubmitSummary {
  queue: string;
  /** Images the inputs named. */
  images: number;
  /** Of those, images new to this queue, and the jobs they went into. */
  newImages: number;
  newJobs: number;
  /** Arguments that matched nothing, and entries a walk could not reach (not queued). */
  missing: MissingInput[];
}

/**
 * Failed jobs stay in BullMQ after the queue's own keys expire (7 days); the same images submitted
 * again make the same ids, and BullMQ ignores an add whose id it holds. So a job new to the order
 * that BullMQ still holds as failed is removed first, and runs again.
 */
async function removeStaleFailed(queue: Queue, redis: Redis, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.exists(queue.toKey(id));
  const exists = ((await pipeline.exec()) ?? []).map(([, n]) => n === 1);
  for (const id of ids.filter((_, i) => exists[i])) {
    const job = await Job.fromId(queue, id);
    if (job && (await job.getState()) === 'failed') await job.remove();
  }
}

async function addJobs(queue: Queue, redis: Redis, store: QueueStore, jobs: readonly PlannedJob[], attempts: number, backoffMs: number): Promise<void> {
  // order first: a submit that dies half-way and is run again makes the same ids, so nothing doubles
  const added = await store.registerJobs(jobs.map((j) => ({ id: j.id, images: j.images.length })));
  await removeStaleFailed(queue, redis, added);
  const opts = { attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: true, removeOnFail: false };
  await queue.addBulk(jobs.map((j) => ({ name: 'predict', data: j.data, opts: { ...opts, jobId: j.id } })));
  await store.markSeen(jobs.flatMap((j) => j.images.map((i) => i.digest)));
}

/**
 * Queues every image the inputs name. Errors: INVALID_ARGUMENT (no inputs, bad options),
 * QUEUE_UNAVAILABLE (Redis does not answer within a few seconds, or goes away mid-way).
 */
export async function submitImages(inputs: readonly string[], options: SubmitOptions): Promise<SubmitSummary> {
  if (inputs.length === 0) throw new AgeGenderError('INVALID_ARGUMENT', 'Expected at least one file, folder, glob or URL');
  const name = queueName(options.queue ?? QUEUE_DEFAULTS.queue);
  const batch = integerInRange(options.batch ?? QUEUE_DEFAULTS.batch, 'batch', 1, 4096);
  const attempts = integerInRange(options.attempts ?? QUEUE_DEFAULTS.attempts, 'attempts', 1, 100);
  return withQueueSession(options.redis, name, async ({ redis, queue }) => {
    const store = queueStore(redis, name, options.ttlSeconds ?? QUEUE_DEFAULTS.ttlSeconds);
    const { files, missing } = await expandImageArgs(inputs);
    const images = await identifyImages(files);
    const seen = await store.seen(images.map((i) => i.digest));
    const fresh = images.filter((_, i) => !seen[i]);
    const jobs = planJobs(fresh, batch);
    for (let start = 0; start < jobs.length; start += QUEUE_DEFAULTS.submitChunk) {
      await addJobs(queue, redis, store, jobs.slice(start, start + QUEUE_DEFAULTS.submitChunk), attempts, options.backoffMs ?? QUEUE_DEFAULTS.backoffMs);
    }
    return { queue: name, images: images.length, newImages: fresh.length, newJobs: jobs.length, missing };
  }, { streams: { events: { maxLen: QUEUE_DEFAULTS.eventsMaxLen } } });
}
