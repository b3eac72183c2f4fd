/**
 * `clearQueue`: removes a queue from Redis — BullMQ's jobs (waiting, failed, …) and the queue's own
 * keys (job order, images already queued, counters, results) — so a queue used for weeks does not
 * grow until its keys expire, and the same images can be submitted afresh. A queue with work
 * waiting, running or retrying is refused (QUEUE_UNFINISHED) unless `force`: a worker on it would
 * otherwise record results into a queue that no longer lists them.
 *
 * @example
 *   await writeQueueResults({ redis, out: 'results.csv' });   // read the results first
 *   const removed = await clearQueue({ redis });              // { queue: 'agegender', images: 1200, jobs: 19 }
 */
import { AgeGenderError } from '../core/errors.js';
import { count } from '../core/format.js';
import { withQueueSession } from './connection.js';
import { QUEUE_DEFAULTS, queueName } from './defaults.js';
import { readQueueStatus } from './status.js';
import { queueStore } from './store.js';

export interface ClearQueueOptions {
  redis: string;
  queue?: string;
  /** Clear even while jobs are waiting, running or retrying (their workers' results are then lost). */
  force?: boolean;
}

export interface ClearQueueSummary {
  queue: string;
  /** Images and jobs the queue held (its counters before clearing). */
  images: number;
  jobs: number;
}

/** Removes the queue's jobs and keys (module comment). Errors: QUEUE_UNAVAILABLE (also when Redis goes away mid-way), QUEUE_UNFINISHED. */
export async function clearQueue(options: ClearQueueOptions): Promise<ClearQueueSummary> {
  const name = queueName(options.queue ?? QUEUE_DEFAULTS.queue);
  return withQueueSession(options.redis, name, async ({ redis, queue }) => {
    const s = await readQueueStatus(redis, queue, name);
    const unfinished = s.waiting + s.active + s.delayed;
    if (unfinished > 0 && options.force !== true) {
      throw new AgeGenderError(
        'QUEUE_UNFINISHED',
        `queue "${name}" still has ${count(unfinished, 'job')} waiting, running or retrying (${s.done} of ${count(s.images, 'image')} done): let the workers finish, or clear it anyway with force (--force)`,
      );
    }
    await queue.obliterate({ force: true });
    const keys = queueStore(redis, name, QUEUE_DEFAULTS.ttlSeconds).keys;
    await redis.del(keys.order, keys.seen, keys.stats, keys.results);
    return { queue: name, images: s.images, jobs: s.jobs };
  });
}
