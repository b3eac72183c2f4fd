/**
 * Answers given before the whole request body has arrived: 413 over the byte limit (from the
 * declared Content-Length or while receiving), and the refusals of the `onRequest` checks (403,
 * 421, 429, 503). The client gets exactly one answer and can always read it:
 *
 * - `Expect: 100-continue` is answered by the server, not by Node: `100 Continue` goes out only
 *   once the request has passed every check and its body is about to be read (`preParsing`), so
 *   a request refused earlier gets its final answer instead and never sends its body;
 * - a body declared over the limit (Content-Length) is refused at once, before any of it is read;
 * - after an answer given while the client may still be sending, the connection is closed
 *   (`Connection: close`) only after the rest of the body has been read and discarded, for at most
 *   {@link LINGER_MS} (and never beyond the request time limit): closing a socket with unread data
 *   makes the kernel reset the connection, and a client still sending then loses the answer;
 * - Node's request timeout does not write a second answer (408) on such a connection.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import { uploadLimitText, type ServerLimits } from './limits.js';

/** Longest time the rest of a refused request's body is read and discarded before closing, ms. */
export const LINGER_MS = 5000;

/**
 * What a multipart form may add to the file's bytes (boundaries, part headers, a few small fields)
 * before its declared length alone marks it as over the limit.
 */
export const MULTIPART_ENVELOPE_BYTES = 64 * 1024;

/** Sockets whose one answer has gone out before the request body was complete. */
const answeredEarly = new WeakSet<Socket>();
/** Requests that were sent `100 Continue`. */
const continued = new WeakSet<IncomingMessage>();

/** True when `socket` already carries an answer: a connection error must not write a second one. */
export function answeredBeforeBody(socket: Socket): boolean {
  return answeredEarly.has(socket);
}

function expectsContinue(req: IncomingMessage): boolean {
  return /^100-continue$/i.test(req.headers.expect ?? '');
}

/** Largest body the request may declare: the upload limit, plus the envelope of a multipart form. */
function declaredCeiling(req: FastifyRequest, limits: ServerLimits): number {
  return limits.maxUploadBytes + (req.isMultipart() ? MULTIPART_ENVELOPE_BYTES : 0);
}

/**
 * `payload` as a stream that ends once the request body has been read to its end (the client went
 * away, or `ms` passed): the client has the whole answer at once (its length is declared), and
 * Node closes the connection only when the stream ends.
 */
function lingering(payload: string | Buffer, req: IncomingMessage, ms: number): Readable {
  const stream = new Readable({ read: () => undefined });
  stream.push(payload);
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    req.off('end', end);
    req.off('close', end);
    stream.push(null);
  };
  const timer = setTimeout(end, ms);
  req.once('end', end);
  req.once('close', end);
  // Discard what still comes; a request unpiped by the multipart reader is paused, so resume it.
  req.on('data', () => undefined);
  req.resume();
  if (req.readableEnded || req.destroyed) end();
  return stream;
}

/** Registers the `100 Continue` handling, the declared-length check and the lingering close. */
export function registerEarlyAnswers(app: FastifyInstance, limits: ServerLimits): void {
  app.server.on('checkContinue', (req: IncomingMessage, res) => app.server.emit('request', req, res));

  // After the other onRequest checks (security, rate limit): they refuse first.
  app.addHook('onRequest', async (req) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > declaredCeiling(req, limits)) {
      throw new HttpError('PAYLOAD_TOO_LARGE', `upload of ${declared} bytes is over ${uploadLimitText(limits.maxUploadBytes)}`);
    }
  });

  app.addHook('preParsing', async (req, reply, payload) => {
    if (expectsContinue(req.raw) && !continued.has(req.raw) && !reply.raw.headersSent) {
      continued.add(req.raw);
      reply.raw.writeContinue();
    }
    return payload;
  });

  app.addHook('onSend', async (req, reply, payload) => {
    // `complete` is false while a real request's body is still arriving (undefined when injected).
    if (req.raw.complete !== false) return payload;
    void reply.header('connection', 'close');
    answeredEarly.add(req.raw.socket);
    // A client told to wait for `100 Continue` holds its body back: nothing to drain.
    if (expectsContinue(req.raw) && !continued.has(req.raw)) return payload;
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    void reply.header('content-length', Buffer.byteLength(payload));
    return lingering(payload, req.raw, Math.min(LINGER_MS, limits.requestTimeoutMs));
  });
}
