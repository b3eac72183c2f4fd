/**
 * The shape of a stored `evaluation.json` as far as the report reads it: counts, headline metrics,
 * intervals, calibration, confusion matrices, slices and best/worst samples. Loose objects (extra
 * fields pass), so a file from a newer version still reads; a hand-edited or foreign file that lacks
 * what the report needs is caught here, with the path of the first problem, instead of failing half-way
 * through the report.
 *
 * @example
 *   const problem = evaluationShapeProblem(JSON.parse(text)); // null, or 'slices: expected array, received undefined'
 */
import { z } from 'zod';

const num = z.number().nullable();
const interval = z.looseObject({ low: z.number(), high: z.number() }).nullable();
const confusion = z.looseObject({ labels: z.array(z.string()), matrix: z.array(z.array(z.number())) });
const sample = z.looseObject({ source: z.string(), name: z.string(), age: z.number(), predictedAge: z.number(), femaleProbability: z.number(), score: z.number() });
const ranked = z.looseObject({ best: z.array(sample), worst: z.array(sample) });
const age = z.looseObject({ mae: num, rmse: num, meanError: num, within8: num, cs: z.record(z.string(), num) });
const gender = z.looseObject({ accuracy: num, precision: num, recall: num, f1: num, rocAuc: num, ece: num });
const groupValue = z.looseObject({ name: z.string(), value: z.number(), count: z.number() }).nullable();

const EvaluationShape = z.looseObject({
  split: z.string(),
  counts: z.looseObject({ rows: z.number(), evaluated: z.number(), skipped: z.number() }),
  skipped: z.array(z.looseObject({ source: z.string(), reason: z.string() })),
  age,
  gender,
  ci: z.record(z.string(), interval),
  bootstrap: z.looseObject({ replicates: z.number() }),
  calibration: z.array(z.looseObject({ low: z.number(), high: z.number(), count: z.number(), meanProbability: num, observedFrequency: num })),
  confusion: z.looseObject({ gender: confusion, ageDecades: confusion }),
  slices: z.array(
    z.looseObject({
      name: z.string(),
      dimensions: z.array(z.string()),
      groups: z.array(z.looseObject({ name: z.string(), count: z.number(), age, gender, ci: z.record(z.string(), interval) })),
      gaps: z.array(z.looseObject({ metric: z.string(), best: groupValue, worst: groupValue, gap: num })),
    }),
  ),
  bestWorst: z.looseObject({ age: ranked, gender: ranked }),
});

/** Null when `value` has what the report reads of an evaluation, else `path: what is wrong` for the first problem. */
export function evaluationShapeProblem(value: unknown): string | null {
  const parsed = EvaluationShape.safeParse(value);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join('.') || 'the file'}: ${issue?.message ?? 'invalid'}`;
}
