/**
 * The shape of a `photo-evaluation.json` as far as the report's model card reads it (`--photo-evaluation`):
 * where the photos were, which model, and the summary's found / age / gender figures and by-decade
 * table. Loose objects (extra fields pass); fields that older versions did not write stay optional.
 *
 * @example
 *   const problem = photoEvaluationProblem(JSON.parse(text)); // null, or 'summary.gender: expected object, received undefined'
 */
import { z } from 'zod';

const num = z.number().nullable();
const DecadeRow = z.looseObject({ decade: z.string(), count: z.number(), meanError: num, mae: num });

const PhotoEvaluationShape = z.looseObject({
  photos: z.string(),
  model: z.string(),
  detector: z.string().nullable(),
  alignment: z.string().nullable().optional(),
  createdAt: z.string(),
  modelIdentity: z.looseObject({ name: z.string() }).optional(),
  summary: z.looseObject({
    photos: z.number(),
    found: z.looseObject({ share: num }),
    age: z.looseObject({
      count: z.number(),
      mae: num,
      meanError: num,
      decadeBias: z.looseObject({ minFaces: z.number(), faces: z.number(), mae: z.number(), maeWithout: z.number(), maeWithoutExcess: z.number().optional() }).nullable().optional(),
      maeWithoutDecadeBias: num.optional(),
    }),
    gender: z.looseObject({ coverage: num, accuracy: num }),
    byDecade: z.array(DecadeRow),
    reference: z.looseObject({ evaluation: z.string(), split: z.string(), byDecade: z.array(DecadeRow) }).optional(),
  }),
});

/** Null when `value` has what the model card reads of a photo evaluation, else `path: what is wrong` for the first problem. */
export function photoEvaluationProblem(value: unknown): string | null {
  const parsed = PhotoEvaluationShape.safeParse(value);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join('.') || 'the file'}: ${issue?.message ?? 'invalid'}`;
}
