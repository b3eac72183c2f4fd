/**
 * Evaluate a model on one split of a workspace and store the result: the library side of
 * `agegender evaluate` (and of the pipeline's evaluate step).
 *
 * @example
 *   const { result, files } = await evaluateWorkspace({ workspace: 'workspace/utk', split: 'test' });
 */
import { resolve } from 'node:path';
import { checkOutputFile, checkOutputFolder } from '../core/output-path.js';
import { AgeGenderError } from '../core/errors.js';
import { SPLITS, type ManifestRow, type SplitName } from '../core/types.js';
import { checkEvaluateSettings, evaluate, type EvaluationResult, type PredictionRecord } from '../eval/evaluate.js';
import { withModel, type ModelSource } from '../model/load.js';
import { writeEvaluation } from '../workspace/evaluation.js';
import { evaluationFiles, workspacePaths } from '../workspace/layout.js';
import { isLabelled, readManifest } from '../workspace/manifest.js';

export interface EvaluateWorkspaceOptions extends ModelSource {
  /** Workspace written by `prepare`. */
  workspace: string;
  split: SplitName;
  /** Evaluation folder to write (default `<workspace>/evaluation/<split>`). */
  out?: string;
  /** Images per forward pass, bootstrap resamples and seed (defaults: EVALUATE_DEFAULTS). */
  batchSize?: number;
  replicates?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface WorkspaceEvaluation {
  result: EvaluationResult;
  records: PredictionRecord[];
  /** The files written: `evaluation.json` and `predictions.csv`. */
  files: { result: string; predictions: string };
}

/** WORKSPACE_INVALID naming the manifest when `split` has no kept, labelled rows: an evaluation of no faces has no figures. */
function checkSplitHasFaces(rows: readonly ManifestRow[], split: SplitName, manifest: string): void {
  const faces = Object.fromEntries(SPLITS.map((s) => [s, 0])) as Record<SplitName, number>;
  for (const r of rows) if (r.split !== null && isLabelled(r)) faces[r.split]++;
  if (faces[split] > 0) return;
  const counts = SPLITS.map((s) => `${s} ${faces[s]}`).join(', ');
  throw new AgeGenderError('WORKSPACE_INVALID', `Expected kept, labelled faces in the ${split} split but it has none (${counts})`, { subject: manifest });
}

/**
 * Checks the settings (INVALID_ARGUMENT), reads the manifest (WORKSPACE_INVALID without one, or when the split has no kept, labelled face) and checks the output folder (INVALID_ARGUMENT:
 * a file, not writable, or holding a folder named as one of the files written) before any model is loaded, evaluates the
 * split and writes `predictions.csv` + `evaluation.json` atomically.
 */
export async function evaluateWorkspace(options: EvaluateWorkspaceOptions): Promise<WorkspaceEvaluation> {
  const { batchSize, replicates, seed, onProgress } = options;
  checkEvaluateSettings({ batchSize, replicates, seed });
  const workspace = resolve(options.workspace);
  const rows = await readManifest(workspace);
  checkSplitHasFaces(rows, options.split, workspacePaths(workspace).manifest);
  const out = await checkOutputFolder(options.out ?? workspacePaths(workspace).evaluationDir(options.split));
  // a folder where a file goes is refused now, not after the whole split is scored
  for (const file of Object.values(evaluationFiles(out))) await checkOutputFile(file);
  return withModel(options, async (model) => {
    const { result, records, csv } = await evaluate({ model, rows, split: options.split, batchSize, replicates, seed, onProgress });
    const files = await writeEvaluation(out, { result, csv });
    return { result, records, files };
  });
}
