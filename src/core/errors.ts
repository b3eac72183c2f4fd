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
  /** Another run holds the lock of the output folder (core/folder-lock.ts). */
  'OUTPUT_IN_USE',
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

/**
 * A file system error in words, for messages that name the path beside it: "permission denied"
 * (EACCES, EPERM), "symbolic link loop" (ELOOP), "no such file or folder" (ENOENT), "not a folder"
 * (ENOTDIR), "too many open files" (EMFILE, ENFILE); anything else by its message.
 *
 * @example
 *   await readFile(path).catch((e) => { throw new AgeGenderError('UNREADABLE_FILE', `cannot read file: ${fsErrorReason(e)}`, { subject: path }); });
 */
export function fsErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'symbolic link loop';
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'ENOTDIR') return 'not a folder';
  if (code === 'EMFILE' || code === 'ENFILE') return 'too many open files';
  return error instanceof Error ? error.message : String(error);
}
