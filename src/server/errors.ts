/**
 * The HTTP error contract: every error body is `{ "error": { "code": string, "message": string } }`,
 * `code` from {@link HTTP_ERROR_CODES} (stable; clients branch on it), `message` for people.
 */
import { AgeGenderError } from '../core/errors.js';
import { uploadLimitText } from './limits.js';

/** Stable error codes the HTTP API answers with, and their status. */
export const HTTP_ERRORS = Object.freeze({
  /** The HTTP request itself could not be parsed (answered by the connection's error handler). */
  BAD_REQUEST: 400,
  /** The URL is not valid (bad percent-encoding). */
  INVALID_URL: 400,
  INVALID_ARGUMENT: 400,
  EMPTY_BODY: 400,
  /** A multipart body without a boundary, with the wrong one, or cut short. */
  MALFORMED_MULTIPART: 400,
  /** A POST from a web page of another origin that `--cors` does not allow. */
  CROSS_ORIGIN_FORBIDDEN: 403,
  NOT_FOUND: 404,
  /** The path exists, but not for this method (the Allow header lists those it takes). */
  METHOD_NOT_ALLOWED: 405,
  /** The request was not received completely within the time limit. */
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  IMAGE_TOO_LARGE: 413,
  ASPECT_RATIO_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_IMAGE: 422,
  /** The image decodes but holds no usable face (blank, one colour, noise, too small, no face found). */
  NO_USABLE_FACE: 422,
  /** The Host header names a host the server was not told to answer to (`--allowed-hosts`). */
  HOST_NOT_ALLOWED: 421,
  /** More API requests from this client than `--rate-limit` allows; see Retry-After. */
  RATE_LIMITED: 429,
  /** The request headers are larger than the server accepts. */
  HEADERS_TOO_LARGE: 431,
  /**
   * The client closed the connection before its answer was ready: its work is dropped. Never
   * received (nobody is left to read it); it shows in the log and in /metrics, as in nginx's 499.
   */
  CLIENT_CLOSED_REQUEST: 499,
  INTERNAL: 500,
  EXPLAIN_UNAVAILABLE: 501,
  QUEUE_FULL: 503,
  /** The server is stopping; retry on another instance or later. */
  SHUTTING_DOWN: 503,
  TIMEOUT: 504,
} as const);

export type HttpErrorCode = keyof typeof HTTP_ERRORS;
export const HTTP_ERROR_CODES = Object.freeze(Object.keys(HTTP_ERRORS) as HttpErrorCode[]);

export interface HttpErrorBody {
  error: { code: HttpErrorCode; message: string };
}

/** An error that already knows its HTTP code. */
export class HttpError extends Error {
  readonly code: HttpErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(code: HttpErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.code = code;
    this.status = HTTP_ERRORS[code];
    this.headers = headers;
  }
}

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

/** What a message may name about the request that failed. */
export interface ErrorContext {
  /** The upload limit, named in a 413. */
  maxUploadBytes?: number;
  /** The request's Content-Type header, named when it is not a media type. */
  contentType?: string | undefined;
}

/** Maps anything thrown while serving a request to (status, body, headers). Never leaks stacks. */
export function toHttpError(error: unknown, context: ErrorContext = {}): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof AgeGenderError) {
    switch (error.code) {
      case 'INVALID_IMAGE':
        return new HttpError('INVALID_IMAGE', error.message);
      case 'NO_USABLE_FACE':
        return new HttpError('NO_USABLE_FACE', error.message);
      case 'IMAGE_TOO_LARGE':
        return new HttpError('IMAGE_TOO_LARGE', error.message);
      case 'INVALID_ARGUMENT':
        return new HttpError('INVALID_ARGUMENT', error.message);
      case 'TIMEOUT':
        return new HttpError('TIMEOUT', error.message);
      case 'QUEUE_FULL': {
        const retry = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
        return new HttpError('QUEUE_FULL', error.message, { 'retry-after': String(typeof retry === 'number' ? retry : 1) });
      }
      default:
        return new HttpError('INTERNAL', `internal error (${error.code})`);
    }
  }
  const e = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  const fcode = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : 'error';
  if (status === 413 || fcode === 'FST_REQ_FILE_TOO_LARGE' || fcode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = context.maxUploadBytes === undefined ? 'the limit' : uploadLimitText(context.maxUploadBytes);
    return new HttpError('PAYLOAD_TOO_LARGE', `upload is over ${limit}`);
  }
  if (fcode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new HttpError(
      'UNSUPPORTED_MEDIA_TYPE',
      `the Content-Type header ${JSON.stringify(context.contentType ?? '')} is not a media type (type/subtype, e.g. image/jpeg): send a valid one or none (the image type is read from the bytes)`,
    );
  }
  if (status === 415) return new HttpError('UNSUPPORTED_MEDIA_TYPE', message);
  if (status === 408) return new HttpError('REQUEST_TIMEOUT', message);
  if (status === 404) return new HttpError('NOT_FOUND', message);
  if (status === 431) return new HttpError('HEADERS_TOO_LARGE', message);
  if (fcode === 'FST_ERR_BAD_URL') return new HttpError('INVALID_URL', message);
  if (status >= 400 && status < 500) return new HttpError('INVALID_ARGUMENT', message);
  return new HttpError('INTERNAL', 'internal error');
}

export function errorBody(error: HttpError): HttpErrorBody {
  return { error: { code: error.code, message: error.message } };
}

/** Node's connection-level errors (before any route runs) as a complete raw HTTP response. */
export function clientErrorResponse(code: string | undefined): string {
  const error =
    code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new HttpError('REQUEST_TIMEOUT', 'the request was not received in time') :
    code === 'HPE_HEADER_OVERFLOW' ? new HttpError('HEADERS_TOO_LARGE', 'request headers are larger than the server accepts') :
    new HttpError('BAD_REQUEST', 'malformed HTTP request');
  const body = JSON.stringify(errorBody(error));
  const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[error.status as 400 | 408 | 431];
  return `HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
