/**
 * HEIC/HEIF photos (the iPhone camera's default format), which sharp's prebuilt libvips cannot
 * decode (it has no HEVC decoder): libheif compiled to WebAssembly (`libheif-js`), loaded on first
 * use only. libheif applies the file's own rotation and mirroring (`irot`/`imir`), which the
 * HEIF format uses instead of the EXIF orientation tag, so the pixels come back upright. The image
 * taken is the file's primary image (the photo; a thumbnail, depth map or other auxiliary image is
 * never taken), else the first top-level one. Colour: libheif's YCbCr → RGB conversion; an embedded
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
import type { HeifImage } from 'libheif-js/wasm-bundle.js';

type Libheif = (typeof import('libheif-js/wasm-bundle.js'))['default'];

export interface HeicSize {
  width: number;
  height: number;
}

export interface HeicPixels extends HeicSize {
  data: Buffer;
  channels: 4;
}

/** What the HEIC worker thread is asked (heic-worker.ts). */
export interface HeicRequest {
  op: 'size' | 'decode';
  bytes: Uint8Array;
}

/** How every error starts when libheif-js itself cannot be loaded (a broken install): not the file's fault. */
export const HEIC_DECODER_UNAVAILABLE = 'the HEIC decoder (libheif-js) cannot be loaded';

/** True for the error of a libheif-js that cannot be loaded (also after crossing from a worker thread, as its message). */
export function isHeicDecoderUnavailable(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith(HEIC_DECODER_UNAVAILABLE);
}

const loadLibheif = async (): Promise<Libheif> => {
  const m = await import('libheif-js/wasm-bundle.js');
  await m.default.ready;
  return m.default;
};
let loader = loadLibheif;
let loading: Promise<Libheif> | undefined;

/** Replaces how libheif-js is loaded on this thread (internal; tests simulate a broken install). Null restores it. */
export function setLibheifLoader(load: (() => Promise<Libheif>) | null): void {
  loader = load ?? loadLibheif;
  loading = undefined;
}

function libheif(): Promise<Libheif> {
  loading ??= loader().catch((error: unknown) => {
    loading = undefined; // a later call tries again
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${HEIC_DECODER_UNAVAILABLE}: ${reason} (reinstall the package's dependencies: npm ci)`, { cause: error });
  });
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
 * Opens `bytes` and runs `work` on the image to use (the primary one, else the first), after
 * earlier calls on this thread, with libheif's failure messages taken off `console.log` (other
 * output passes through). Throws libheif's reason when it gave one. Frees everything after.
 */
function withHeifImage<T>(bytes: Uint8Array, work: (image: HeifImage) => Promise<T>): Promise<T> {
  const run = previous.then(async () => {
    const { HeifDecoder } = await libheif();
    let reason: string | undefined;
    const log = console.log;
    console.log = (...args: unknown[]): void => {
      if (typeof args[0] === 'string' && LIBHEIF_MESSAGES.has(args[0])) reason = detailOf(args);
      else log.apply(console, args);
    };
    const decoder = new HeifDecoder();
    let images: HeifImage[] = [];
    try {
      images = decoder.decode(bytes);
      const image = images.find((i) => i.is_primary()) ?? images[0];
      if (!image) throw new Error(reason ?? 'no image in the file');
      return await work(image);
    } catch (error) {
      throw reason === undefined || isHeicDecoderUnavailable(error) || (error instanceof Error && error.message === reason) ? error : new Error(reason, { cause: error });
    } finally {
      console.log = log;
      for (const image of images) image.free();
      decoder.decoder?.delete();
    }
  });
  previous = run.catch(() => undefined);
  return run;
}

/** {@link heicSize} on this thread. */
export function heicSizeHere(bytes: Uint8Array): Promise<HeicSize> {
  return withHeifImage(bytes, async (image) => ({ width: image.get_width(), height: image.get_height() }));
}

/** {@link decodeHeic} on this thread. */
export function decodeHeicHere(bytes: Uint8Array): Promise<HeicPixels> {
  return withHeifImage(bytes, async (image) => {
    const width = image.get_width();
    const height = image.get_height();
    const data = new Uint8ClampedArray(width * height * 4);
    const done = await new Promise<unknown>((resolve) => image.display({ data, width, height }, resolve));
    if (done === null) throw new Error('the image data cannot be decoded');
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

/** The primary image's upright size, without decoding its pixels. Throws the decoder's error. */
export async function heicSize(bytes: Uint8Array): Promise<HeicSize> {
  if (!isMainThread) return heicSizeHere(bytes);
  return onHeicThreads({ op: 'size', bytes: movable(bytes) });
}

/** The primary image as 8-bit RGBA, upright. Throws the decoder's error (with libheif's reason when it gives one). */
export async function decodeHeic(bytes: Uint8Array): Promise<HeicPixels> {
  if (!isMainThread) return decodeHeicHere(bytes);
  const px = await onHeicThreads<HeicPixels>({ op: 'decode', bytes: movable(bytes) });
  // Structured cloning delivers a Uint8Array; the callers expect a Buffer over the same memory.
  return { ...px, data: Buffer.from(px.data.buffer, px.data.byteOffset, px.data.byteLength) };
}
