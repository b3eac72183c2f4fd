/**
 * Downloads an image over http(s) for the batch paths (`predict`, queue workers), with a timeout and
 * a size cap. Any failure is UNREADABLE_FILE naming the URL and why (HTTP status, timeout, network).
 *
 * @example const bytes = await fetchImageBytes('https://example.org/face.jpg');
 */
import { AgeGenderError } from '../core/errors.js';

export const FETCH_DEFAULTS = Object.freeze({ timeoutMs: 30_000, maxBytes: 64 * 1024 * 1024 });

/** What went wrong below `fetch failed`: the network error's own message ("connect ECONNREFUSED 127.0.0.1:8080", "getaddrinfo ENOTFOUND host", "bad port"). */
function networkReason(error: unknown): string {
  const inner = (error as { cause?: unknown }).cause;
  if (inner instanceof Error && inner.message) return inner.message;
  return error instanceof Error ? error.message : String(error);
}

export async function fetchImageBytes(url: string, options: { timeoutMs?: number; maxBytes?: number } = {}): Promise<Buffer> {
  const { timeoutMs, maxBytes } = { ...FETCH_DEFAULTS, ...options };
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (cause) {
    const why = cause instanceof Error && cause.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : networkReason(cause);
    throw new AgeGenderError('UNREADABLE_FILE', `cannot download: ${why}`, { subject: url, cause });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new AgeGenderError('UNREADABLE_FILE', `cannot download: HTTP ${response.status} ${response.statusText}`.trim(), { subject: url });
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new AgeGenderError('IMAGE_TOO_LARGE', `download of ${declared} bytes is over the ${maxBytes}-byte limit`, { subject: url });
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > maxBytes) throw new AgeGenderError('IMAGE_TOO_LARGE', `download of ${bytes.length} bytes is over the ${maxBytes}-byte limit`, { subject: url });
  return bytes;
}
