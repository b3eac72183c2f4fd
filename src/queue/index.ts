/**
 * Batch prediction spread over many machines: a BullMQ queue on Redis. `submitImages` queues images
 * in jobs, `startQueueWorker` runs them (any number of workers, anywhere), `queueStatus` says how far
 * it is, `writeQueueResults` writes one row per image in input order. See docs/scaling.md.
 *
 * @example
 *   import { submitImages, startQueueWorker, writeQueueResults } from 'agegender/queue';
 *   await submitImages(['/shared/photos/'], { redis: 'redis://10.0.0.5:6379' });
 *   const worker = await startQueueWorker({ redis: 'redis://10.0.0.5:6379', untilEmpty: true });
 *   await worker.closed;
 *   await writeQueueResults({ redis: 'redis://10.0.0.5:6379', out: 'results.csv' });
 */
export { QUEUE_DEFAULTS } from './defaults.js';
export { probeRedis, redactRedisUrl } from './connection.js';
export { submitImages, type SubmitOptions, type SubmitSummary } from './submit.js';
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions, type QueueWorkerStats } from './worker.js';
export { queueStatus, watchQueue, type QueueStatus, type QueueStatusOptions } from './status.js';
export { writeQueueResults, type QueueResultsOptions, type QueueResultsSummary } from './results.js';
export { clearQueue, type ClearQueueOptions, type ClearQueueSummary } from './clear.js';
export { RESULT_FORMATS, type ResultFormat } from '../pipeline/predict-output.js';
