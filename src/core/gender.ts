/**
 * Gender abstention: the model's probability of the more likely label is reported as a label only
 * when it reaches a threshold; below it the answer is `'uncertain'` (the probabilities are still
 * returned). The threshold is the model folder's `metadata.inference.genderThreshold` (chosen on val
 * by `agegender tune`, see src/eval/abstention.ts), overridable per call.
 *
 * @example
 *   genderAnswer(0.62, 0.781); // { gender: 'uncertain', genderProbability: 0.62 }
 *   genderAnswer(0.03, 0.781); // { gender: 'male', genderProbability: 0.97 }
 */
import { numberInRange } from './validate.js';
import type { Gender, GenderAnswer } from './types.js';

export type { GenderAnswer } from './types.js';

/** What a prediction says about gender: a UTKFace label, or `'uncertain'` when the model abstains. */
export const GENDER_ANSWERS: readonly GenderAnswer[] = Object.freeze(['male', 'female', 'uncertain'] as const);

/** 0.5 answers every face (the more likely label always has probability ≥ 0.5); 1 abstains on almost all. */
export const NO_ABSTENTION = 0.5;

/** Checks a threshold (0.5–1), naming `name` in the error. */
export function checkGenderThreshold(value: unknown, name = 'genderThreshold'): number {
  return numberInRange(value, name, 0.5, 1);
}

/** The more likely label and its probability. */
export function likelyGender(femaleProbability: number): { label: Gender; probability: number } {
  return femaleProbability >= 0.5 ? { label: 'female', probability: femaleProbability } : { label: 'male', probability: 1 - femaleProbability };
}

/**
 * The reported gender for P(female) under a threshold: the more likely label when its probability is
 * at least `threshold` (0.5–1; INVALID_ARGUMENT otherwise), else `'uncertain'`; `genderProbability`
 * is that label's probability either way.
 */
export function genderAnswer(femaleProbability: number, threshold: number): { gender: GenderAnswer; genderProbability: number } {
  checkGenderThreshold(threshold, 'threshold');
  const { label, probability } = likelyGender(femaleProbability);
  return { gender: probability >= threshold ? label : 'uncertain', genderProbability: probability };
}
