/**
 * Noticing a client that went away: a signal that aborts when the connection closes before the
 * request's answer was sent (the client gave up, a proxy timed out), so the work queued for it
 * leaves the line and running work stops at its next check instead of computing an answer nobody
 * reads.
 *
 * Node's request 'close' event (and so Fastify's `request.signal`) also fires once a complete body
 * has been read, so the response's 'close' is watched instead: it fires early only when the
 * connection is gone.
 *
 * @example
 *   const gone = clientGone(reply);
 *   await ctx.queue.run('predict', deadline, task, gone);   // rejects CLIENT_CLOSED_REQUEST when it aborts
 */
import type { FastifyReply } from 'fastify';
import { HttpError } from './errors.js';

/** Aborts (with a CLIENT_CLOSED_REQUEST error as its reason) when the connection closes before the answer is sent. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const res = reply.raw;
  const abort = (): void => {
    if (!res.writableFinished) controller.abort(new HttpError('CLIENT_CLOSED_REQUEST', 'the client closed the connection before the answer was ready'));
  };
  if (res.destroyed) abort();
  else res.once('close', abort);
  return controller.signal;
}
