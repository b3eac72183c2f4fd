/**
 * HEIC/HEIF photos (the iPhone camera's default format), which sharp's prebuilt libvips cannot
 * decode (it has no HEVC decoder): libheif compiled to WebAssembly, through `heic-decode`, loaded
 * on first use only. libheif applies the file's own rotation and mirroring (`irot`/`imir`), which the
 * HEIF format uses instead of the EXIF orientation tag, so the pixels come back upright. The first
 * top-level image is taken: in a camera's photo, the photo itself (its thumbnail, depth map and
 * other auxiliary images are not top-level images); in a file holding several photos, the first,
 * which need not be the one marked primary. Colour: libheif's YCbCr → RGB conversion; an embedded
 * ICC profile is not applied.
 *
 * libheif runs synchronously: a 12 MP photo holds its thread for about 0.4 s. Called from the main
 * thread (a server's event loop, the CLI's), the work goes to worker threads of its own, started on
 * the first HEIC, never keeping the process alive, and ended after 30 s without work (their
 * WebAssembly memory only grows); other worker threads decode in place.
 */

import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { WorkerPool } from '../core/worker.js';

type HeicModule = typeof import('heic-decode');

export interface HeicSize {
  width: number;
  height: number;
}

export interface HeicPixels extends HeicSize {
  data: Buffer;
  channels: 4;
}

/** What the HEIC worker thread is asked (heic-worker.ts). */
export type HeicRequest = { op: 'size'; bytes: Uint8Array } | { op: 'decode'; bytes: Uint8Array };

let loading: Promise<HeicModule['default']> | undefined;

function heicDecode(): Promise<HeicModule['default']> {
  loading ??= import('heic-decode').then((m) => m.default);
  return loading;
}

/** libheif-js reports failures through `console.log` (these first arguments); they become the error's reason instead of output. */
const LIBHEIF_MESSAGES = new Set([
  'Could not create HEIF context',
  'Could not parse HEIF file',
  'Error loading image ids',
  'No images found',
  'Could not get image data for id',
  'Decoding image failed',
]);

function detailOf(args: unknown[]): string {
  for (const arg of args.slice(1)) {
    if (typeof arg === 'string' && arg.trim() !== '') return arg.trim();
    const message = (arg as { message?: unknown } | null)?.message;
    if (typeof message === 'string' && message.trim() !== '') return message.trim();
  }
  return String(args[0]);
}

/** Calls into libheif run one at a time per thread (its WebAssembly instance is single-threaded). */
let previous: Promise<unknown> = Promise.resolve();

/**
 * Runs `work` on the loaded decoder, after earlier calls, with libheif's failure messages taken off
 * `console.log` (other output passes through). Throws libheif's reason when it gave one.
 */
function withLibheif<T>(work: (decode: HeicModule['default']) => Promise<T>): Promise<T> {
  const run = previous.then(async () => {
    const decode = await heicDecode();
    let reason: string | undefined;
    const log = console.log;
    console.log = (...args: unknown[]): void => {
      if (typeof args[0] === 'string' && LIBHEIF_MESSAGES.has(args[0])) reason = detailOf(args);
      else log.apply(console, args);
    };
    try {
      return await work(decode);
    } catch (error) {
      throw reason === undefined ? error : new Error(reason, { cause: error });
    } finally {
      console.log = log;
    }
  });
  previous = run.catch(() => undefined);
  return run;
}

/** {@link heicSize} on this thread. */
export function heicSizeHere(bytes: Uint8Array): Promise<HeicSize> {
  return withLibheif(async (decode) => {
    const images = await decode.all({ buffer: bytes });
    try {
      const first = images[0];
      if (!first) throw new Error('no image in the file');
      return { width: first.width, height: first.height };
    } finally {
      images.dispose();
    }
  });
}

/** {@link decodeHeic} on this thread. */
export function decodeHeicHere(bytes: Uint8Array): Promise<HeicPixels> {
  return withLibheif(async (decode) => {
    const { data, width, height } = await decode({ buffer: bytes });
    return { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 4 as const };
  });
}

type HeicPool = WorkerPool<HeicRequest, HeicSize | HeicPixels>;

let pool: HeicPool | undefined;
let inFlight = 0;
let idleTimer: NodeJS.Timeout | undefined;
/** Idle time after which the HEIC threads end, giving back their WebAssembly memory (it grows to the largest image decoded: about 180 MB for 12 MP). */
let idleCloseMs = 30_000;

/** Sets how long idle HEIC threads are kept (internal; tests). */
export function setHeicIdleClose(ms: number): void {
  idleCloseMs = ms;
}

/** HEIC decoding threads alive now (0 before the first HEIC and after an idle period). */
export function heicThreads(): number {
  return pool?.size ?? 0;
}

/**
 * Runs a request on the HEIC threads: two (one on a single core), started on first use, a crashed
 * one replaced, all ended after {@link idleCloseMs} without work.
 */
async function onHeicThreads<T extends HeicSize>(request: HeicRequest): Promise<T> {
  clearTimeout(idleTimer);
  pool ??= new WorkerPool({ base: import.meta.url, name: 'heic-worker', size: Math.min(2, availableParallelism()), unrefWhenIdle: true, respawns: 1_000_000 });
  const current = pool;
  inFlight++;
  try {
    return (await current.request(request, [request.bytes.buffer as ArrayBuffer])) as T;
  } finally {
    if (--inFlight === 0) {
      idleTimer = setTimeout(() => {
        if (pool !== current || inFlight > 0) return;
        pool = undefined;
        void current.close();
      }, idleCloseMs).unref();
    }
  }
}

/** A copy of `bytes` that can be moved to the worker (the caller keeps its own). */
function movable(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** The first image's upright size, without decoding its pixels. Throws the decoder's error. */
export async function heicSize(bytes: Uint8Array): Promise<HeicSize> {
  if (!isMainThread) return heicSizeHere(bytes);
  return onHeicThreads({ op: 'size', bytes: movable(bytes) });
}

/** The first image as 8-bit RGBA, upright. Throws the decoder's error (with libheif's reason when it gives one). */
export async function decodeHeic(bytes: Uint8Array): Promise<HeicPixels> {
  if (!isMainThread) return decodeHeicHere(bytes);
  const px = await onHeicThreads<HeicPixels>({ op: 'decode', bytes: movable(bytes) });
  // Structured cloning delivers a Uint8Array; the callers expect a Buffer over the same memory.
  return { ...px, data: Buffer.from(px.data.buffer, px.data.byteOffset, px.data.byteLength) };
}
