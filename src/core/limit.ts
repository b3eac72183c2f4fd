/**
 * Bounded concurrency: the one place that limits how many async tasks run at once.
 *
 * - {@link Semaphore}: `limit` slots; `acquire()` waits for one (FIFO, abortable), `run()` holds
 *   one around a task.
 * - {@link mapLimit}: maps a list with at most `limit` calls in flight, results in input order.
 * - {@link TaskPool}: for producers that discover work as they go (`await add(task)` waits for a
 *   free slot, which gives back-pressure), then `drain()`.
 *
 * @example
 *   const sizes = await mapLimit(files, 4, (f) => stat(f).then((s) => s.size));
 *   const gate = new Semaphore(2);
 *   const result = await gate.run(() => heavyWork(), AbortSignal.timeout(30_000));
 */
import { integerInRange } from './validate.js';

interface Waiter {
  grant: () => void;
}

/** `limit` slots handed out first come, first served. */
export class Semaphore {
  readonly limit: number;
  #active = 0;
  #waiters: Waiter[] = [];

  constructor(limit: number) {
    this.limit = integerInRange(limit, 'limit', 1, Number.MAX_SAFE_INTEGER);
  }

  /** Slots held now. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Waits for a slot and returns its release function (calling it more than once does nothing).
   * When `signal` aborts first, the caller leaves the line and the promise rejects with the signal's reason.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.limit) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#releaser());
        },
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Runs `task` while holding a slot; the slot is released however the task ends. */
  async run<T>(task: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await task();
    } finally {
      release();
    }
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next.grant(); // the slot passes straight to the next waiter
      else this.#active--;
    };
  }
}

/**
 * Maps over `items` with at most `limit` calls of `fn` in flight; results keep the input order.
 * Rejects with the first error (calls already started still run to their end; no new ones start).
 */
export async function mapLimit<T, U>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<U>): Promise<U[]> {
  integerInRange(limit, 'limit', 1, Number.MAX_SAFE_INTEGER);
  const out = new Array<U>(items.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T, i);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/**
 * Tasks added one by one, at most `limit` running. `add` resolves once the task has a slot (so a
 * producer that awaits it never runs ahead by more than `limit`); `drain` waits for every task and
 * rejects with the first error any of them threw.
 */
export class TaskPool {
  readonly #gate: Semaphore;
  readonly #running = new Set<Promise<void>>();
  #error: { value: unknown } | null = null;

  constructor(limit: number) {
    this.#gate = new Semaphore(limit);
  }

  async add(task: () => Promise<void>): Promise<void> {
    const release = await this.#gate.acquire();
    const promise: Promise<void> = Promise.resolve()
      .then(task)
      .catch((error: unknown) => {
        this.#error ??= { value: error };
      })
      .finally(() => {
        release();
        this.#running.delete(promise);
      });
    this.#running.add(promise);
  }

  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
    if (this.#error) throw this.#error.value;
  }
}
