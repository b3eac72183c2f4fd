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
  return readCapped(response, url, maxBytes, timeoutMs);
}

/**
 * The body, counted as it arrives: past `maxBytes` the download stops (a body without Content-Length
 * was otherwise read whole, into memory, before the cap was checked); a body that stalls past the
 * timeout, or a connection that drops, is UNREADABLE_FILE naming the URL.
 */
async function readCapped(response: Response, url: string, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  try {
    for (;;) {
      const next = await reader?.read();
      if (!next || next.done) break;
      size += next.value.byteLength;
      if (size > maxBytes) throw new AgeGenderError('IMAGE_TOO_LARGE', `download is over the ${maxBytes}-byte limit`, { subject: url });
      chunks.push(next.value);
    }
  } catch (cause) {
    await reader?.cancel().catch(() => undefined);
    if (cause instanceof AgeGenderError) throw cause;
    const why = cause instanceof Error && cause.name === 'TimeoutError' ? `no complete answer within ${timeoutMs / 1000} s` : networkReason(cause);
    throw new AgeGenderError('UNREADABLE_FILE', `cannot download: ${why}`, { subject: url, cause });
  }
  return Buffer.concat(chunks, size);
}
