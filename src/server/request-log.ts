/**
 * One record per request, whatever becomes of it: {@link onRequestDone} calls back exactly once,
 * when the answer has been sent (Fastify's `onResponse`) or when the connection closed before it
 * was (status 499, CLIENT_CLOSED_REQUEST, when not even its headers went out; Fastify has no hook
 * for that). /metrics counts from it, and {@link registerRequestLog} writes one log line from it,
 * in place of Fastify's two ("incoming request", "request completed"): method, URL (cut short),
 * client address (`req.ip`), status, time, and for an error its code and message (never the body).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HTTP_ERRORS, type HttpError } from './errors.js';

/** What the error handler answered a request with, for its log line. */
const answeredError = new WeakMap<FastifyRequest, HttpError>();

/** Records the error a request was answered with (called by the error handlers). */
export function noteError(req: FastifyRequest, error: HttpError): void {
  answeredError.set(req, error);
}

/** Status recorded for a request whose client closed the connection before the answer was sent. */
export const CLIENT_CLOSED_STATUS = HTTP_ERRORS.CLIENT_CLOSED_REQUEST;

/** Longest URL written to the log, characters. */
const URL_LOG_MAX = 512;

export type RequestDone = (req: FastifyRequest, reply: FastifyReply, status: number, seconds: number) => void;

/** Calls `done` once per request: on its answer, or with 499 when its connection closed before. */
export function onRequestDone(app: FastifyInstance, done: RequestDone): void {
  const reported = new WeakSet<FastifyRequest>();
  const report = (req: FastifyRequest, reply: FastifyReply, status: number): void => {
    if (reported.has(req)) return;
    reported.add(req);
    done(req, reply, status, reply.elapsedTime / 1000);
  };
  app.addHook('onRequest', async (req, reply) => {
    reply.raw.once('close', () => {
      // An answer whose headers went out before the client closed (a 413 given while the body was
      // still arriving, then cut short by the client) is recorded with its own status.
      if (!reply.raw.writableFinished) report(req, reply, reply.raw.headersSent ? reply.statusCode : CLIENT_CLOSED_STATUS);
    });
  });
  app.addHook('onResponse', async (req, reply) => report(req, reply, reply.statusCode));
}

/**
 * The client's address, read when the request arrives (a socket closed since has none): the
 * socket's peer, or behind a trusted proxy (`--trust-proxy`) the client it names in X-Forwarded-For.
 */
const clientAddress = new WeakMap<FastifyRequest, string | undefined>();

/** Writes one line per request to the app's logger (info; a 5xx error is also logged with its cause by the error handler). */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    clientAddress.set(req, req.ip);
  });
  onRequestDone(app, (req, reply, status, seconds) => {
    const error = answeredError.get(req);
    const url = req.url.length > URL_LOG_MAX ? `${req.url.slice(0, URL_LOG_MAX)}…` : req.url;
    // Flat fields: Fastify's `req` and `res` serializers would rewrite objects under those names.
    req.log.info(
      {
        method: req.method,
        url,
        remoteAddress: clientAddress.get(req),
        statusCode: status,
        responseTime: Math.round(seconds * 1e4) / 10,
        ...(status === CLIENT_CLOSED_STATUS ? { error: { code: 'CLIENT_CLOSED_REQUEST', message: 'the client closed the connection before the answer was sent' } } : {}),
        ...(error && status !== CLIENT_CLOSED_STATUS ? { error: { code: error.code, message: error.message } } : {}),
      },
      'request completed',
    );
  });
}
