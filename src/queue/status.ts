/**
 * `queueStatus`: how far a queue is — BullMQ's job counts (waiting, active, delayed, failed), the
 * images done and failed, the rate since the first worker started and the time left at that rate.
 * `watchQueue` polls it for a live line.
 *
 * @example
 *   const s = await queueStatus({ redis: 'redis://127.0.0.1:6379' });
 *   console.log(`${s.done}/${s.images} images, ${s.imagesPerSecond} images/s, ETA ${s.etaSeconds} s`);
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { withQueueSession } from './connection.js';
import { QUEUE_DEFAULTS, queueName } from './defaults.js';
import { queueStore, type QueueCounters } from './store.js';

export interface QueueStatusOptions {
  redis: string;
  queue?: string;
}

export interface QueueStatus extends QueueCounters {
  queue: string;
  /** Jobs by state, from BullMQ (completed = jobs with results; completed jobs leave BullMQ's lists). */
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failedJobs: number;
  /** Images per second since the first worker started (until the last result when all are done). */
  imagesPerSecond: number | null;
  /** Seconds left at that rate; 0 when done, null when nothing ran yet. */
  etaSeconds: number | null;
  finished: boolean;
}

/** Status from an open connection (no probe): for polling. */
export async function readQueueStatus(redis: Redis, queue: Queue, name: string): Promise<QueueStatus> {
  const counters = await queueStore(redis, name, QUEUE_DEFAULTS.ttlSeconds).counters();
  const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
  const finished = counters.images > 0 && counters.done >= counters.images;
  const end = finished && counters.lastAt !== null ? counters.lastAt : Date.now();
  const seconds = counters.startedAt === null ? 0 : (end - counters.startedAt) / 1000;
  const rate = seconds > 0 && counters.done > 0 ? counters.done / seconds : null;
  return {
    queue: name,
    ...counters,
    waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0),
    active: c['active'] ?? 0,
    delayed: c['delayed'] ?? 0,
    completed: counters.jobsDone,
    failedJobs: c['failed'] ?? 0,
    imagesPerSecond: rate === null ? null : Math.round(rate * 10) / 10,
    etaSeconds: finished ? 0 : rate === null ? null : Math.round((counters.images - counters.done) / rate),
    finished,
  };
}

/** One reading. Errors: QUEUE_UNAVAILABLE when Redis does not answer. */
export async function queueStatus(options: QueueStatusOptions): Promise<QueueStatus> {
  let result: QueueStatus | undefined;
  await watchQueue(options, 0, (s) => {
    result = s;
    return false;
  });
  return result!;
}

/** Calls `onStatus` every `everyMs` until it returns false or the queue is finished. Errors: QUEUE_UNAVAILABLE (also when Redis goes away for good mid-watch). */
export async function watchQueue(options: QueueStatusOptions, everyMs: number, onStatus: (s: QueueStatus) => boolean | void): Promise<void> {
  const name = queueName(options.queue ?? QUEUE_DEFAULTS.queue);
  await withQueueSession(options.redis, name, async ({ redis, queue }) => {
    for (;;) {
      const s = await readQueueStatus(redis, queue, name);
      if (onStatus(s) === false || s.finished) return;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  });
}
