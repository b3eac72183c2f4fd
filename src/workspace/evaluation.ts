/**
 * The evaluation store: `evaluation.json` (metrics, slices, best/worst) and `predictions.csv` (one
 * row per face) in an evaluation folder, by default `<workspace>/evaluation/<split>/`. `evaluate`,
 * `tune` and `report` write it; `report` reuses it when the same model made it.
 *
 * @example
 *   const stored = await reusableEvaluation(dir, model.metadata, 'test') ?? (await evaluate({ model, rows, split: 'test' }));
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';
import type { SplitName } from '../core/types.js';
import { parsePredictionsCsv, type EvaluationResult, type PredictionRecord } from '../eval/evaluate.js';
import type { ModelMetadata } from '../model/api.js';
import { evaluationFiles } from './layout.js';

/** An evaluation read back from its folder. */
export interface StoredEvaluation {
  result: EvaluationResult;
  records: PredictionRecord[];
}

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
 * The evaluation stored in `dir` when the model described by `metadata` (same name and creation
 * time) made it on `split` and `predictions.csv` holds one row per evaluated face; else null
 * (nothing there, another model or split, or unreadable files).
 */
export async function reusableEvaluation(dir: string, metadata: ModelMetadata, split: SplitName): Promise<StoredEvaluation | null> {
  const files = evaluationFiles(dir);
  try {
    const result = JSON.parse(await readFile(files.result, 'utf8')) as EvaluationResult;
    if (result.split !== split || result.model?.name !== String(metadata.name) || result.model?.createdAt !== String(metadata.createdAt)) return null;
    const records = parsePredictionsCsv(await readFile(files.predictions, 'utf8'));
    return records.length === result.counts.evaluated ? { result, records } : null;
  } catch {
    return null;
  }
}
