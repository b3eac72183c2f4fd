/**
 * A bounded work queue: at most `concurrency` tasks run at once, at most `maxQueued` wait; past that
 * `run` rejects at once with QUEUE_FULL (the server answers 503 + Retry-After). Waiting tasks whose
 * signal aborts leave the queue (TIMEOUT) without running. A running task cannot be interrupted:
 * tfjs has no cancellation, so its result is simply dropped by the caller.
 *
 * @example
 *   const queue = new WorkQueue({ concurrency: 1, maxQueued: 8 });
 *   const result = await queue.run(() => heavyWork(), AbortSignal.timeout(30_000));
 */
import { AgeGenderError } from '../core/errors.js';
import { integerInRange } from '../core/validate.js';

export interface WorkQueueOptions {
  /** Tasks run at the same time (default 1: tfjs work is single-threaded anyway). */
  concurrency?: number;
  /** Tasks allowed to wait; one more is refused (default 8). */
  maxQueued?: number;
}

export interface WorkQueueStats {
  running: number;
  queued: number;
  concurrency: number;
  maxQueued: number;
  completed: number;
  rejected: number;
  /** Moving average of task duration, ms (0 before the first task ends). */
  averageMs: number;
}

interface Waiting {
  start: () => void;
  reject: (error: unknown) => void;
}

/** Thrown by {@link WorkQueue.run} when full; `retryAfterSeconds` feeds the Retry-After header. */
export class QueueFullError extends AgeGenderError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, queued: number) {
    super('QUEUE_FULL', `server busy: ${queued} requests already waiting; retry in ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class WorkQueue {
  readonly concurrency: number;
  readonly maxQueued: number;
  #running = 0;
  #waiting: Waiting[] = [];
  #completed = 0;
  #rejected = 0;
  #averageMs = 0;

  constructor(options: WorkQueueOptions = {}) {
    this.concurrency = integerInRange(options.concurrency ?? 1, 'concurrency', 1, 64);
    this.maxQueued = integerInRange(options.maxQueued ?? 8, 'maxQueued', 0, 10_000);
  }

  /** Seconds a new request would likely wait: queue length × average task time, at least 1. */
  retryAfterSeconds(): number {
    const perTask = this.#averageMs > 0 ? this.#averageMs : 1000;
    return Math.max(1, Math.ceil(((this.#waiting.length + this.#running) * perTask) / this.concurrency / 1000));
  }

  stats(): WorkQueueStats {
    return {
      running: this.#running,
      queued: this.#waiting.length,
      concurrency: this.concurrency,
      maxQueued: this.maxQueued,
      completed: this.#completed,
      rejected: this.#rejected,
      averageMs: Math.round(this.#averageMs),
    };
  }

  /** Runs `task` when a slot frees up. Rejects with QueueFullError when full, TIMEOUT when `signal` aborts first. */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new AgeGenderError('TIMEOUT', 'request timed out before it started'));
    if (this.#running >= this.concurrency && this.#waiting.length >= this.maxQueued) {
      this.#rejected++;
      return Promise.reject(new QueueFullError(this.retryAfterSeconds(), this.#waiting.length));
    }
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.#running++;
        const t0 = performance.now();
        let p: Promise<T>;
        try {
          p = task();
        } catch (error) {
          p = Promise.reject(error);
        }
        p.then(resolve, reject).finally(() => {
          const ms = performance.now() - t0;
          this.#averageMs = this.#completed === 0 ? ms : this.#averageMs * 0.8 + ms * 0.2;
          this.#completed++;
          this.#running--;
          this.#next();
        });
      };
      const entry: Waiting = { start, reject };
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(entry);
        if (i >= 0) {
          this.#waiting.splice(i, 1);
          reject(new AgeGenderError('TIMEOUT', 'request timed out while waiting in the queue'));
        }
      };
      if (this.#running < this.concurrency) {
        start();
      } else {
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiting.push(entry);
      }
    });
  }

  #next(): void {
    while (this.#running < this.concurrency) {
      const entry = this.#waiting.shift();
      if (!entry) return;
      entry.start();
    }
  }
}
