/**
 * One error shape for every failure, wired into Fastify's own hooks (no per-route patches):
 * - route and hook errors → `setErrorHandler` (through `toHttpError`),
 * - unknown routes → `setNotFoundHandler` (404, or 405 with an Allow header when the path exists
 *   for other methods),
 * - a URL Fastify cannot route (bad percent-encoding) → the `frameworkErrors` option,
 * - connection-level errors before any route (408 request timeout, 431 header overflow, an
 *   unparsable request) → the `clientErrorHandler` option,
 * - requests arriving while the server closes → an `onRequest` hook (503 SHUTTING_DOWN), in place
 *   of Fastify's own `return503OnClosing` answer, which has its own shape; every answer sent while
 *   closing (those of requests in flight too) carries `Connection: close`.
 * 5xx answers carry no internals; the error itself goes to the log.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { answeredBeforeBody } from './early-answer.js';
import { HttpError, clientErrorResponse, errorBody, toHttpError } from './errors.js';
import { noteError } from './request-log.js';

/** Methods a route may answer, in the order the Allow header of a 405 lists them. */
const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Fastify constructor options that route framework and connection errors to the one shape. */
export function errorServerOptions(): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler' | 'return503OnClosing'> {
  return {
    return503OnClosing: false,
    frameworkErrors(error: Error & { code?: string }, req: FastifyRequest, reply: FastifyReply) {
      const http = toHttpError(error);
      noteError(req, http);
      void reply.status(http.status).send(errorBody(http));
    },
    clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      // The request was answered before its body arrived: that was its one answer.
      if (answeredBeforeBody(socket)) {
        socket.destroy();
        return;
      }
      if (socket.writable) socket.write(clientErrorResponse(error.code));
      socket.destroy(error);
    },
  };
}

/** Error handler, 404 handler, and the 503 for requests that arrive while closing. */
export function registerErrorHandlers(app: FastifyInstance, maxUploadBytes: number): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    if (closing && req.url !== '/healthz') {
      void reply.header('connection', 'close');
      throw new HttpError('SHUTTING_DOWN', 'the server is shutting down; retry shortly', { 'retry-after': '5' });
    }
  });
  // Answers given while closing end their connection: a keep-alive connection left idle would
  // hold `app.close()` (and the process) until the client or the keep-alive timeout closed it.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    // Answers are about the uploaded photo's faces, or the server's state right now: no cache keeps
    // them unless a route says otherwise (the page's script and style revalidate).
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    return payload;
  });
  app.setErrorHandler((error, req, reply) => {
    const http = toHttpError(error, { maxUploadBytes, contentType: req.headers['content-type'] });
    noteError(req, http);
    if (http.status >= 500 && http.code !== 'QUEUE_FULL' && http.code !== 'SHUTTING_DOWN') req.log.error({ err: error }, 'request failed');
    void reply.status(http.status).headers(http.headers).send(errorBody(http));
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = ROUTE_METHODS.filter((method) => app.hasRoute({ method, url: path }));
    const http =
      allowed.length > 0
        ? new HttpError('METHOD_NOT_ALLOWED', `${path} does not take ${req.method}: it takes ${allowed.join(', ')}`, { allow: allowed.join(', ') })
        : new HttpError('NOT_FOUND', `no route ${req.method} ${path}`);
    noteError(req, http);
    void reply.status(http.status).headers(http.headers).send(errorBody(http));
  });
}
