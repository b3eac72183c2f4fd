/**
 * The work behind predict, explain and preview: decode the upload and run the pipeline (or encode the
 * preview JPEG), inside the queue and under the request's time limit.
 */
import type { FastifyReply } from 'fastify';
import sharp from 'sharp';
import { AgeGenderError } from '../core/errors.js';
import { decodeImage, type ImageHeader } from '../io/decode.js';
import type { RawImage } from '../io/types.js';
import { analyzeImage, scaleBox, type AnalyzeResult } from '../pipeline/analyze.js';
import { checkShrunkSize } from '../pipeline/quality.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';
import type { WorkKind } from './queue.js';
import type { Upload } from './upload.js';

/**
 * Longest side an upload is decoded at. Photos: faces are found on at most 1600 px anyway and
 * aligned to 200 px chips, so 2048 px keeps every face the detector can see at full chip resolution.
 * Chips (`detect=false`): the network sees 150 px, so 512 px loses nothing. Decoding shrinks on the
 * stream (`decode.ts`), so neither the full-size pixels nor a full-size padded tensor ever exist.
 */
export const WORK_MAX_SIDE = Object.freeze({ photo: 2048, chip: 512 });

/** Maps boxes found on the shrunk working image back to the uploaded image's pixels. */
function toUploadPixels(result: AnalyzeResult, header: ImageHeader, detect: boolean): AnalyzeResult {
  const sx = header.width / result.width;
  const sy = header.height / result.height;
  const faces = result.faces.map((f) => ({ ...f, box: detect ? scaleBox(f.box, sx, sy) : { x: 0, y: 0, width: header.width, height: header.height } }));
  return { ...result, width: header.width, height: header.height, faces };
}

/** The upload decoded upright with its longer side at most `maxSide`, under the server's pixel limit; TIMEOUT when the request expired meanwhile. */
async function decodeUpload(ctx: ServerContext, upload: Upload, maxSide: number, signal: AbortSignal): Promise<RawImage> {
  const image = await decodeImage(upload.bytes, 'upload', { maxPixels: ctx.limits.maxPixels, maxSide, header: upload.header });
  if (signal.aborted) throw new AgeGenderError('TIMEOUT', 'request timed out');
  return image;
}

/** Decodes the upload at its working size and runs detect → align → predict (or the whole image as a chip). */
export async function analyzeUpload(ctx: ServerContext, upload: Upload, detect: boolean, signal: AbortSignal): Promise<AnalyzeResult> {
  if (detect && !ctx.detector) throw new HttpError('INVALID_ARGUMENT', 'this server has no face detector: send aligned chips with ?detect=false');
  const image = await decodeUpload(ctx, upload, detect ? WORK_MAX_SIDE.photo : WORK_MAX_SIDE.chip, signal);
  checkShrunkSize(image, upload.header);
  const result = await analyzeImage(ctx.model, ctx.detector, image, { detect });
  return toUploadPixels(result, upload.header, detect);
}

/** Quality of the preview JPEG: for showing the photo under the boxes, not for analysis. */
const PREVIEW_QUALITY = 85;

/** The upload decoded upright at the photo working size and encoded as a JPEG: what the page shows when the browser cannot show the file itself (a HEIC outside Safari). */
export async function previewUpload(ctx: ServerContext, upload: Upload, signal: AbortSignal): Promise<Buffer> {
  const image = await decodeUpload(ctx, upload, WORK_MAX_SIDE.photo, signal);
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }).jpeg({ quality: PREVIEW_QUALITY }).toBuffer();
}

/**
 * Runs `task` through the shared admission queue, with the request's deadline counted from
 * `startedAt` (a `performance.now()` time: when the handler began, the upload received). `reply`:
 * when its connection closes before the answer is sent (the client gave up), the work is called off
 * (see AdmissionQueue.run's `gone`).
 */
export function queued<T>(ctx: ServerContext, kind: WorkKind, startedAt: number, task: (signal: AbortSignal) => Promise<T>, reply?: FastifyReply): Promise<T> {
  return ctx.queue.run(kind, startedAt + ctx.limits.requestTimeoutMs, task, reply ? clientGone(reply) : undefined);
}

/** Aborts when the reply's connection closes before the answer was sent. */
function clientGone(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  const res = reply.raw;
  const onClose = (): void => {
    if (!res.writableEnded) gone.abort(new AgeGenderError('TIMEOUT', 'the client closed the connection before the answer'));
  };
  if (res.destroyed) onClose();
  else res.once('close', onClose);
  return gone.signal;
}
