/**
 * Build the HTML audit report of a workspace: the library side of `agegender report` (and of the
 * pipeline's last step). The split is evaluated first unless the evaluation folder holds one
 * computed from the same rows by the same model, weights, flip TTA and gender threshold.
 *
 * @example
 *   const report = await reportWorkspace({ workspace: 'workspace/utk', split: 'test', out: 'report.html' });
 */
import { resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { checkOutputFolder, outputFileIn } from '../core/output-path.js';
import type { ManifestRow, SplitName } from '../core/types.js';
import { evaluate, EVALUATE_DEFAULTS, parsePredictionsCsv } from '../eval/evaluate.js';
import type { AgeGenderModel } from '../model/api.js';
import { defaultModelDir } from '../model/folder.js';
import { withModel, type ModelSource } from '../model/load.js';
import { buildReport, readTrainingLog, REPORT_DEFAULTS, type BuiltReport } from '../report/build.js';
import { storedEvaluation, writeEvaluation, type StoredEvaluation } from '../workspace/evaluation.js';
import { evaluationFiles, workspacePaths } from '../workspace/layout.js';
import { readManifest } from '../workspace/manifest.js';
import { readSummary } from '../workspace/summary.js';
import { checkPhotoEvaluationModel, readPhotoEvaluation } from './evaluate-photos.js';

export interface ReportWorkspaceOptions extends ModelSource {
  /** Workspace written by `prepare`. */
  workspace: string;
  split: SplitName;
  /** HTML file to write, or a folder to write `report.html` in (an existing one, or a path ending in a slash). */
  out: string;
  /** Evaluation folder to reuse or write (default `<workspace>/evaluation/<split>`). */
  evaluation?: string;
  /** Worst age errors explained with LIME, and samples per explanation (defaults: REPORT_DEFAULTS). */
  limeCount?: number;
  limeSamples?: number;
  /** A `photo-evaluation.json` (from `evaluate --photos`) for the model card's photo section; INVALID_ARGUMENT when another model made it. */
  photoEvaluation?: string;
  /** Says whether the stored evaluation is reused or the split evaluated. */
  log?: (line: string) => void;
  onProgress?: (done: number, total: number) => void;
}

/** The file name a report gets inside a folder given as `out`. */
export const REPORT_FILE = 'report.html';

export interface WorkspaceReport extends BuiltReport {
  /** The HTML file written. */
  out: string;
  /** Seconds from the call to the file written (evaluation and LIME included). */
  seconds: number;
}

/** The line saying what was written: file, charts, size and time. */
export function writtenReport(report: WorkspaceReport): string {
  return `wrote ${report.out} (${report.charts} charts, ${(report.html.length / 1024 / 1024).toFixed(1)} MB) in ${report.seconds.toFixed(1)} s`;
}

/** The stored evaluation of this model on these rows of `split`, else a fresh one, written to `dir`. */
async function evaluationFor(model: AgeGenderModel, rows: readonly ManifestRow[], split: SplitName, dir: string, options: ReportWorkspaceOptions): Promise<StoredEvaluation> {
  const log = options.log ?? (() => undefined);
  const check = await storedEvaluation(dir, { model, rows, split });
  if (check.stored) {
    log(`reusing ${evaluationFiles(dir).result}`);
    return check.stored;
  }
  log(check.reason === 'none stored' ? `evaluating the ${split} split…` : `evaluating the ${split} split (not reusing ${evaluationFiles(dir).result}: ${check.reason})…`);
  const { result, csv } = await evaluate({ model, rows, split, replicates: EVALUATE_DEFAULTS.replicates, onProgress: options.onProgress });
  await writeEvaluation(dir, { result, csv });
  // the records as stored (rounded in predictions.csv), as a later run reusing them reads them: the same report either way
  return { result, records: parsePredictionsCsv(csv) };
}

/**
 * Reads the manifest and summary and checks where the report and the evaluation go (INVALID_ARGUMENT:
 * a file where a folder is wanted or the reverse, or not writable) before any model is loaded;
 * evaluates (or reuses the evaluation), reads the model folder's training log, builds the report and
 * writes it atomically.
 */
export async function reportWorkspace(options: ReportWorkspaceOptions): Promise<WorkspaceReport> {
  const started = performance.now();
  const workspace = resolve(options.workspace);
  const rows = await readManifest(workspace);
  const summary = await readSummary(workspace);
  const out = await outputFileIn(options.out, REPORT_FILE);
  const evaluationDir = await checkOutputFolder(options.evaluation ?? workspacePaths(workspace).evaluationDir(options.split));
  const photos = options.photoEvaluation === undefined ? null : await readPhotoEvaluation(resolve(options.photoEvaluation));
  return withModel(options, async (model) => {
    const photoWarning = photos && checkPhotoEvaluationModel(photos, model, resolve(options.photoEvaluation!));
    if (photoWarning) options.log?.(`warning: ${photoWarning}`);
    const evaluation = await evaluationFor(model, rows, options.split, evaluationDir, options);
    const trainingLog = await readTrainingLog(resolve(options.modelDir ?? defaultModelDir()));
    const report = await buildReport({
      rows,
      summary,
      evaluation: evaluation.result,
      records: evaluation.records,
      metadata: model.metadata,
      trainingLog,
      model,
      limeCount: options.limeCount ?? REPORT_DEFAULTS.limeCount,
      limeSamples: options.limeSamples ?? REPORT_DEFAULTS.limeSamples,
      photos,
    });
    await writeFileAtomic(out, report.html);
    return { ...report, out, seconds: (performance.now() - started) / 1000 };
  });
}
