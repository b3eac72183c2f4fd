/**
 * Reading a request's image: the bytes from a raw body or a multipart form, sniffed (never trusting
 * Content-Type) and size-checked from the header.
 */
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { readImageHeader, sniffImageType, SUPPORTED_FORMATS, type ImageHeader } from '../io/decode.js';
import { HttpError } from './errors.js';
import { uploadLimitText, type ServerLimits } from './limits.js';

/** What a multipart form may hold: one file (under any field name) and a few ignored fields. */
export const MULTIPART_LIMITS = Object.freeze({ files: 1, fields: 8, parts: 9 });

/**
 * The multipart reader's errors as the client's: a second file → 400 (one image per request); a
 * file over the byte limit and too many fields or parts → 413 naming the limit; a missing or wrong
 * boundary or a cut-short body (busboy's plain errors) → 400 MALFORMED_MULTIPART.
 */
function multipartError(error: unknown, limits: ServerLimits): unknown {
  if (error instanceof HttpError) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (code === 'FST_FILES_LIMIT') return new HttpError('INVALID_ARGUMENT', 'the multipart form holds more than one file: send one image per request');
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new HttpError('PAYLOAD_TOO_LARGE', `the uploaded file is over ${uploadLimitText(limits.maxUploadBytes)}`);
  if (code === 'FST_FIELDS_LIMIT') return new HttpError('PAYLOAD_TOO_LARGE', `the multipart form has more than ${MULTIPART_LIMITS.fields} fields besides the file`);
  if (code === 'FST_PARTS_LIMIT') return new HttpError('PAYLOAD_TOO_LARGE', `the multipart form has more than ${MULTIPART_LIMITS.parts} parts`);
  if (typeof error === 'object' && error !== null && 'statusCode' in error) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new HttpError('MALFORMED_MULTIPART', `the multipart body could not be read: ${reason}`);
}

/**
 * A file part's bytes; 413 as soon as it passes the byte limit. (The part's own `toBuffer()` only
 * fails once the whole part has been read and discarded: with a chunked body, after all of it.)
 */
async function fileBytes(file: Readable, limits: ServerLimits): Promise<Buffer> {
  file.once('limit', () => file.destroy(new HttpError('PAYLOAD_TOO_LARGE', `the uploaded file is over ${uploadLimitText(limits.maxUploadBytes)}`)));
  const chunks: Buffer[] = [];
  for await (const chunk of file) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The one file of a multipart form, whatever its field name; other fields are ignored. */
async function multipartFile(req: FastifyRequest, limits: ServerLimits): Promise<Buffer> {
  let bytes: Buffer | null = null;
  // Read to the end of the form, so that a second file is noticed (the files limit raises it).
  for await (const part of req.parts()) {
    if (part.type === 'file') bytes = await fileBytes(part.file, limits);
  }
  if (bytes === null) throw new HttpError('EMPTY_BODY', 'multipart request has no file part');
  return bytes;
}

async function bodyBytes(req: FastifyRequest, limits: ServerLimits): Promise<Buffer> {
  if (req.isMultipart()) {
    try {
      return await multipartFile(req, limits);
    } catch (error) {
      throw multipartError(error, limits);
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
  const bytes = await bodyBytes(req, limits);
  if (bytes.length === 0) throw new HttpError('EMPTY_BODY', 'request body is empty: send the image bytes, or a multipart form with one file');
  if (sniffImageType(bytes) === null) {
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `not a supported image: the bytes are not ${SUPPORTED_FORMATS}`);
  }
  const header = await readImageHeader(bytes, 'upload');
  checkHeader(header, limits);
  return { bytes, header };
}
