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
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { AgeGenderError } from '../core/errors.js';
import { integerInRange } from '../core/validate.js';
import { readImageHeader, sniffImageType, decodeImage } from '../io/decode.js';
import type { RawImage } from '../io/types.js';
import type { AgeGenderModel } from '../model/api.js';
import { analyzeImage, faceReport, roundTo, type AnalyzedFace, type AnalyzeResult } from '../pipeline/analyze.js';
import type { FaceDetector } from '../pipeline/detect.js';
import { HttpError, errorBody, toHttpError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { PAGE_HTML } from './page.js';
import { WorkQueue } from './queue.js';
import { ExplainQuery, PredictQuery, type ExplainResponse, type PredictResponse } from './schemas.js';

export interface ServerLimits {
  /** Largest upload in bytes (raw body or multipart file). */
  maxUploadBytes: number;
  /** Largest image in decoded pixels (width × height), checked from the header. */
  maxPixels: number;
  /** Time from the upload being received to the answer, ms. */
  requestTimeoutMs: number;
  /** Requests processed at once. */
  concurrency: number;
  /** Requests allowed to wait; more get 503 + Retry-After. */
  maxQueued: number;
  /** Faces explained per /v1/explain request when no `face` is named. */
  maxExplainFaces: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxUploadBytes: 10 * 1024 * 1024,
  maxPixels: 40_000_000,
  requestTimeoutMs: 30_000,
  concurrency: 1,
  maxQueued: 8,
  maxExplainFaces: 4,
});

/** What an explainer gives back; only `overlayPng` is used here. */
export interface ExplanationLike {
  /** PNG bytes: the chip with the influential regions overlaid. */
  overlayPng: Uint8Array;
  [key: string]: unknown;
}

/** An explainer (e.g. LIME from `explain/`), injected so the server does not depend on its details. */
export type ExplainFn = (
  model: AgeGenderModel,
  chip: RawImage,
  options: { target: 'age' | 'gender'; signal?: AbortSignal },
) => Promise<ExplanationLike>;

export interface BuildServerOptions {
  model: AgeGenderModel;
  /** Face detector for ordinary photos; null serves chips only (`?detect=false`). */
  detector: FaceDetector | null;
  /** Explainer for /v1/explain; null or absent answers 501 EXPLAIN_UNAVAILABLE. */
  explain?: ExplainFn | null;
  limits?: Partial<ServerLimits>;
  /** Fastify request logging (default off). */
  logger?: boolean;
  /** Version string shown in the OpenAPI document. */
  version?: string;
}

function checkLimits(partial: Partial<ServerLimits> | undefined): ServerLimits {
  const l = { ...DEFAULT_LIMITS, ...partial };
  return {
    maxUploadBytes: integerInRange(l.maxUploadBytes, 'limits.maxUploadBytes', 1, 2 ** 31 - 1),
    maxPixels: integerInRange(l.maxPixels, 'limits.maxPixels', 1, Number.MAX_SAFE_INTEGER),
    requestTimeoutMs: integerInRange(l.requestTimeoutMs, 'limits.requestTimeoutMs', 1, 3_600_000),
    concurrency: integerInRange(l.concurrency, 'limits.concurrency', 1, 64),
    maxQueued: integerInRange(l.maxQueued, 'limits.maxQueued', 0, 10_000),
    maxExplainFaces: integerInRange(l.maxExplainFaces, 'limits.maxExplainFaces', 1, 100),
  };
}

/** Runs `work` with an abort signal; rejects with TIMEOUT after `ms` (the work's own result is then dropped). */
async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new AgeGenderError('TIMEOUT', `request took longer than ${ms} ms`));
    }, ms);
  });
  const running = work(controller.signal);
  running.catch(() => undefined); // a late failure after the timeout must not become an unhandled rejection
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}


function parseQuery<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, query: unknown): T {
  const r = schema.safeParse(query ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `query parameter ${issue.path.map(String).join('.')}` : 'query';
  throw new HttpError('INVALID_ARGUMENT', `${where}: ${issue?.message ?? 'invalid'}`);
}

/** Builds the Fastify app (not listening yet). Close it with `app.close()`; the model stays the caller's. */
export async function buildServer(options: BuildServerOptions): Promise<FastifyInstance> {
  const { model, detector } = options;
  const explain = options.explain ?? null;
  const limits = checkLimits(options.limits);
  const queue = new WorkQueue({ concurrency: limits.concurrency, maxQueued: limits.maxQueued });
  const modelName = `${model.metadata.name} (${model.metadata.encoder})`;
  const doc = openApiDocument(limits, options.version ?? '0.1.0');

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: limits.maxUploadBytes,
    requestTimeout: limits.requestTimeoutMs,
    return503OnClosing: true,
  });

  // Every body is bytes: the type comes from sniffing them, never from the Content-Type header.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.maxUploadBytes }, (_req, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: limits.maxUploadBytes, files: 1, fields: 8, parts: 9 } });

  app.setErrorHandler((error, _req, reply) => {
    const http = toHttpError(error);
    if (http.code === 'INTERNAL') app.log.error(error);
    void reply.status(http.status).headers(http.headers).send(errorBody(http));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(errorBody(new HttpError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`)));
  });

  async function readUpload(req: FastifyRequest): Promise<Buffer> {
    let bytes: Buffer;
    if (req.isMultipart()) {
      const part = await req.file();
      if (!part) throw new HttpError('EMPTY_BODY', 'multipart request has no file part');
      bytes = await part.toBuffer();
    } else {
      const body = req.body;
      bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
    }
    if (bytes.length === 0) throw new HttpError('EMPTY_BODY', 'request body is empty: send the image bytes, or a multipart form with one file');
    if (sniffImageType(bytes) === null) {
      throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'not a supported image: the bytes are not JPEG, PNG, WebP, GIF or TIFF');
    }
    const header = await readImageHeader(bytes, 'upload');
    if (header.width * header.height > limits.maxPixels) {
      throw new HttpError(
        'IMAGE_TOO_LARGE',
        `image is ${header.width}×${header.height} = ${header.width * header.height} pixels, over the limit of ${limits.maxPixels}`,
      );
    }
    return bytes;
  }

  async function analyze(bytes: Buffer, detect: boolean, signal: AbortSignal): Promise<AnalyzeResult> {
    if (detect && !detector) throw new HttpError('INVALID_ARGUMENT', 'this server has no face detector: send aligned chips with ?detect=false');
    const image = await decodeImage(bytes, 'upload', { maxPixels: limits.maxPixels });
    if (signal.aborted) throw new AgeGenderError('TIMEOUT', 'request timed out');
    return analyzeImage(model, detector, image, { detect });
  }

  app.get('/healthz', async () => ({
    status: 'ok' as const,
    model: modelName,
    runtime: model.runtime,
    detector: detector?.name ?? null,
    explain: explain !== null,
    queue: queue.stats(),
    rssBytes: process.memoryUsage().rss,
  }));

  app.get('/openapi.json', async () => doc);

  app.get('/', async (_req, reply: FastifyReply) => {
    void reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return PAGE_HTML;
  });

  app.post('/v1/predict', async (req): Promise<PredictResponse> => {
    const t0 = performance.now();
    const query = parseQuery(PredictQuery, req.query);
    const bytes = await readUpload(req);
    const result = await withTimeout(limits.requestTimeoutMs, (signal) => queue.run(() => analyze(bytes, query.detect, signal), signal));
    return {
      width: result.width,
      height: result.height,
      detect: query.detect,
      faces: result.faces.map(faceReport),
      model: modelName,
      ms: roundTo(performance.now() - t0, 1),
    };
  });

  app.post('/v1/explain', async (req): Promise<ExplainResponse> => {
    const t0 = performance.now();
    const query = parseQuery(ExplainQuery, req.query);
    if (!explain) throw new HttpError('EXPLAIN_UNAVAILABLE', 'this server was started without an explainer');
    const bytes = await readUpload(req);
    const out = await withTimeout(limits.requestTimeoutMs, (signal) =>
      queue.run(async () => {
        const result = await analyze(bytes, query.detect, signal);
        const indices =
          query.face !== undefined
            ? result.faces[query.face] ? [query.face] : []
            : result.faces.slice(0, limits.maxExplainFaces).map((_f, i) => i);
        if (query.face !== undefined && indices.length === 0) {
          throw new HttpError('INVALID_ARGUMENT', `face ${query.face} does not exist: ${result.faces.length} faces found`);
        }
        const faces: ExplainResponse['faces'] = [];
        for (const i of indices) {
          if (signal.aborted) throw new AgeGenderError('TIMEOUT', 'request timed out');
          const face = result.faces[i] as AnalyzedFace;
          const e = await explain(model, face.chip, { target: query.target, signal });
          const png = Buffer.from(e.overlayPng.buffer, e.overlayPng.byteOffset, e.overlayPng.byteLength);
          faces.push({ ...faceReport(face), index: i, explanation: { target: query.target, overlayPng: `data:image/png;base64,${png.toString('base64')}` } });
        }
        return { result, faces };
      }, signal),
    );
    return {
      width: out.result.width,
      height: out.result.height,
      detect: query.detect,
      faces: out.faces,
      facesFound: out.result.faces.length,
      model: modelName,
      ms: roundTo(performance.now() - t0, 1),
    };
  });

  return app;
}
