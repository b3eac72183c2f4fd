/**
 * The evaluation store: `evaluation.json` (metrics, slices, best/worst) and `predictions.csv` (one
 * row per face) in an evaluation folder, by default `<workspace>/evaluation/<split>/`. `evaluate`,
 * `tune` and `report` write it; `report` reuses it only when it was computed from the same rows
 * with the same model, weights and inference settings.
 *
 * @example
 *   const check = await storedEvaluation(dir, { model, rows, split: 'test' });
 *   const evaluation = check.stored ?? (await evaluate({ model, rows, split: 'test' })); // check.reason says why not
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';
import { AgeGenderError, fsErrorReason } from '../core/errors.js';
import type { ManifestRow, SplitName } from '../core/types.js';
import { parsePredictionsCsv, splitRowsSha256, type EvaluationResult, type PredictionRecord } from '../eval/evaluate.js';
import type { AgeGenderModel } from '../model/api.js';
import { identityMismatch, modelIdentity } from '../model/identity.js';
import { evaluationShapeProblem } from './evaluation-schema.js';
import { evaluationFiles } from './layout.js';

/** An evaluation read back from its folder. */
export interface StoredEvaluation {
  result: EvaluationResult;
  records: PredictionRecord[];
}

/** What a stored evaluation must have been computed from to be reused. */
export interface EvaluationBasis {
  /** The model as loaded now (its identity: metadata, weights, flip TTA, gender threshold). */
  model: AgeGenderModel;
  /** The workspace's manifest rows as read now. */
  rows: readonly ManifestRow[];
  split: SplitName;
}

/** The stored evaluation, or null with the reason it cannot be reused. */
export type StoredEvaluationCheck = { stored: StoredEvaluation; reason: null } | { stored: null; reason: string };

/**
 * Writes `predictions.csv`, then `evaluation.json` (each atomically) into `dir`, so a folder with
 * `evaluation.json` always has the predictions it was computed from. Returns the two paths.
 */
export async function writeEvaluation(dir: string, evaluation: { result: EvaluationResult; csv: string }): Promise<{ result: string; predictions: string }> {
  const files = evaluationFiles(dir);
  await writeFileAtomic(files.predictions, evaluation.csv);
  await writeJsonAtomic(files.result, evaluation.result);
  return files;
}

/**
 * The evaluation stored in `dir` when it was computed on `basis.split` from the same rows
 * ({@link splitRowsSha256}), by the same model (name, creation time, weights) with the same flip TTA
 * and gender threshold, holds what the report reads (evaluation-schema.ts), and `predictions.csv` holds
 * one row per evaluated face. Otherwise the reason in words (nothing there, unreadable or malformed
 * files, or which part differs).
 */
export async function storedEvaluation(dir: string, basis: EvaluationBasis): Promise<StoredEvaluationCheck> {
  const files = evaluationFiles(dir);
  const no = (reason: string): StoredEvaluationCheck => ({ stored: null, reason });
  let result: EvaluationResult;
  try {
    result = JSON.parse(await readFile(files.result, 'utf8')) as EvaluationResult;
  } catch (error) {
    return no((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'none stored' : 'evaluation.json is unreadable');
  }
  const problem = evaluationShapeProblem(result);
  if (problem) return no(`evaluation.json is not an evaluation the report can read (${problem})`);
  if (result.split !== basis.split) return no(`it is of the ${String(result.split)} split`);
  if (!result.model || typeof result.model !== 'object') return no('it names no model');
  const mismatch = identityMismatch(result.model, modelIdentity(basis.model));
  if (mismatch) return no(mismatch);
  if (result.rowsSha256 === undefined) return no('it does not record the rows it was computed from');
  if (result.rowsSha256 !== splitRowsSha256(basis.rows, basis.split)) return no(`the ${basis.split} split's rows changed (the workspace was prepared again)`);
  let records: PredictionRecord[];
  try {
    records = parsePredictionsCsv(await readFile(files.predictions, 'utf8'));
  } catch {
    return no('predictions.csv is missing or unreadable');
  }
  if (records.length !== result.counts?.evaluated) return no(`predictions.csv has ${records.length} rows, evaluation.json counts ${String(result.counts?.evaluated)}`);
  const bad = records.findIndex((r) => ![r.age, r.predictedAge, r.femaleProbability, ...r.ageInterval].every(Number.isFinite));
  if (bad >= 0) return no(`predictions.csv row ${bad + 1} (${records[bad]!.name}) holds a value that is not a number`);
  return { stored: { result, records }, reason: null };
}

/**
 * An evaluation folder read back whatever it was computed from (the caller checks the model):
 * UNREADABLE_FILE naming the file that cannot be read, INVALID_ARGUMENT naming the one that is not an
 * evaluation's.
 */
export async function readStoredEvaluation(dir: string): Promise<StoredEvaluation> {
  const files = evaluationFiles(dir);
  const read = async (file: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (cause) {
      throw new AgeGenderError('UNREADABLE_FILE', `cannot read the evaluation: ${fsErrorReason(cause)}`, { subject: file, cause });
    }
  };
  let result: EvaluationResult;
  try {
    result = JSON.parse(await read(files.result)) as EvaluationResult;
  } catch (cause) {
    if (cause instanceof AgeGenderError) throw cause;
    throw new AgeGenderError('INVALID_ARGUMENT', 'the evaluation is not valid JSON', { subject: files.result, cause });
  }
  const problem = evaluationShapeProblem(result);
  if (problem) throw new AgeGenderError('INVALID_ARGUMENT', `not an evaluation written by agegender evaluate (${problem})`, { subject: files.result });
  let records: PredictionRecord[];
  try {
    records = parsePredictionsCsv(await read(files.predictions));
  } catch (cause) {
    if (cause instanceof AgeGenderError) throw cause;
    throw new AgeGenderError('INVALID_ARGUMENT', (cause as Error).message, { subject: files.predictions, cause });
  }
  const bad = records.findIndex((r) => !Number.isFinite(r.age) || !Number.isFinite(r.predictedAge));
  if (bad >= 0) throw new AgeGenderError('INVALID_ARGUMENT', `row ${bad + 1} (${records[bad]!.name}) holds an age that is not a number`, { subject: files.predictions });
  return { result, records };
}

/** {@link storedEvaluation} without the reason: the evaluation, or null. */
export async function reusableEvaluation(dir: string, basis: EvaluationBasis): Promise<StoredEvaluation | null> {
  return (await storedEvaluation(dir, basis)).stored;
}
