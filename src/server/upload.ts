/**
 * Reading a request: the query string through its zod schema, the image bytes from a raw body or a
 * multipart form, sniffed (never trusting Content-Type) and size-checked from the header.
 */
import type { FastifyRequest } from 'fastify';
import { readImageHeader, sniffImageType, SUPPORTED_FORMATS, type ImageHeader } from '../io/decode.js';
import { HttpError } from './errors.js';
import type { ServerLimits } from './limits.js';

interface SafeParser<T> {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
}

/** Parses the query with `schema`; 400 INVALID_ARGUMENT naming the parameter otherwise. */
export function parseQuery<T>(schema: SafeParser<T>, query: unknown): T {
  const r = schema.safeParse(query ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `query parameter ${issue.path.map(String).join('.')}` : 'query';
  throw new HttpError('INVALID_ARGUMENT', `${where}: ${issue?.message ?? 'invalid'}`);
}

/**
 * The multipart parser (busboy) reports a missing or wrong boundary and a cut-short body as plain
 * errors; those are the client's fault (400). Errors that carry a status (413 file too large, the
 * multipart plugin's own limits) keep it.
 */
function multipartError(error: unknown): unknown {
  if (error instanceof HttpError || (typeof error === 'object' && error !== null && 'statusCode' in error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new HttpError('MALFORMED_MULTIPART', `the multipart body could not be read: ${reason}`);
}

async function bodyBytes(req: FastifyRequest): Promise<Buffer> {
  if (req.isMultipart()) {
    try {
      const part = await req.file();
      if (!part) throw new HttpError('EMPTY_BODY', 'multipart request has no file part');
      return await part.toBuffer();
    } catch (error) {
      throw multipartError(error);
    }
  }
  const body = req.body;
  return Buffer.isBuffer(body) ? body : Buffer.alloc(0);
}

/** An upload that passed the checks, with what its header says. */
export interface Upload {
  bytes: Buffer;
  header: ImageHeader;
}

/** Pixel and aspect-ratio limits, from the header alone (nothing decoded yet). */
function checkHeader(header: ImageHeader, limits: ServerLimits): void {
  const { width, height } = header;
  if (width * height > limits.maxPixels) {
    throw new HttpError('IMAGE_TOO_LARGE', `image is ${width}×${height} = ${width * height} pixels, over the limit of ${limits.maxPixels}`);
  }
  const ratio = Math.max(width, height) / Math.min(width, height);
  if (ratio > limits.maxAspectRatio) {
    throw new HttpError(
      'ASPECT_RATIO_TOO_LARGE',
      `image is ${width}×${height} pixels: its sides are in a ratio of ${ratio >= 100 ? Math.round(ratio) : ratio.toFixed(1)}:1, over the limit of ${limits.maxAspectRatio}:1`,
    );
  }
}

/** The uploaded image's bytes: non-empty, a supported type, and within the pixel and aspect-ratio limits per its header. */
export async function readUpload(req: FastifyRequest, limits: ServerLimits): Promise<Upload> {
  const bytes = await bodyBytes(req);
  if (bytes.length === 0) throw new HttpError('EMPTY_BODY', 'request body is empty: send the image bytes, or a multipart form with one file');
  if (sniffImageType(bytes) === null) {
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `not a supported image: the bytes are not ${SUPPORTED_FORMATS}`);
  }
  const header = await readImageHeader(bytes, 'upload');
  checkHeader(header, limits);
  return { bytes, header };
}
