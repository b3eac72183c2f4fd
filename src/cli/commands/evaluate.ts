import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AgeGenderError } from '../../core/errors.js';
import { SPLITS } from '../../core/types.js';
import { oneOf, parseNumberOption } from '../../core/validate.js';
import { EVALUATE_DEFAULTS, type EvaluationResult } from '../../eval/evaluate.js';
import { formatEvaluation, writtenEvaluation } from '../../eval/format.js';
import { failedPhotoLines, formatPhotoSummary, type PhotoEvaluationSummary } from '../../eval/photos.js';
import { evaluateWorkspace } from '../../workflow/evaluate.js';
import { evaluatePhotos } from '../../workflow/evaluate-photos.js';
import { PHOTO_RECORDS_FILE, photoPartialPath } from '../../workflow/photo-partial.js';
import { WORKSPACE_FILES } from '../../workspace/layout.js';
import { GENDER_THRESHOLD_HELP, parseGenderThreshold } from '../inference-options.js';
import { progressReporter } from '../progress.js';
import { withResumeHint } from '../resume-hint.js';
import { addModelSplitOptions } from '../split-options.js';

export interface EvaluateCommandOptions {
  model?: string;
  workspace: string;
  split: string;
  out?: string;
  batchSize: string;
  replicates: string;
  seed: string;
  photos?: string;
  labels?: string;
  limit?: string;
  detect?: boolean;
  resume?: boolean;
  reference?: string;
  genderThreshold?: string;
}

/** `--gender-threshold` as a model load option (empty when not given: the model's own). */
function thresholdLoad(opts: EvaluateCommandOptions): { load?: { genderThreshold: number } } {
  const threshold = parseGenderThreshold(opts.genderThreshold);
  return threshold === undefined ? {} : { load: { genderThreshold: threshold } };
}

/** `--photos <dir> --labels <csv> --out <dir>`: the photo path scored on labelled photos; exported for tests. */
export async function runEvaluatePhotos(opts: EvaluateCommandOptions, log: (line: string) => void = console.log): Promise<PhotoEvaluationSummary> {
  const { labels, out } = opts;
  if (labels === undefined) throw new AgeGenderError('INVALID_ARGUMENT', 'Expected --labels <csv> with --photos but received none');
  if (out === undefined) throw new AgeGenderError('INVALID_ARGUMENT', 'Expected --out <dir> with --photos (where the result is written) but received none');
  const progress = progressReporter('evaluate', log);
  const run = await withResumeHint({ partial: photoPartialPath(resolve(out)), log, stop: () => progress.stop() }, (started) =>
    evaluatePhotos({
      photos: opts.photos!,
      labels,
      out,
      detect: opts.detect ?? true,
      resume: opts.resume ?? false,
      ...(opts.reference === undefined ? {} : { reference: opts.reference }),
      ...(opts.limit === undefined ? {} : { limit: parseNumberOption(opts.limit, '--limit', 1, 10_000_000, true) }),
      ...(opts.model === undefined ? {} : { modelDir: opts.model }),
      ...thresholdLoad(opts),
      onProgress: (done, total) => {
        started();
        progress(done, total);
      },
    }),
  );
  const { result, records, files, kept } = run;
  const { genderThreshold, flipTta } = result.modelIdentity!;
  log(`model ${result.model}: gender threshold ${genderThreshold}${flipTta === null ? '' : `, flip TTA ${flipTta ? 'on' : 'off'}`}`);
  if (kept > 0) log(`${kept} of ${records.length} photos kept from the run resumed, ${records.length - kept} scored now`);
  for (const line of [...formatPhotoSummary(result.summary), ...failedPhotoLines(records)]) log(line);
  log(writtenEvaluation(files));
  return result.summary;
}

/** The photo-only options given (they mean nothing without --photos). */
function photoOnlyOptions(opts: EvaluateCommandOptions): string[] {
  return [opts.labels === undefined ? null : '--labels', opts.limit === undefined ? null : '--limit', opts.detect === false ? '--no-detect' : null, opts.resume ? '--resume' : null, opts.reference === undefined ? null : '--reference'].filter((o): o is string => o !== null);
}

/** Options of a workspace evaluation, by commander's attribute name: they mean nothing with --photos. */
const WORKSPACE_ONLY = Object.freeze({ workspace: '--workspace', split: '--split', batchSize: '--batch-size', replicates: '--replicates', seed: '--seed' });

/** The workspace-only options given on the command line (their defaults are not counted). */
function workspaceOnlyOptions(command: Command): string[] {
  return Object.entries(WORKSPACE_ONLY).flatMap(([key, flag]) => (command.getOptionValueSource(key) === 'cli' ? [flag] : []));
}

/** Parses the options, evaluates through the workflow and prints the account; exported for tests. */
export async function runEvaluate(opts: EvaluateCommandOptions, log: (line: string) => void = console.log): Promise<EvaluationResult> {
  const photoOnly = photoOnlyOptions(opts);
  if (photoOnly.length > 0) throw new AgeGenderError('INVALID_ARGUMENT', `${photoOnly.join(', ')} ${photoOnly.length > 1 ? 'apply' : 'applies'} only with --photos <dir>, which was not given`);
  const { result, files } = await evaluateWorkspace({
    split: oneOf(opts.split, '--split', SPLITS),
    batchSize: parseNumberOption(opts.batchSize, '--batch-size', 1, 1024, true),
    replicates: parseNumberOption(opts.replicates, '--replicates', 10, 100_000, true),
    seed: parseNumberOption(opts.seed, '--seed', 0, 2 ** 31 - 1, true),
    workspace: opts.workspace,
    ...(opts.out === undefined ? {} : { out: opts.out }),
    ...(opts.model === undefined ? {} : { modelDir: opts.model }),
    ...thresholdLoad(opts),
    onProgress: progressReporter('evaluate', log),
  });
  for (const line of formatEvaluation(result, files)) log(line);
  return result;
}

/** `agegender evaluate`: metrics by slice with bootstrap intervals, best/worst samples, per-image CSV. */
export function registerEvaluateCommand(program: Command): void {
  addModelSplitOptions(
    program
      .command('evaluate')
      .description('evaluate a model on one split of a prepared workspace (metrics, slices with 95% intervals, best/worst samples), or on labelled photos with --photos'),
  )
    .option('--out <dir>', `output folder (default: <workspace>/${WORKSPACE_FILES.evaluation}/<split>; required with --photos)`)
    .option('--photos <dir>', 'score the photo path (detect, align, predict) on this folder of photos instead of a workspace split; needs --labels and --out')
    .option('--labels <csv>', 'with --photos: labels CSV with the columns file,age,gender (one labelled face per photo)')
    .option('--limit <n>', 'with --photos: score only n photos, spread evenly over the labels')
    .option('--no-detect', 'with --photos: take each photo as one aligned chip (no face detection; the quality gate of predict --no-detect still runs)')
    .option('--resume', `with --photos: continue a run that was cut short from the records so far (<out>/${PHOTO_RECORDS_FILE}.partial); photos that failed are scored again; refused when that run had other options`)
    .option('--reference <dir>', "with --photos: a chip evaluation folder of the same model (this command's --out without --photos); its signed age error by decade separates the photos' population shift from the model's own regression to the mean")
    .option('--batch-size <n>', 'images per forward pass', String(EVALUATE_DEFAULTS.batchSize))
    .option('--replicates <n>', 'bootstrap resamples for the 95% intervals', String(EVALUATE_DEFAULTS.replicates))
    .option('--seed <n>', 'bootstrap seed', String(EVALUATE_DEFAULTS.seed))
    .option('--gender-threshold <p>', GENDER_THRESHOLD_HELP)
    .action(async (opts: EvaluateCommandOptions, command: Command) => {
      const ignored = opts.photos === undefined ? [] : workspaceOnlyOptions(command);
      if (ignored.length > 0) throw new AgeGenderError('INVALID_ARGUMENT', `${ignored.join(', ')} ${ignored.length > 1 ? 'apply' : 'applies'} to a workspace split, not with --photos <dir>`);
      // as predict does: the evaluation is written, the exit status says some images or photos failed
      const failed = opts.photos === undefined ? (await runEvaluate(opts)).counts.skipped : (await runEvaluatePhotos(opts)).failed;
      if (failed > 0) process.exitCode = 1;
    });
}
