/**
 * Defaults of the batch queue (`agegender queue …`) and the names of the Redis keys it keeps next
 * to BullMQ's own (`bull:<queue>:*`). Frozen: one place to read them.
 *
 * @example
 *   const keys = queueKeys('agegender'); // { order: 'agegender:agegender:order', … }
 */
import { AgeGenderError } from '../core/errors.js';
import { describe } from '../core/validate.js';

export const QUEUE_DEFAULTS = Object.freeze({
  /** BullMQ queue name. */
  queue: 'agegender',
  /** Images per job. */
  batch: 64,
  /** How long results (and the queue's bookkeeping) stay in Redis after the last write: 7 days. */
  ttlSeconds: 7 * 24 * 3600,
  /** Tries per job before it is recorded as failed (each of its images then gets JOB_FAILED). */
  attempts: 3,
  /** First retry delay; doubled each try (exponential backoff). */
  backoffMs: 2000,
  /** A worker's lock on its job; a worker silent this long is presumed dead and its job is re-queued. */
  lockDurationMs: 30_000,
  /** Times a job may be re-queued after its worker died before it is failed. */
  maxStalledCount: 2,
  /** How long a command waits for Redis to answer before QUEUE_UNAVAILABLE. */
  connectTimeoutMs: 3000,
  /** Reconnect tries (about 11 s in all) before submit, status, results or clear give up on a Redis gone mid-command. */
  commandRetries: 10,
  /** BullMQ's event stream is capped at this many entries (its default, 10,000, costs megabytes; nothing here reads it). */
  eventsMaxLen: 1000,
  /** Jobs registered per Redis round trip when submitting. */
  submitChunk: 500,
});

/** The queue's own keys: job order, images already queued, counters, results. */
export interface QueueKeys {
  /** Sorted set: job id → submission sequence (input order). */
  order: string;
  /** Set of 12-byte digests of every image queued (so a resubmit adds nothing twice). */
  seen: string;
  /** Hash of counters: images, jobs, done, failed, jobsDone, seq, startedAt, lastAt. */
  stats: string;
  /** Hash: job id → the job's encoded results (see codec.ts). */
  results: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** Checks a queue name (letters, digits, `_ . -`; BullMQ forbids `:`). */
export function queueName(value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected a queue name of letters, digits, "_", "." or "-" (at most 100) for --queue but received ${describe(value)}`);
  }
  return value;
}

export function queueKeys(queue: string): QueueKeys {
  const base = `agegender:${queueName(queue)}`;
  return Object.freeze({ order: `${base}:order`, seen: `${base}:seen`, stats: `${base}:stats`, results: `${base}:results` });
}
