/**
 * The one admission queue for predict and explain. At most `concurrency` tasks run (a
 * {@link Semaphore} from core/limit.ts), at most `maxQueued` wait, and a request is only let in
 * when it can finish before its deadline:
 *
 * - full queue → QUEUE_FULL at once (503 + Retry-After);
 * - estimated wait (work ahead ÷ concurrency) + its own estimated run time past the deadline →
 *   QUEUE_FULL at once, unless nothing is running (a lone request is always tried);
 * - a waiting request that can no longer finish in time (deadline − its estimate has passed)
 *   leaves the line before it takes a slot, with QUEUE_FULL;
 * - a running task past its deadline answers TIMEOUT (504); tfjs and onnxruntime cannot be
 *   interrupted, so its result is dropped and its slot is held until it really ends (the task is
 *   given an AbortSignal that aborts then: LIME stops at its next batch);
 * - a request whose client closed the connection (the `gone` signal) leaves the line, or, running,
 *   has its task's signal aborted: an abandoned request does not keep the next ones waiting.
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
   * task's signal aborts at the deadline. Rejects with QueueFullError (not admitted, or cut while
   * waiting) or TIMEOUT (ran past the deadline). When `gone` aborts (the client closed the
   * connection), a waiting request leaves the line without running, and a running one has its
   * task's signal aborted (LIME stops at its next batch); either rejects with `gone`'s reason.
   */
  async run<T>(kind: WorkKind, deadline: number, task: (signal: AbortSignal) => Promise<T>, gone?: AbortSignal): Promise<T> {
    gone?.throwIfAborted();
    const estimate = this.#expected[kind];
    this.#admit(estimate, deadline);
    this.#aheadMs += estimate;
    let release: () => void;
    try {
      const free = this.#gate.active < this.concurrency;
      const patience = Math.max(0, Math.floor(deadline - estimate - performance.now()));
      release = await this.#gate.acquire(free ? gone : eitherSignal(AbortSignal.timeout(patience), gone));
    } catch (error) {
      this.#aheadMs -= estimate;
      if (error instanceof DOMException && error.name === 'TimeoutError') throw this.#refuse('this request could no longer finish within the time limit');
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
    return raceDeadline(running, deadline, controller, gone);
  }

  /** Throws QueueFullError when the line is full or the request could not finish by `deadline`. */
  #admit(estimate: number, deadline: number): void {
    if (this.#gate.waiting >= this.maxQueued && this.#gate.active >= this.concurrency) {
      throw this.#refuse(`${this.#gate.waiting} requests already waiting`);
    }
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

/** A signal that aborts when `a` or `b` does, with its reason. */
function eitherSignal(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  if (!b) return a;
  const both = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) both.abort(s.reason);
    else s.addEventListener('abort', () => both.abort(s.reason), { once: true });
  }
  return both.signal;
}

/**
 * `running`'s result, or TIMEOUT (and `controller` aborted) when `deadline` comes first; when
 * `gone` aborts first (the client left), `controller` is aborted and this rejects with its reason.
 */
async function raceDeadline<T>(running: Promise<T>, deadline: number, controller: AbortController, gone?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onGone: (() => void) | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new AgeGenderError('TIMEOUT', 'request took longer than the time limit'));
    }, Math.max(0, deadline - performance.now()));
    onGone = () => {
      controller.abort();
      reject(gone?.reason);
    };
    if (gone?.aborted) onGone();
    else gone?.addEventListener('abort', onGone, { once: true });
  });
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
    if (onGone) gone?.removeEventListener('abort', onGone);
  }
}
