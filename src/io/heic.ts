/**
 * HEIC/HEIF photos (the iPhone camera's default format), which sharp's prebuilt libvips cannot
 * decode (it has no HEVC decoder): libheif compiled to WebAssembly, through `heic-decode`, loaded
 * on first use only. libheif applies the file's own rotation and mirroring (`irot`/`imir`), which the
 * HEIF format uses instead of the EXIF orientation tag, so the pixels come back upright. The first
 * top-level image is taken (a burst or a Live Photo stores its key image first). Colour: libheif's
 * YCbCr → RGB conversion; an embedded ICC profile is not applied.
 *
 * libheif runs synchronously: a 12 MP photo holds its thread for about 0.4 s. Called from the main
 * thread (a server's event loop, the CLI's), the work goes to one worker thread of its own, started
 * on the first HEIC and never keeping the process alive; worker threads (the photo pools) decode in place.
 */

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

let pool: WorkerPool<HeicRequest, HeicSize | HeicPixels> | undefined;

/** The HEIC worker thread, started on first use; a crashed one is replaced. */
function heicPool(): WorkerPool<HeicRequest, HeicSize | HeicPixels> {
  pool ??= new WorkerPool({ base: import.meta.url, name: 'heic-worker', unrefWhenIdle: true, respawns: 1_000_000 });
  return pool;
}

/** A copy of `bytes` that can be moved to the worker (the caller keeps its own). */
function movable(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** The first image's upright size, without decoding its pixels. Throws the decoder's error. */
export async function heicSize(bytes: Uint8Array): Promise<HeicSize> {
  if (!isMainThread) return heicSizeHere(bytes);
  const copy = movable(bytes);
  return heicPool().request({ op: 'size', bytes: copy }, [copy.buffer]);
}

/** The first image as 8-bit RGBA, upright. Throws the decoder's error (with libheif's reason when it gives one). */
export async function decodeHeic(bytes: Uint8Array): Promise<HeicPixels> {
  if (!isMainThread) return decodeHeicHere(bytes);
  const copy = movable(bytes);
  const px = (await heicPool().request({ op: 'decode', bytes: copy }, [copy.buffer])) as HeicPixels;
  // Structured cloning delivers a Uint8Array; the callers expect a Buffer over the same memory.
  return { ...px, data: Buffer.from(px.data.buffer, px.data.byteOffset, px.data.byteLength) };
}
