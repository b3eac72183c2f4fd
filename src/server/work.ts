/**
 * The work behind predict and explain: decode the upload and run the pipeline, inside the queue
 * and under the request's time limit.
 */
import { AgeGenderError } from '../core/errors.js';
import { decodeImage } from '../io/decode.js';
import { analyzeImage, type AnalyzeResult } from '../pipeline/analyze.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';

/** Runs `work` with an abort signal; rejects with TIMEOUT after `ms` (the work's own result is then dropped). */
export async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new AgeGenderError('TIMEOUT', `request took longer than ${ms} ms`));
    }, ms);
  });
  const running = work(controller.signal);
  running.catch(() => undefined); // a late failure after the timeout must not become an unhandled rejection
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Decodes the upload and runs detect → align → predict (or the whole image as a chip). */
export async function analyzeUpload(ctx: ServerContext, bytes: Buffer, detect: boolean, signal: AbortSignal): Promise<AnalyzeResult> {
  if (detect && !ctx.detector) throw new HttpError('INVALID_ARGUMENT', 'this server has no face detector: send aligned chips with ?detect=false');
  const image = await decodeImage(bytes, 'upload', { maxPixels: ctx.limits.maxPixels });
  if (signal.aborted) throw new AgeGenderError('TIMEOUT', 'request timed out');
  return analyzeImage(ctx.model, ctx.detector, image, { detect });
}

/** Runs `task` in the shared queue under the request time limit. */
export function queued<T>(ctx: ServerContext, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return withTimeout(ctx.limits.requestTimeoutMs, (signal) => ctx.queue.run(() => task(signal), signal));
}
