/**
 * The one admission queue for predict and explain. At most `concurrency` tasks run (a
 * {@link Semaphore} from core/limit.ts), at most `maxQueued` wait, and a request is only let in
 * when it can finish before its deadline:
 *
 * - full queue → QUEUE_FULL at once (503 + Retry-After); {@link AdmissionQueue.refuseIfFull} lets a
 *   route refuse so before it reads the upload;
 * - estimated wait (work ahead ÷ concurrency) + its own estimated run time past the deadline →
 *   QUEUE_FULL at once, unless nothing is running (a lone request is always tried);
 * - a waiting request that can no longer finish in time (deadline − its estimate has passed)
 *   leaves the line before it takes a slot, with QUEUE_FULL;
 * - a running task past its deadline answers TIMEOUT (504); tfjs and onnxruntime cannot be
 *   interrupted, so its result is dropped and its slot is held until it really ends (the task is
 *   given an AbortSignal that aborts then: LIME stops at its next batch);
 * - a request cancelled by its caller (`cancel`: the client closed the connection) leaves the line
 *   at once without taking a slot, or, when already running, has its task's signal aborted as at
 *   the deadline; it rejects with `cancel`'s reason.
 *
 * Run time is estimated per kind of work (a moving average of finished tasks, starting from
 * {@link DEFAULT_EXPECTED_MS}), because an explanation costs tens of predictions and a photo tens
 * of chips. Retry-After is the estimated time until the work admitted so far is done.
 *
 * A lone request on an idle server is always tried, even when its kind's estimate exceeds the time
 * limit: the estimate only changes as tasks finish, so refusing would refuse that kind for good.
 * Such a request holds the slot until it ends and answers 504 if it runs past the limit.
 *
 * @example
 *   const queue = new AdmissionQueue({ concurrency: 1, maxQueued: 8 });
 *   const result = await queue.run('predict', performance.now() + 30_000, (signal) => work(signal));
 */
import { AgeGenderError } from '../core/errors.js';
import { Semaphore } from '../core/limit.js';
import { integerInRange } from '../core/validate.js';

/** Kinds of work, timed apart: a photo (`predict`, with detection) costs tens of chips (`chip`, `detect=false`). */
export type WorkKind = 'predict' | 'chip' | 'explain' | 'preview';

/** Run-time estimates before any task of the kind has finished, ms. */
export const DEFAULT_EXPECTED_MS: Readonly<Record<WorkKind, number>> = Object.freeze({ predict: 1000, chip: 100, explain: 10_000, preview: 300 });

export interface AdmissionQueueOptions {
  /** Tasks run at the same time (default 1: inference is single-threaded per model anyway). */
  concurrency?: number;
  /** Tasks allowed to wait; one more is refused (default 8). */
  maxQueued?: number;
  /** Run-time estimates used until tasks of each kind have been timed. */
  expectedMs?: Partial<Record<WorkKind, number>>;
}

export interface QueueStats {
  running: number;
  queued: number;
  concurrency: number;
  maxQueued: number;
  completed: number;
  rejected: number;
  /** Moving average of task duration over all kinds, ms (0 before the first task ends). */
  averageMs: number;
}

/** Thrown when a request is not admitted; `retryAfterSeconds` feeds the Retry-After header. */
export class QueueFullError extends AgeGenderError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, why: string) {
    super('QUEUE_FULL', `server busy: ${why}; retry in ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class AdmissionQueue {
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly #gate: Semaphore;
  readonly #expected: Record<WorkKind, number>;
  readonly #timed: Record<WorkKind, boolean> = { predict: false, chip: false, explain: false, preview: false };
  /** Sum of the estimates of the tasks waiting and running (the work ahead of a newcomer), ms. */
  #aheadMs = 0;
  #completed = 0;
  #rejected = 0;
  #averageMs = 0;

  constructor(options: AdmissionQueueOptions = {}) {
    this.concurrency = integerInRange(options.concurrency ?? 1, 'concurrency', 1, 64);
    this.maxQueued = integerInRange(options.maxQueued ?? 8, 'maxQueued', 0, 10_000);
    this.#gate = new Semaphore(this.concurrency);
    this.#expected = { ...DEFAULT_EXPECTED_MS, ...options.expectedMs };
  }

  /** Current run-time estimate of a kind of work, ms. */
  expectedMs(kind: WorkKind): number {
    return this.#expected[kind];
  }

  /** Seconds until the work now queued should be done: a fair Retry-After, at least 1. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#aheadMs / this.concurrency / 1000));
  }

  stats(): QueueStats {
    return {
      running: this.#gate.active,
      queued: this.#gate.waiting,
      concurrency: this.concurrency,
      maxQueued: this.maxQueued,
      completed: this.#completed,
      rejected: this.#rejected,
      averageMs: Math.round(this.#averageMs),
    };
  }

  /**
   * Runs `task` once admitted and given a slot; `deadline` is a `performance.now()` time. The
   * task's signal aborts at the deadline or when `cancel` aborts. Rejects with QueueFullError (not
   * admitted, or cut while waiting), TIMEOUT (ran past the deadline) or `cancel`'s reason.
   */
  async run<T>(kind: WorkKind, deadline: number, task: (signal: AbortSignal) => Promise<T>, cancel?: AbortSignal): Promise<T> {
    cancel?.throwIfAborted();
    const estimate = this.#expected[kind];
    this.#admit(estimate, deadline);
    this.#aheadMs += estimate;
    let release: () => void;
    try {
      release = await this.#acquire(estimate, deadline, cancel);
    } catch (error) {
      this.#aheadMs -= estimate;
      throw error;
    }
    const t0 = performance.now();
    const controller = new AbortController();
    const running = Promise.resolve().then(() => task(controller.signal));
    // The slot is held until the task really ends, even when its answer was dropped at the deadline.
    void running
      .catch(() => undefined)
      .finally(() => {
        release();
        this.#aheadMs -= estimate;
        this.#record(kind, performance.now() - t0);
      });
    return raceDeadline(running, deadline, controller, cancel);
  }

  /**
   * A slot: at once when one is free, else after waiting in line, which a request leaves when it
   * could no longer finish by `deadline` (QueueFullError) or when `cancel` aborts (its reason).
   */
  #acquire(estimate: number, deadline: number, cancel: AbortSignal | undefined): Promise<() => void> {
    return this.#gate.active < this.concurrency ? this.#gate.acquire() : this.#waitInLine(estimate, deadline, cancel);
  }

  async #waitInLine(estimate: number, deadline: number, cancel: AbortSignal | undefined): Promise<() => void> {
    const leave = new AbortController();
    const patience = Math.max(0, Math.floor(deadline - estimate - performance.now()));
    const timer = setTimeout(() => leave.abort(TOO_LATE), patience);
    const onCancel = (): void => leave.abort(cancel?.reason);
    cancel?.addEventListener('abort', onCancel, { once: true });
    try {
      return await this.#gate.acquire(leave.signal);
    } catch (error) {
      if (error === TOO_LATE) throw this.#refuse('this request could no longer finish within the time limit');
      throw error;
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
    }
  }

  /**
   * Throws QueueFullError when the line is full right now: a request can be refused this way before
   * its upload is read, so a flood costs no more than its headers.
   */
  refuseIfFull(): void {
    if (this.#gate.waiting >= this.maxQueued && this.#gate.active >= this.concurrency) {
      throw this.#refuse(`${this.#gate.waiting} requests already waiting`);
    }
  }

  /** Throws QueueFullError when the line is full or the request could not finish by `deadline`. */
  #admit(estimate: number, deadline: number): void {
    this.refuseIfFull();
    const idle = this.#gate.active === 0 && this.#gate.waiting === 0;
    const finish = performance.now() + this.#aheadMs / this.concurrency + estimate;
    if (!idle && finish > deadline) {
      throw this.#refuse(`the work ahead would not let this request finish within the time limit`);
    }
  }

  #refuse(why: string): QueueFullError {
    this.#rejected++;
    return new QueueFullError(this.retryAfterSeconds(), why);
  }

  #record(kind: WorkKind, ms: number): void {
    this.#expected[kind] = this.#timed[kind] ? this.#expected[kind] * 0.8 + ms * 0.2 : ms;
    this.#timed[kind] = true;
    this.#averageMs = this.#completed === 0 ? ms : this.#averageMs * 0.8 + ms * 0.2;
    this.#completed++;
  }
}

/** The reason a waiting request leaves the line at its last useful moment. */
const TOO_LATE = Symbol('too late');

/**
 * `running`'s result; TIMEOUT when `deadline` comes first, or `cancel`'s reason when it aborts
 * first (either way `controller` is aborted, so the task can stop early).
 */
async function raceDeadline<T>(running: Promise<T>, deadline: number, controller: AbortController, cancel: AbortSignal | undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onCancel = (): void => undefined;
  const stopped = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new AgeGenderError('TIMEOUT', 'request took longer than the time limit'));
    }, Math.max(0, deadline - performance.now()));
    onCancel = () => {
      controller.abort();
      reject(cancel?.reason);
    };
    if (cancel?.aborted) onCancel();
    else cancel?.addEventListener('abort', onCancel, { once: true });
  });
  try {
    return await Promise.race([running, stopped]);
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener('abort', onCancel);
  }
}
