/**
 * The service's limits and their checks. Its own module so `app.ts` and `openapi.ts` both read it
 * without importing each other.
 */
import { integerInRange } from '../core/validate.js';

export interface ServerLimits {
  /** Largest upload in bytes (raw body or multipart file). */
  maxUploadBytes: number;
  /** Largest image in decoded pixels (width × height), checked from the header. */
  maxPixels: number;
  /** Time from the upload being received to the answer, ms. */
  requestTimeoutMs: number;
  /** Largest ratio of the longer to the shorter side, checked from the header (413 ASPECT_RATIO_TOO_LARGE). */
  maxAspectRatio: number;
  /** Requests processed at once. */
  concurrency: number;
  /** Requests allowed to wait; more get 503 + Retry-After. */
  maxQueued: number;
  /** Faces explained per /v1/explain request when no `face` is named. */
  maxExplainFaces: number;
}

/**
 * Upload and pixel limits take a phone's full-resolution photo as it comes off the camera (48–50 MP
 * sensors: 8064×6048 or 8160×6120, JPEGs of 10–20 MB; HEIC about half that).
 */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxUploadBytes: 24 * 1024 * 1024,
  maxPixels: 50_000_000,
  requestTimeoutMs: 30_000,
  maxAspectRatio: 20,
  concurrency: 1,
  maxQueued: 8,
  maxExplainFaces: 4,
});

/** Defaults filled in, every value checked; INVALID_ARGUMENT names the bad option. */
export function checkLimits(partial: Partial<ServerLimits> | undefined): ServerLimits {
  const l = { ...DEFAULT_LIMITS, ...partial };
  return {
    maxUploadBytes: integerInRange(l.maxUploadBytes, 'limits.maxUploadBytes', 1, 2 ** 31 - 1),
    maxPixels: integerInRange(l.maxPixels, 'limits.maxPixels', 1, Number.MAX_SAFE_INTEGER),
    requestTimeoutMs: integerInRange(l.requestTimeoutMs, 'limits.requestTimeoutMs', 1, 3_600_000),
    maxAspectRatio: integerInRange(l.maxAspectRatio, 'limits.maxAspectRatio', 1, 1_000_000),
    concurrency: integerInRange(l.concurrency, 'limits.concurrency', 1, 64),
    maxQueued: integerInRange(l.maxQueued, 'limits.maxQueued', 0, 10_000),
    maxExplainFaces: integerInRange(l.maxExplainFaces, 'limits.maxExplainFaces', 1, 100),
  };
}

/** The upload limit in words, for messages: "the limit of 25165824 bytes (24 MB; serve --max-upload-mb)". */
export function uploadLimitText(maxUploadBytes: number): string {
  const mb = maxUploadBytes / (1024 * 1024);
  const size = mb >= 1 ? `${Number(mb.toFixed(1))} MB` : `${Number((maxUploadBytes / 1024).toFixed(1))} KB`;
  return `the limit of ${maxUploadBytes} bytes (${size}; serve --max-upload-mb)`;
}
