/**
 * `writeQueueResults`: one row per queued image, in input order (submission order, then order within
 * each submit), in the columns of `agegender predict --csv` (or one JSON object per line), written
 * atomically. Failed images carry their error code and reason; a job out of tries gives JOB_FAILED.
 * When some images are not done yet it is QUEUE_UNFINISHED and nothing is written, unless
 * `partial`: then their rows say QUEUE_UNFINISHED.
 *
 * @example
 *   const r = await writeQueueResults({ redis: 'redis://127.0.0.1:6379', out: 'results.csv' });
 *   console.log(`${r.rows} rows, ${r.failed} failed`);
 */
import { Job, Queue } from 'bullmq';
import { writeLinesAtomic } from '../core/atomic.js';
import { AgeGenderError } from '../core/errors.js';
import { checkOutputFile } from '../core/output-path.js';
import { PREDICT_CSV_HEADER } from '../pipeline/predict-csv.js';
import { resultFormatOf, resultLines, type ResultFormat } from '../pipeline/predict-output.js';
import type { PredictFileResult } from '../pipeline/predict-files.js';
import { decodeJobResults, failedResults } from './codec.js';
import { withQueueSession } from './connection.js';
import { QUEUE_DEFAULTS, queueName } from './defaults.js';
import { unpackSources, type PackedSources } from './jobs.js';
import { queueStore, type QueueStore } from './store.js';

export interface QueueResultsOptions {
  redis: string;
  queue?: string;
  /** File to write (atomically). */
  out: string;
  /** Default: from the extension of `out` (.ndjson/.jsonl → ndjson, else csv). */
  format?: ResultFormat;
  /** Write what is there, unfinished images as QUEUE_UNFINISHED rows, instead of failing. */
  partial?: boolean;
  /** Stops the write (Ctrl-C): the temp file is removed, `out` left as it was, and the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface QueueResultsSummary {
  out: string;
  format: ResultFormat;
  images: number;
  /** Images whose row carries an error (unreadable, not an image, JOB_FAILED …); not those unfinished. */
  failed: number;
  /** Images not processed yet (only with `partial`). */
  unfinished: number;
}

const PAGE = 500;

/** A job without recorded results: failed for good (BullMQ says so), or not finished. */
async function missingJob(queue: Queue, id: string): Promise<{ results: PredictFileResult[]; unfinished: boolean }> {
  const job = (await Job.fromId(queue, id)) as Job<PackedSources> | undefined;
  if (!job) return { results: failedResults([`(job ${id})`], 'JOB_FAILED', 'the job is gone from Redis (removed, or its TTL ran out)'), unfinished: false };
  const sources = unpackSources(job.data);
  if ((await job.getState()) === 'failed') return { results: failedResults(sources, 'JOB_FAILED', `job failed: ${job.failedReason}`), unfinished: false };
  return { results: failedResults(sources, 'QUEUE_UNFINISHED', 'not processed yet'), unfinished: true };
}

/** Every image's result in input order, page by page; counts what it yields. */
async function* queueResults(store: QueueStore, queue: Queue, counts: { images: number; failed: number; unfinished: number }): AsyncGenerator<PredictFileResult> {
  for (let start = 0; ; start += PAGE) {
    const ids = await store.jobIds(start, start + PAGE - 1);
    if (ids.length === 0) return;
    const stored = await store.results(ids);
    for (let i = 0; i < ids.length; i++) {
      const text = stored[i];
      let results: PredictFileResult[];
      if (text) results = decodeJobResults(text);
      else {
        const missing = await missingJob(queue, ids[i]!);
        if (missing.unfinished) counts.unfinished += missing.results.length;
        results = missing.results;
      }
      for (const r of results) {
        counts.images++;
        if (r.error && r.error.code !== 'QUEUE_UNFINISHED') counts.failed++; // not processed yet is not failed
        yield r;
      }
    }
  }
}

async function* lines(results: AsyncGenerator<PredictFileResult>, format: ResultFormat, counts: { unfinished: number }, partial: boolean, signal: AbortSignal | undefined): AsyncGenerator<string> {
  if (format === 'csv') yield PREDICT_CSV_HEADER;
  for await (const r of results) {
    signal?.throwIfAborted(); // writeLinesAtomic then removes its temp file
    if (counts.unfinished > 0 && !partial) throw new AgeGenderError('QUEUE_UNFINISHED', 'some images are not processed yet (wait for the workers, or pass --partial)');
    yield* resultLines(r, format);
  }
}

/** Errors: QUEUE_UNAVAILABLE; QUEUE_UNFINISHED (nothing written) unless `partial`; an empty queue is QUEUE_UNFINISHED too; the abort reason when `signal` stops it (nothing written). */
export async function writeQueueResults(options: QueueResultsOptions): Promise<QueueResultsSummary> {
  const name = queueName(options.queue ?? QUEUE_DEFAULTS.queue);
  const format = resultFormatOf(options.out, options.format);
  await checkOutputFile(options.out); // before connecting: INVALID_ARGUMENT naming --out, not the temp file
  return withQueueSession(options.redis, name, async ({ redis, queue }) => {
    const store = queueStore(redis, name, QUEUE_DEFAULTS.ttlSeconds);
    const before = await store.counters();
    if (before.images === 0) throw new AgeGenderError('QUEUE_UNFINISHED', `queue "${name}" holds no images (nothing submitted, or its results expired)`);
    if (before.done < before.images && !options.partial) {
      throw new AgeGenderError('QUEUE_UNFINISHED', `${before.images - before.done} of ${before.images} images in queue "${name}" are not processed yet (wait for the workers, or pass --partial)`);
    }
    const counts = { images: 0, failed: 0, unfinished: 0 };
    await writeLinesAtomic(options.out, lines(queueResults(store, queue, counts), format, counts, options.partial ?? false, options.signal));
    return { out: options.out, format, ...counts };
  });
}
