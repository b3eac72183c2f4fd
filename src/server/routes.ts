/**
 * The routes: information (health, OpenAPI, page), POST /v1/predict, /v1/explain and /v1/preview. Each
 * handler parses, queues the work (`work.ts`) and shapes the answer; errors are thrown and mapped
 * by the app's error handler.
 */
import type { FastifyInstance } from 'fastify';
import { AgeGenderError } from '../core/errors.js';
import { faceReport, roundTo, type AnalyzedFace, type AnalyzeResult } from '../pipeline/analyze.js';
import { firstFrameNoteField } from '../io/decode.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';
import { registerPageRoutes } from './page.js';
import { ExplainQuery, PredictQuery, PreviewQuery, type ExplainQuery as ExplainQueryT, type ExplainResponse, type PredictResponse, type ReadyResponse } from './schemas.js';
import { parseQuery } from './query.js';
import { readUpload, type Upload } from './upload.js';
import { analyzeUpload, previewUpload, queued } from './work.js';
import { count } from '../core/format.js';

/** GET /healthz, /openapi.json and the page (/, /app.js, /app.css). */
export function registerInfoRoutes(app: FastifyInstance, ctx: ServerContext, doc: Record<string, unknown>): void {
  app.get('/healthz', async () => ({
    status: 'ok' as const,
    model: ctx.modelName,
    runtime: ctx.model.runtime,
    detector: ctx.detector?.name ?? null,
    explain: ctx.explain !== null,
    queue: ctx.queue.stats(),
    rssBytes: process.memoryUsage().rss,
  }));

  // Readiness, distinct from liveness: 200 only while the model is loaded and the server is not
  // stopping (then the closing hook answers 503 SHUTTING_DOWN). The server only listens once the
  // model and detector are loaded, so a listening server is ready until it starts to close.
  app.get('/readyz', async (): Promise<ReadyResponse> => ({ status: 'ready', model: ctx.modelName }));

  app.get('/openapi.json', async () => doc);

  registerPageRoutes(app, ctx.model, { detect: ctx.detector !== null, explain: ctx.explain !== null });
}

/**
 * A route hook that answers 503 QUEUE_FULL while the admission queue's line is full, before the
 * upload is read (and before `100 Continue`, so such a client never sends it).
 */
function refuseWhenFull(ctx: ServerContext): () => Promise<void> {
  return async () => ctx.queue.refuseIfFull();
}

/** POST /v1/predict. */
export function registerPredictRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/predict', { onRequest: refuseWhenFull(ctx) }, async (req, reply): Promise<PredictResponse> => {
    const t0 = performance.now();
    const query = parseQuery(PredictQuery, req.query, req.url);
    const upload = await readUpload(req, ctx.limits);
    const result = await queued(ctx, reply, query.detect ? 'predict' : 'chip', t0, (signal) => analyzeUpload(ctx, upload, query.detect, signal));
    return {
      width: result.width,
      height: result.height,
      detect: query.detect,
      genderThreshold: query.genderThreshold ?? ctx.model.genderThreshold,
      turned: result.turned ?? 0,
      faces: result.faces.map((f) => faceReport(f, query.genderThreshold)),
      facesFound: result.facesFound ?? result.faces.length,
      ...firstFrameNoteField(upload.header),
      model: ctx.modelName,
      ms: roundTo(performance.now() - t0, 1),
    };
  });
}

/** Which faces to explain: the one asked for, or the first few. */
function facesToExplain(ctx: ServerContext, result: AnalyzeResult, face: number | undefined): number[] {
  if (face === undefined) return result.faces.slice(0, ctx.limits.maxExplainFaces).map((_f, i) => i);
  if (!result.faces[face]) throw new HttpError('INVALID_ARGUMENT', `face ${face} does not exist: ${count(result.faces.length, 'face')} found`);
  return [face];
}

async function explainFaces(ctx: ServerContext, upload: Upload, query: ExplainQueryT, signal: AbortSignal): Promise<{ result: AnalyzeResult; faces: ExplainResponse['faces'] }> {
  const explain = ctx.explain;
  if (!explain) throw new HttpError('EXPLAIN_UNAVAILABLE', 'this server was started without an explainer');
  const result = await analyzeUpload(ctx, upload, query.detect, signal);
  const faces: ExplainResponse['faces'] = [];
  for (const i of facesToExplain(ctx, result, query.face)) {
    if (signal.aborted) throw new AgeGenderError('TIMEOUT', 'request timed out');
    const face = result.faces[i] as AnalyzedFace;
    const e = await explain(ctx.model, face.chip, { target: query.target, signal });
    const png = Buffer.from(e.overlayPng.buffer, e.overlayPng.byteOffset, e.overlayPng.byteLength);
    // what LIME explains (explain/lime.ts resolveTarget): the age, or the more likely gender label's probability
    const output = query.target === 'age' ? 'age' : face.prediction.femaleProbability >= 0.5 ? 'female' : 'male';
    faces.push({ ...faceReport(face, query.genderThreshold), index: i, explanation: { target: query.target, output, overlayPng: `data:image/png;base64,${png.toString('base64')}` } });
  }
  return { result, faces };
}

/** POST /v1/explain. */
export function registerExplainRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/explain', { onRequest: refuseWhenFull(ctx) }, async (req, reply): Promise<ExplainResponse> => {
    const t0 = performance.now();
    const query = parseQuery(ExplainQuery, req.query, req.url);
    if (!ctx.explain) throw new HttpError('EXPLAIN_UNAVAILABLE', 'this server was started without an explainer');
    const upload = await readUpload(req, ctx.limits);
    const out = await queued(ctx, reply, 'explain', t0, (signal) => explainFaces(ctx, upload, query, signal));
    return {
      width: out.result.width,
      height: out.result.height,
      detect: query.detect,
      genderThreshold: query.genderThreshold ?? ctx.model.genderThreshold,
      turned: out.result.turned ?? 0,
      faces: out.faces,
      facesFound: out.result.facesFound ?? out.result.faces.length,
      ...firstFrameNoteField(upload.header),
      model: ctx.modelName,
      ms: roundTo(performance.now() - t0, 1),
    };
  });
}

/** POST /v1/preview: the upload as an upright JPEG of at most 2048 px, for showing a photo the browser cannot (HEIC outside Safari). */
export function registerPreviewRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/preview', { onRequest: refuseWhenFull(ctx) }, async (req, reply) => {
    const t0 = performance.now();
    parseQuery(PreviewQuery, req.query, req.url);
    const upload = await readUpload(req, ctx.limits);
    const jpeg = await queued(ctx, reply, 'preview', t0, (signal) => previewUpload(ctx, upload, signal));
    return reply.header('cache-control', 'no-store').type('image/jpeg').send(jpeg);
  });
}
