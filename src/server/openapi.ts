/**
 * The OpenAPI 3.1 document served at GET /openapi.json, generated from the zod schemas in
 * `schemas.ts` so the description and the code cannot drift apart.
 */
import { z } from 'zod';
import { SUPPORTED_FORMATS } from '../io/decode.js';
import { HTTP_ERRORS } from './errors.js';
import { ErrorResponse, ExplainResponse, HealthResponse, PredictResponse, ReadyResponse } from './schemas.js';
import type { ServerLimits } from './limits.js';

type Json = Record<string, unknown>;

function schema(s: z.ZodType): Json {
  return z.toJSONSchema(s, { io: 'output', unrepresentable: 'any' }) as Json;
}

const imageBody = (limits: ServerLimits): Json => ({
  required: true,
  description: `The image, either as the raw body (any well-formed Content-Type and no Content-Encoding; the type is sniffed from the bytes: ${SUPPORTED_FORMATS}) or as multipart/form-data with exactly one file part (any field name). At most ${limits.maxUploadBytes} bytes and ${limits.maxPixels} decoded pixels. Never written to disk.`,
  content: {
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
    'image/jpeg': { schema: { type: 'string', format: 'binary' } },
    'image/png': { schema: { type: 'string', format: 'binary' } },
    'multipart/form-data': {
      schema: {
        type: 'object',
        description: 'Exactly one file part, under any field name (`file` by convention); other fields are ignored. A second file is refused (400 INVALID_ARGUMENT).',
        properties: { file: { type: 'string', format: 'binary' } },
      },
    },
  },
});

function errors(...codes: Array<keyof typeof HTTP_ERRORS>): Json {
  const byStatus = new Map<number, string[]>();
  for (const c of codes) byStatus.set(HTTP_ERRORS[c], [...(byStatus.get(HTTP_ERRORS[c]) ?? []), c]);
  const out: Json = {};
  for (const [status, cs] of byStatus) {
    out[String(status)] = {
      description: `Error, code ${cs.join(' or ')}${status === 503 || status === 429 ? ' (with a Retry-After header, seconds)' : ''}`,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return out;
}

const detectParam = { name: 'detect', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false', '1', '0'], default: 'true' }, description: 'Run face detection (default) or treat the image as one aligned face chip.' };
const genderThresholdParam = {
  name: 'genderThreshold',
  in: 'query',
  required: false,
  schema: { type: 'number', minimum: 0.5, maximum: 1 },
  description: "Gender threshold: a face whose more likely gender label has a lower probability is answered 'uncertain' (the probability is still returned). Default: the model's, chosen on val (see the answer's genderThreshold).",
};
/** What any request can meet before its route runs: the connection, the security checks, shutdown. */
const requestErrors = ['BAD_REQUEST', 'INVALID_URL', 'CROSS_ORIGIN_FORBIDDEN', 'REQUEST_TIMEOUT', 'HOST_NOT_ALLOWED', 'RATE_LIMITED', 'HEADERS_TOO_LARGE', 'SHUTTING_DOWN'] as const;
/** What reading and checking an uploaded image can answer. */
const uploadErrors = ['EMPTY_BODY', 'MALFORMED_MULTIPART', 'PAYLOAD_TOO_LARGE', 'IMAGE_TOO_LARGE', 'ASPECT_RATIO_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'INVALID_IMAGE', 'QUEUE_FULL', 'TIMEOUT', 'INTERNAL'] as const;
const imageErrors = [...requestErrors, 'INVALID_ARGUMENT', ...uploadErrors, 'NO_USABLE_FACE'] as const;
/** What a GET can meet before its route runs (no origin check or rate limit: those are for the API's POSTs); /healthz is answered while stopping too. */
const getErrors = ['BAD_REQUEST', 'INVALID_URL', 'REQUEST_TIMEOUT', 'HOST_NOT_ALLOWED', 'HEADERS_TOO_LARGE'] as const;
const pageErrors = [...getErrors, 'SHUTTING_DOWN'] as const;

/** Builds the document for the given limits. */
export function openApiDocument(limits: ServerLimits, version: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'agegender',
      version,
      description: 'Age and gender estimates for each face in a photo, with explanations. Gender is the binary label as annotated in UTKFace, not gender identity; ages are estimates with an interval.',
    },
    paths: {
      '/v1/predict': {
        post: {
          summary: 'Find the faces in an image and estimate age and gender for each',
          parameters: [detectParam, genderThresholdParam],
          requestBody: imageBody(limits),
          responses: {
            '200': { description: 'The faces found: at least one (an image without a usable face is 422 NO_USABLE_FACE)', content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictResponse' } } } },
            ...errors(...imageErrors),
          },
        },
      },
      '/v1/explain': {
        post: {
          summary: 'As /v1/predict, plus an explanation overlay per face',
          parameters: [
            detectParam,
            genderThresholdParam,
            { name: 'target', in: 'query', required: false, schema: { type: 'string', enum: ['age', 'gender'], default: 'gender' }, description: "Which output to explain: the expected age, or the probability of the more likely gender label (the answer's explanation.output names it)." },
            { name: 'face', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: `Index of one face to explain; default the first ${limits.maxExplainFaces}.` },
          ],
          requestBody: imageBody(limits),
          responses: {
            '200': { description: 'Explained faces', content: { 'application/json': { schema: { $ref: '#/components/schemas/ExplainResponse' } } } },
            ...errors(...imageErrors, 'EXPLAIN_UNAVAILABLE'),
          },
        },
      },
      '/v1/preview': {
        post: {
          summary: 'The image as an upright JPEG of at most 2048 px on its longer side (EXIF or HEIF rotation applied): for showing a photo the browser cannot decode, such as a HEIC outside Safari',
          requestBody: imageBody(limits),
          responses: {
            '200': { description: 'JPEG', content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } } },
            ...errors(...requestErrors, 'INVALID_ARGUMENT', ...uploadErrors),
          },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: 200 while the model is loaded and the server is not stopping; 503 SHUTTING_DOWN while it stops',
          responses: { '200': { description: 'Ready', content: { 'application/json': { schema: { $ref: '#/components/schemas/ReadyResponse' } } } }, ...errors(...pageErrors) },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics: requests by route and status, latency histogram, queue depth, RSS', responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': {} } }, ...errors(...pageErrors) } } },
      '/healthz': {
        get: { summary: 'Liveness and queue state', responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/HealthResponse' } } } }, ...errors(...getErrors) } },
      },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } }, ...errors(...pageErrors) } } },
      '/': { get: { summary: 'Web page: drop a photo, see each face boxed with age, gender and the explanation', responses: { '200': { description: 'HTML', content: { 'text/html': {} } }, ...errors(...pageErrors) } } },
      '/app.js': { get: { summary: "The web page's script", responses: { '200': { description: 'JavaScript', content: { 'text/javascript': {} } }, ...errors(...pageErrors) } } },
      '/app.css': { get: { summary: "The web page's stylesheet", responses: { '200': { description: 'CSS', content: { 'text/css': {} } }, ...errors(...pageErrors) } } },
    },
    components: {
      schemas: {
        PredictResponse: schema(PredictResponse),
        ExplainResponse: schema(ExplainResponse),
        HealthResponse: schema(HealthResponse),
        ReadyResponse: schema(ReadyResponse),
        Error: schema(ErrorResponse),
      },
    },
  };
}
