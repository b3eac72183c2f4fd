/**
 * zod schemas of the HTTP API: query strings are parsed with them, responses are described by
 * them (and the OpenAPI document is generated from them, so the two cannot drift).
 */
import { z } from 'zod';
import { HTTP_ERROR_CODES } from './errors.js';

const booleanString = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

/** A plain decimal number: digits with an optional fraction (no sign, exponent, hex or spaces). */
const decimal = z.string().regex(/^(\d+(\.\d*)?|\.\d+)$/).transform(Number);

const genderThreshold = decimal
  .pipe(z.number().min(0.5).max(1))
  .optional()
  .describe("Gender threshold 0.5–1: a face whose more likely gender label has a lower probability is answered 'uncertain'. Default: the model's (chosen on val; 0.5 answers every face).");

/** The web page's own `?genderThreshold=`: the value to pass on to the API, or why it is not taken. */
export function pageGenderThreshold(value: unknown): { value: number } | { refused: string } | null {
  if (value === undefined) return null;
  const r = genderThreshold.safeParse(value);
  if (r.success && r.data !== undefined) return { value: r.data };
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : 'given more than once';
  return { refused: `?genderThreshold= in this page's address (${shown}) is not ${QUERY_ACCEPTS.genderThreshold}: it is ignored` };
}

/** What each query parameter accepts, for the messages that refuse a value. */
export const QUERY_ACCEPTS = Object.freeze({
  detect: 'true, false, 1 or 0',
  genderThreshold: 'a decimal number from 0.5 to 1',
  target: 'age or gender',
  face: 'a whole number from 0 (a face index)',
});

export const PredictQuery = z.strictObject({
  /** Detect faces first (ordinary photos, default) or take the image as one aligned chip. */
  detect: booleanString.default(true).describe('Run face detection (true, default) or treat the image as one aligned face chip (false).'),
  genderThreshold,
});
export type PredictQuery = z.infer<typeof PredictQuery>;

/** /v1/preview takes no query parameters (an unknown one is refused, as on the other routes). */
export const PreviewQuery = z.strictObject({});

export const ExplainQuery = z.strictObject({
  detect: booleanString.default(true).describe('As for /v1/predict.'),
  genderThreshold,
  target: z.enum(['age', 'gender']).default('gender').describe('Which output to explain.'),
  face: z.string().regex(/^\d{1,6}$/).transform(Number).optional().describe('Explain only this face (index in the predict answer); default: the first faces up to the server limit.'),
});
export type ExplainQuery = z.infer<typeof ExplainQuery>;

export const Box = z
  .object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() })
  .describe(
    "Pixels in the upright image (the upload with its EXIF orientation applied, whose size the answer's width and height give), origin top-left. A face cut by the image's edge has a box reaching past it: x or y below 0, or x + width, y + height beyond the image.",
  );

export const Face = z.object({
  box: Box,
  score: z.number().nullable().describe('Face detector confidence 0–1; null when detection was skipped.'),
  age: z.number().describe('Expected age in years.'),
  ageInterval: z.tuple([z.number(), z.number()]).describe('Central 80% interval of the predicted age distribution.'),
  gender: z
    .enum(['male', 'female', 'uncertain'])
    .describe("Binary label as annotated in UTKFace, not gender identity; 'uncertain' when the more likely label's probability is below the gender threshold."),
  genderProbability: z.number().describe('Probability of the more likely gender label (0.5–1), also when the answer is uncertain.'),
  femaleProbability: z.number().describe('Probability of the female label (0–1).'),
  quality: z
    .object({
      score: z.number().describe('Overall 0–1: detector × mean of the other parts.'),
      detector: z.number().nullable().describe('Face detector confidence (also with detect=false, where the detector confirms the chip holds a face); null without a detector.'),
      landmarkFit: z.number().nullable().describe('How well the five landmarks fit the chip template (1 = exactly); null when not measured.'),
      sharpness: z.number().describe('Laplacian variance v of the face, as v / (v + 100).'),
      exposure: z.number().describe('1 at mid-grey with ordinary contrast, towards 0 for dark, bright or flat faces.'),
    })
    .describe('Face quality; inputs without a usable face are refused with 422 NO_USABLE_FACE instead.'),
});
export type Face = z.infer<typeof Face>;

export const PredictResponse = z.object({
  width: z.number().int(),
  height: z.number().int(),
  detect: z.boolean(),
  genderThreshold: z.number().describe('The gender threshold applied (the query parameter, else the model default).'),
  turned: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]).describe('Clockwise degrees the photo was turned to find its faces upright (0 for an upright photo; a scan or phone photo stored sideways without an EXIF tag gives 90, 180 or 270). Boxes are in the upright image (EXIF orientation applied), not turned by this.'),
  faces: z.array(Face),
  facesFound: z
    .number()
    .int()
    .describe("Faces the detector found: more than `faces` holds when the photo shows more than the server's --max-faces (the highest-scoring are kept)."),
  note: z.string().optional().describe('Present when the upload holds several frames or pages (an animated GIF, WebP or PNG, a multi-page TIFF): only the first was analysed, and this says so.'),
  model: z.string(),
  ms: z.number().describe('Server time for this request, ms.'),
});
export type PredictResponse = z.infer<typeof PredictResponse>;

export const ExplainedFace = Face.extend({
  index: z.number().int(),
  explanation: z.object({
    target: z.enum(['age', 'gender']),
    output: z
      .enum(['age', 'female', 'male'])
      .describe("What the overlay explains: the expected age, or the probability of the more likely gender label (female when femaleProbability ≥ 0.5; also when the answer is 'uncertain'). Blue regions raise it, orange ones lower it."),
    overlayPng: z.string().describe('data: URL of a PNG: the aligned face chip with the regions that drove the output highlighted.'),
  }),
});

export const ExplainResponse = z.object({
  width: z.number().int(),
  height: z.number().int(),
  detect: z.boolean(),
  genderThreshold: z.number(),
  turned: PredictResponse.shape.turned,
  faces: z.array(ExplainedFace),
  facesFound: z.number().int().describe("Faces the detector found, as in the predict answer: may exceed the explained ones (and the faces that can be explained, when the server's --max-faces kept fewer)."),
  note: PredictResponse.shape.note,
  model: z.string(),
  ms: z.number(),
});
export type ExplainResponse = z.infer<typeof ExplainResponse>;

export const HealthResponse = z.object({
  status: z.literal('ok'),
  model: z.string(),
  runtime: z.string().describe('What runs the network, e.g. "onnxruntime 1.30.0 (cpu)" or "tfjs wasm".'),
  detector: z.string().nullable(),
  explain: z.boolean(),
  queue: z.object({
    running: z.number().int(),
    queued: z.number().int(),
    concurrency: z.number().int(),
    maxQueued: z.number().int(),
    completed: z.number().int(),
    rejected: z.number().int(),
    averageMs: z.number(),
  }),
  rssBytes: z.number().int().describe('Resident memory of the server process, bytes.'),
});

export const ReadyResponse = z.object({
  status: z.literal('ready'),
  model: z.string(),
});
export type ReadyResponse = z.infer<typeof ReadyResponse>;

export const ErrorResponse = z.strictObject({
  error: z.strictObject({
    code: z.enum(HTTP_ERROR_CODES as unknown as [string, ...string[]]),
    message: z.string(),
  }),
});
