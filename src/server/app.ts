/**
 * The HTTP service: a Fastify app factory. Routes only: parse and check the upload, queue the
 * work, shape the answer. Model logic lives in `pipeline/`; the model, detector and explainer are
 * passed in (no global singletons), so tests run it with a tiny deterministic model.
 *
 * Limits (defaults in {@link DEFAULT_LIMITS}): upload bytes (413 PAYLOAD_TOO_LARGE), decoded pixels
 * read from the header before decoding (413 IMAGE_TOO_LARGE), type sniffed from the bytes, never
 * from the Content-Type (415), request time (504 TIMEOUT), a bounded work queue (503 QUEUE_FULL with
 * Retry-After). Uploads stay in memory; nothing is written to disk.
 *
 * @example
 *   const app = await buildServer({ model, detector, explain: null });
 *   await app.listen({ port: 8080, host: '127.0.0.1' });
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import sharp from 'sharp';
import type { AgeGenderModel } from '../model/api.js';
import type { FaceDetector } from '../pipeline/detect.js';
import type { ExplainFn, ServerContext } from './context.js';
import { registerEarlyAnswers } from './early-answer.js';
import { errorServerOptions, registerErrorHandlers } from './error-handling.js';
import { HttpError } from './errors.js';
import { checkLimits, type ServerLimits } from './limits.js';
import { registerMetrics } from './metrics.js';
import { registerRequestLog } from './request-log.js';
import { openApiDocument } from './openapi.js';
import { AdmissionQueue } from './queue.js';
import { registerSecurity, trustProxyOption, type SecurityOptions } from './security.js';
import { MULTIPART_LIMITS } from './upload.js';
import { registerExplainRoute, registerInfoRoutes, registerPredictRoute, registerPreviewRoute } from './routes.js';

export { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
export type { ExplainFn, ExplanationLike } from './context.js';

export interface BuildServerOptions {
  model: AgeGenderModel;
  /** Face detector for ordinary photos; null serves chips only (`?detect=false`). */
  detector: FaceDetector | null;
  /** Explainer for /v1/explain; null or absent answers 501 EXPLAIN_UNAVAILABLE. */
  explain?: ExplainFn | null;
  limits?: Partial<ServerLimits>;
  /** Log one JSON line per request (pino, Fastify's logger): true for stdout, or the stream to write to; default off. */
  logger?: boolean | { stream: NodeJS.WritableStream };
  /** Version string shown in the OpenAPI document. */
  version?: string;
  /** CORS origins, rate limit, Host allow-list, trusted proxies (security headers are always on). */
  security?: SecurityOptions;
}

/** A client's X-Request-Id is kept only when it is 1–128 of `A–Z a–z 0–9 . _ : -`. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the client's X-Request-Id when it is safe to log and echo, else a fresh UUID. */
function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Every body is bytes: the type comes from sniffing them, never from the Content-Type header. A
 * compressed body (Content-Encoding other than identity) is refused before it is read.
 */
async function registerBodyParsers(app: FastifyInstance, limits: ServerLimits): Promise<void> {
  app.addHook('onRequest', async (req) => {
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${JSON.stringify(encoding)} is not supported: send the image file's bytes as they are, without a Content-Encoding`);
    }
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.maxUploadBytes }, (_req, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: limits.maxUploadBytes, ...MULTIPART_LIMITS } });
}

function contextOf(options: BuildServerOptions, limits: ServerLimits): ServerContext {
  const { model } = options;
  return {
    model,
    detector: options.detector,
    explain: options.explain ?? null,
    limits,
    queue: new AdmissionQueue({ concurrency: limits.concurrency, maxQueued: limits.maxQueued }),
    modelName: `${model.metadata.name} (${model.metadata.encoder})`,
  };
}

/** Builds the Fastify app (not listening yet). Close it with `app.close()`; the model stays the caller's. */
export async function buildServer(options: BuildServerOptions): Promise<FastifyInstance> {
  // Every upload is new: libvips' operation cache would only hold on to memory (and file handles).
  sharp.cache(false);
  const limits = checkLimits(options.limits);
  const ctx = contextOf(options, limits);
  const app = Fastify({
    // JSON lines (pino) with a request id per request: the client's X-Request-Id when it is a
    // safe id (see requestId), else a fresh UUID; echoed back in X-Request-Id.
    logger: options.logger ?? false,
    // One line per request (request-log.ts) in place of Fastify's "incoming request" and "request completed".
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: requestId,
    // X-Forwarded-For / -Host / -Proto only from the proxies named (`--trust-proxy`), none by default.
    trustProxy: trustProxyOption(options.security),
    bodyLimit: limits.maxUploadBytes,
    requestTimeout: limits.requestTimeoutMs,
    // Node only tracks request deadlines when `requestTimeout` is given at construction (Fastify
    // sets it afterwards), and checks them on this period (its default is 30 s).
    http: { requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, limits.requestTimeoutMs) },
    ...errorServerOptions(),
  });
  registerErrorHandlers(app, limits.maxUploadBytes);
  if (options.logger) registerRequestLog(app);
  await registerSecurity(app, options.security);
  await registerBodyParsers(app, limits);
  registerEarlyAnswers(app, limits);
  registerMetrics(app, ctx.queue);
  registerInfoRoutes(app, ctx, openApiDocument(limits, options.version ?? '0.1.0'));
  registerPredictRoute(app, ctx);
  registerExplainRoute(app, ctx);
  registerPreviewRoute(app, ctx);
  return app;
}
