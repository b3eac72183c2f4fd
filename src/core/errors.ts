/** Stable error codes: callers branch on `code`, people read `message`. */
export const ERROR_CODES = Object.freeze([
  'INVALID_ARGUMENT',
  'INVALID_IMAGE',
  'NO_USABLE_FACE',
  'IMAGE_TOO_LARGE',
  'UNREADABLE_FILE',
  'INVALID_LABEL',
  'UNSAFE_PATH',
  'MODEL_NOT_LOADED',
  'MODEL_INVALID',
  'MODEL_INCOMPATIBLE',
  'TRAINING_DIVERGED',
  'WORKSPACE_INVALID',
  'QUEUE_FULL',
  'QUEUE_UNAVAILABLE',
  'QUEUE_UNFINISHED',
  'JOB_FAILED',
  'TIMEOUT',
] as const);

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether `value` is one of the {@link ERROR_CODES} (e.g. a code that crossed a thread boundary as text). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** The one error type the library throws on purpose; `code` is stable across versions. */
export class AgeGenderError extends Error {
  readonly code: ErrorCode;
  /** The file, entry or argument the error is about, when there is one. */
  readonly subject: string | undefined;

  constructor(code: ErrorCode, message: string, options: { subject?: string; cause?: unknown } = {}) {
    super(options.subject ? `${options.subject}: ${message}` : message, { cause: options.cause });
    this.name = 'AgeGenderError';
    this.code = code;
    this.subject = options.subject;
  }
}

/** Turns anything thrown into a one-line reason, for manifests and batch reports. */
export function reasonOf(error: unknown): string {
  if (error instanceof AgeGenderError) return error.subject ? error.message.slice(error.subject.length + 2) : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
