/**
 * Worker threads: {@link spawnModuleWorker} starts one from a module next to the caller (from .js or,
 * under tsx, .ts sources), {@link WorkerPool} sends it requests and settles their replies (crash
 * handling included), {@link serveRequests} is the worker's side of that protocol.
 */
import { parentPort, Worker, type Transferable } from 'node:worker_threads';
import { AgeGenderError, isErrorCode, type ErrorCode } from './errors.js';
import { Semaphore } from './limit.js';
import { integerInRange } from './validate.js';

/**
 * Starts a worker thread from a module next to `base` (pass `import.meta.url`), named without
 * extension. From compiled JS it runs `<name>.js`; from TypeScript sources (tsx: tests, benches)
 * workers do not inherit tsx's loader hooks, so the worker registers them before importing `<name>.ts`.
 */
export function spawnModuleWorker(base: string, name: string, workerData: unknown): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const body = new URL(`./${name}.ts`, base).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(body)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/** An error as it crosses the thread boundary: the AgeGenderError code and subject when there are, and the message. */
export interface WorkerError {
  code?: string;
  /** The whole message (with the subject in front, when there is one). */
  message: string;
  /** The AgeGenderError's subject (the file it is about), when it has one. */
  subject?: string;
}

/** `error` as it is posted across the thread boundary. */
function workerErrorOf(error: unknown): WorkerError {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof AgeGenderError)) return { message };
  return { code: error.code, message, ...(error.subject ? { subject: error.subject } : {}) };
}

/**
 * The AgeGenderError a {@link WorkerError} was, with `code` (default: its own, else `fallback`),
 * message and subject as they were thrown (so it reads as the same error thrown in-process); a
 * plain Error when it had no code and no `fallback` is given.
 */
export function workerErrorToError(error: WorkerError, fallback?: ErrorCode): Error {
  const code = isErrorCode(error.code) ? error.code : fallback;
  if (code === undefined) return new Error(error.message);
  const { subject } = error;
  if (subject === undefined || !error.message.startsWith(`${subject}: `)) return new AgeGenderError(code, error.message);
  return new AgeGenderError(code, error.message.slice(subject.length + 2), { subject });
}

/** What a worker posts: the answer to request `id`, or (once, after starting) that it is ready. */
type WorkerMessage = { id: number; result?: unknown; error?: WorkerError } | { ready: true; info?: unknown };

export interface WorkerPoolOptions {
  /** `import.meta.url` of the module next to the worker's module (see {@link spawnModuleWorker}). */
  base: string;
  /** The worker module's name without extension. */
  name: string;
  workerData?: unknown;
  /** Worker threads (default 1). */
  size?: number;
  /** Requests in flight on one worker; more wait in line for a free one (default: no limit, least busy worker). */
  maxPerWorker?: number;
  /** Workers started in place of ones that died (default 0: a dead worker is not replaced; with none left the pool fails). */
  respawns?: number;
  /** An idle pool never keeps the process alive (each worker is ref'd only while it has requests). */
  unrefWhenIdle?: boolean;
  /** Turns an error reply into the Error the request rejects with (default: an AgeGenderError with its code, else Error). */
  toError?: (error: WorkerError) => Error;
  /** How long `close` waits for a worker to exit after asking it to, before terminating it (default 2000 ms). */
  closeGraceMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Member {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Resolves with the worker's ready info; rejects if it dies first. */
  ready: Promise<unknown>;
  dead: boolean;
}

function defaultToError(error: WorkerError): Error {
  return workerErrorToError(error);
}

/**
 * Worker threads that answer requests: each request gets an id and a pending reply; a reply
 * `{ id, result }` or `{ id, error }` settles it. A worker that dies (an uncaught error, or an exit
 * the pool did not ask for) rejects only its own pending requests; it is replaced while `respawns`
 * last, otherwise dropped, and when no worker is left the pool fails: every later request rejects
 * with the error that killed the last one. The worker side is {@link serveRequests}.
 *
 * @example
 *   const pool = new WorkerPool<Job, Answer>({ base: import.meta.url, name: 'my-worker', size: 4, respawns: 2 });
 *   await pool.ready();                 // only if the worker announces readiness
 *   const answer = await pool.request(job, [job.bytes.buffer]);
 *   await pool.close();
 */
export class WorkerPool<Request, Response> {
  readonly #options: WorkerPoolOptions;
  readonly #members: Member[] = [];
  readonly #gate: Semaphore | null;
  #nextId = 0;
  #respawnsLeft: number;
  #failure: Error | null = null;
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    const size = integerInRange(options.size ?? 1, 'size', 1, 64);
    const perWorker = options.maxPerWorker ?? Infinity;
    this.#gate = Number.isFinite(perWorker) ? new Semaphore(size * integerInRange(perWorker, 'maxPerWorker', 1, 1_000_000)) : null;
    this.#respawnsLeft = integerInRange(options.respawns ?? 0, 'respawns', 0, 1_000_000);
    for (let i = 0; i < size; i++) this.#members.push(this.#spawn());
  }

  /** Workers alive now. */
  get size(): number {
    return this.#members.length;
  }

  /** {@link ready}, but a pool that cannot start is terminated before the error is rethrown. */
  async readyOrTerminate(timeoutMs = Infinity): Promise<unknown[]> {
    try {
      return await this.ready(timeoutMs);
    } catch (error) {
      await this.terminate();
      throw error;
    }
  }

  /** Why the pool no longer takes requests (every worker died), or null. */
  get failure(): Error | null {
    return this.#failure;
  }

  /**
   * Waits until every worker has posted `{ ready: true, info }` and returns the infos. Rejects when
   * a worker dies first or `timeoutMs` passes; the caller should then `close()` the pool.
   */
  async ready(timeoutMs = Infinity): Promise<unknown[]> {
    const all = Promise.all(this.#members.map((m) => m.ready));
    if (!Number.isFinite(timeoutMs)) return all;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.#options.name} not ready after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `request` to the least busy worker (waiting for one under `maxPerWorker`); `transfer` moves buffers instead of copying them. */
  async request(request: Request, transfer: readonly Transferable[] = []): Promise<Response> {
    const release = this.#gate ? await this.#gate.acquire() : null;
    try {
      if (this.#closed) throw new Error(`${this.#options.name} pool is closed`);
      if (this.#failure) throw this.#failure;
      let member = this.#members[0]!;
      for (const m of this.#members) if (m.pending.size < member.pending.size) member = m;
      return (await this.#send(member, request, transfer)) as Response;
    } finally {
      release?.();
    }
  }

  /** Asks every worker to finish (`'close'`), terminating any still running after the grace period. */
  async close(): Promise<void> {
    this.#closed = true;
    const grace = this.#options.closeGraceMs ?? 2000;
    await Promise.all(
      this.#members.map(
        ({ worker }) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.ref(); // an unref'd worker's exit must still be waited for
            worker.postMessage('close');
            setTimeout(() => void worker.terminate(), grace).unref();
          }),
      ),
    );
  }

  /** Ends every worker at once, without asking (for a pool that failed to start). */
  async terminate(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#members.map(({ worker }) => worker.terminate()));
  }

  #send(member: Member, request: Request, transfer: readonly Transferable[]): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      member.pending.set(id, { resolve, reject });
      if (this.#options.unrefWhenIdle) member.worker.ref(); // busy: keep the process alive until the reply
      member.worker.postMessage({ id, request }, transfer);
    });
  }

  #spawn(): Member {
    const worker = spawnModuleWorker(this.#options.base, this.#options.name, this.#options.workerData);
    let announce: { resolve: (info: unknown) => void; reject: (error: Error) => void } | null = null;
    const ready = new Promise<unknown>((resolve, reject) => (announce = { resolve, reject }));
    ready.catch(() => undefined); // a pool nobody waits on must not raise an unhandled rejection
    const member: Member = { worker, pending: new Map(), ready, dead: false };
    worker.on('message', (msg: WorkerMessage) => {
      if ('ready' in msg) return announce?.resolve(msg.info);
      const p = member.pending.get(msg.id);
      if (!p) return;
      member.pending.delete(msg.id);
      if (this.#options.unrefWhenIdle && member.pending.size === 0) worker.unref();
      if (msg.error) p.reject((this.#options.toError ?? defaultToError)(msg.error));
      else p.resolve(msg.result);
    });
    const crash = (error: Error): void => {
      announce?.reject(error);
      this.#onCrash(member, error);
    };
    worker.on('error', crash);
    worker.on('exit', (code) => crash(new Error(`${this.#options.name} exited (code ${code})`)));
    if (this.#options.unrefWhenIdle) worker.unref();
    return member;
  }

  #onCrash(member: Member, error: Error): void {
    if (member.dead) return;
    member.dead = true;
    this.#members.splice(this.#members.indexOf(member), 1);
    for (const p of member.pending.values()) p.reject(error);
    member.pending.clear();
    if (this.#closed) return;
    if (this.#respawnsLeft > 0) {
      this.#respawnsLeft--;
      this.#members.push(this.#spawn());
    } else if (this.#members.length === 0) this.#failure = error;
  }
}

/**
 * The worker side of {@link WorkerPool}: answers each `{ id, request }` with `{ id, result }` or, when
 * `handle` throws, `{ id, error }`; on `'close'` runs `onClose` and lets the thread end. Posts
 * `{ ready: true, info }` at once when `ready` is given (call this after any slow set-up).
 */
export function serveRequests<Request, Response>(
  handle: (request: Request) => Promise<Response> | Response,
  options: { ready?: unknown; onClose?: () => void; transfer?: (response: Response) => Transferable[] } = {},
): void {
  const port = parentPort;
  if (!port) throw new Error('serveRequests must run in a worker thread');
  port.on('message', (msg: { id: number; request: Request } | 'close') => {
    if (msg === 'close') {
      options.onClose?.();
      port.close();
      return;
    }
    Promise.resolve()
      .then(() => handle(msg.request))
      .then(
        (result) => port.postMessage({ id: msg.id, result }, options.transfer?.(result) ?? []),
        (error: unknown) => port.postMessage({ id: msg.id, error: workerErrorOf(error) }),
      );
  });
  if ('ready' in options) port.postMessage({ ready: true, info: options.ready });
}
