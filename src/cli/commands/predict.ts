/**
 * `agegender predict <files|dirs|globs...> [--json|--csv] [--out file [--resume]] [--no-detect] [--model dir]`
 *
 * Prints what `predictFiles` (src/pipeline/predict-files.ts) finds, as text, CSV (one row per face)
 * or one JSON document; or, with `--out`, writes CSV or NDJSON to a file through `predictToFile`
 * (src/pipeline/predict-output.ts: resumable). The summary line goes to stderr, and a progress bar
 * when stderr is a terminal and the results are not printed on it. A file's note (a multi-frame file
 * read at its first frame) is on its row in every format; with `--json`, `--csv` or `--out` the first
 * few notes are also said on stderr, before the summary. The exit code is 1 when any file
 * failed, 0 otherwise.
 */
import type { Command } from 'commander';
import { AgeGenderError } from '../../core/errors.js';
import { parseNumberOption } from '../../core/validate.js';
import { SUPPORTED_FORMATS } from '../../io/decode.js';
import { PREDICT_CSV_HEADER, predictCsvRows } from '../../pipeline/predict-csv.js';
import { partialPathOf, predictToFile, resultFormatOf, type PredictToFileOptions, type PredictToFileSummary } from '../../pipeline/predict-output.js';
import { createProgressBar, wantsProgressBar, type ProgressBar } from '../progress.js';
import { withResumeHint } from '../resume-hint.js';
import { DEFAULT_MAX_FACES, DETECTOR_PREFERENCES, type DetectorPreference } from '../../pipeline/detector-names.js';
import { predictFiles, type PredictFileResult, type PredictFilesOptions, type PredictSummary } from '../../pipeline/predict-files.js';
import { addInferenceOptions, inferenceChoice, type InferenceCliOptions } from '../inference-options.js';
import { count, probabilityPercent } from '../../core/format.js';

export const PREDICT_FORMATS = Object.freeze(['text', 'json', 'csv'] as const);
export type PredictFormat = (typeof PREDICT_FORMATS)[number];

export interface PredictOptions extends Omit<PredictFilesOptions, 'onResult' | 'skip' | 'onStart'> {
  format?: PredictFormat;
  /** Show a progress bar on stderr (default: when stderr is a terminal and the results do not go to it). */
  progress?: boolean;
  /** Where results go (default stdout) and where the summary goes (default stderr). */
  out?: (text: string) => void;
  log?: (text: string) => void;
}

/** "female 97%", or "gender uncertain (female 55%)" when the model abstained. */
function genderText(f: PredictFileResult['faces'][number]): string {
  if (f.gender !== 'uncertain') return `${f.gender} ${probabilityPercent(f.genderProbability)}`;
  return `gender uncertain (female ${probabilityPercent(f.femaleProbability)})`;
}

/** A file name as a text line shows it: quoted and escaped (JSON) when it holds a line break or another control character, so one result stays one line. */
function shown(file: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(file) ? JSON.stringify(file) : file;
}

function textRows(res: PredictFileResult): string[] {
  const note = res.note === undefined ? [] : [`${shown(res.file)}: note: ${res.note}`];
  if (res.error) return [`${shown(res.file)}: FAILED [${res.error.code}] ${res.error.message}`, ...note];
  if (res.faces.length === 0) return [`${shown(res.file)}: no face found`, ...note];
  // the detector keeps its `maxFaces`, so when it cut some, as many as are listed
  const cut = res.facesFound === undefined ? [] : [`${shown(res.file)}: ${res.faces.length} of ${res.facesFound} faces (--max-faces ${res.faces.length}): the highest-scoring`];
  return [...faceRows(res), ...cut, ...note];
}

/** Notes shown on stderr when the rows go elsewhere (a file, or JSON/CSV): the first few. */
const NOTES_SHOWN = 5;

/** Collects the results' notes; `flush` says the first {@link NOTES_SHOWN} (and how many more) to `log`. */
function noteCollector(log: (text: string) => void): { add: (res: PredictFileResult) => void; flush: () => void } {
  const notes: string[] = [];
  return {
    add: (res) => {
      if (res.note !== undefined) notes.push(`${shown(res.file)}: note: ${res.note}`);
    },
    flush: () => {
      notes.slice(0, NOTES_SHOWN).forEach((n) => log(n));
      if (notes.length > NOTES_SHOWN) log(`… and ${count(notes.length - NOTES_SHOWN, 'more file')} with a note (see the note field)`);
    },
  };
}

function faceRows(res: PredictFileResult): string[] {
  return res.faces.map((f, i) => {
    const b = f.box;
    const where = f.score === null ? 'whole image' : `box ${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}×${Math.round(b.height)} (score ${f.score.toFixed(2)})`;
    const turned = res.turned ? `, found with the photo turned ${res.turned}°` : '';
    return `${shown(res.file)}: face ${i + 1}: age ${f.age.toFixed(1)} (${f.ageInterval[0].toFixed(0)}–${f.ageInterval[1].toFixed(0)}), ${genderText(f)}, ${where}, quality ${f.quality.score.toFixed(2)}${turned}`;
  });
}

/** Predicts through `predictFiles` and prints each result as it comes, in the chosen format; returns the summary. */
function parseDetectorName(value: string): DetectorPreference {
  if (!(DETECTOR_PREFERENCES as readonly string[]).includes(value)) throw new AgeGenderError('INVALID_ARGUMENT', `Expected --detector to be one of ${DETECTOR_PREFERENCES.join(', ')} but received ${JSON.stringify(value)}`);
  return value as DetectorPreference;
}

/** A progress bar on stderr, or nothing. */
function progressOf(show: boolean): ProgressBar {
  return show ? createProgressBar('predict', '{bar} {percentage}% | {value}/{total} files | {eta_formatted} left') : { update: () => {}, stop: () => {} };
}

/** The summary line: "N files, F faces, X failed, s (images/s; network on …)", with `extra` after the file count. */
function summaryLine(s: Omit<PredictSummary, 'results'>, extra = ''): string {
  return `${count(s.files, 'file')}${extra}, ${count(s.faces, 'face')}, ${s.failed} failed, ${s.seconds.toFixed(1)} s (${s.imagesPerSecond} images/s; network on ${s.runtime})`;
}

export interface PredictToFileCliOptions extends Omit<PredictToFileOptions, 'onProgress' | 'format'> {
  /** The format flag given (`--json`, `--csv`): checked against the file's extension. */
  format?: PredictFormat;
  /** Where the summary goes (default stderr). */
  log?: (text: string) => void;
  /** Show a progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
}

/** `--out`: the results go to a file (resumable), the summary, with what was kept from an earlier run, to `log`. */
export async function runPredictToFile(inputs: readonly string[], options: PredictToFileCliOptions): Promise<PredictToFileSummary> {
  const { format, log = (t: string) => process.stderr.write(`${t}\n`), progress, out: outFile, ...predictOptions } = options;
  const fileFormat = resultFormatOf(outFile);
  if (format === 'json') throw new AgeGenderError('INVALID_ARGUMENT', `--json prints one document; with --out write ${outFile.replace(/\.[^./]*$/, '')}.ndjson (one JSON result per line) or a .csv`);
  if (format === 'csv' && fileFormat !== 'csv') throw new AgeGenderError('INVALID_ARGUMENT', `--csv, but --out ${outFile} names an NDJSON file; the format comes from the extension`);
  const bar = progressOf(progress ?? wantsProgressBar());
  const notes = noteCollector(log);
  return withResumeHint({ partial: partialPathOf(outFile), log, stop: () => bar.stop() }, async (started) => {
    const s = await predictToFile(inputs, {
      ...predictOptions,
      out: outFile,
      onResult: (res) => {
        notes.add(res);
        predictOptions.onResult?.(res);
      },
      onProgress: (done, total) => {
        started();
        bar.update(done, total);
      },
    });
    bar.stop();
    notes.flush();
    const kept = s.kept > 0 ? ` (${s.kept} more kept from the earlier run)` : '';
    log(`${summaryLine(s, kept)} → ${s.out}`);
    return s;
  });
}

export async function runPredict(inputs: readonly string[], options: PredictOptions = {}): Promise<PredictSummary> {
  const { format = 'text', out = (t: string) => process.stdout.write(`${t}\n`), log = (t: string) => process.stderr.write(`${t}\n`), progress, ...predictOptions } = options;
  if (format === 'csv') out(PREDICT_CSV_HEADER);
  const rows = format === 'csv' ? predictCsvRows : format === 'text' ? textRows : () => [];
  // a bar only where it does not mix with the rows: stdout redirected (or --json, printed at the end)
  const bar = progressOf(progress ?? (wantsProgressBar() && (format === 'json' || !process.stdout.isTTY)));
  // text rows carry their notes; JSON and CSV carry them in a field, and stderr says them too
  const notes = noteCollector(log);
  let total = 0;
  let done = 0;
  const summary = await predictFiles(inputs, {
    ...predictOptions,
    onStart: (n) => bar.update(0, (total = n)),
    onResult: (res) => {
      rows(res).forEach((row) => out(row));
      if (format !== 'text') notes.add(res);
      bar.update(++done, total);
    },
  }).finally(() => bar.stop());
  notes.flush();
  const { files, failed, faces, seconds, imagesPerSecond, results } = summary;
  if (format === 'json') out(JSON.stringify({ files: results, summary: { files, failed, faces, seconds, imagesPerSecond } }, null, 2));
  log(summaryLine(summary));
  return summary;
}

interface PredictCliOptions extends InferenceCliOptions {
  json?: boolean;
  csv?: boolean;
  detect: boolean;
  model?: string;
  batch: string;
  workers?: string;
  detector?: string;
  maxFaces: string;
  out?: string;
  resume?: boolean;
}

/** Registers `agegender predict`. */
export function registerPredictCommand(program: Command): void {
  const command = program
    .command('predict')
    .description('estimate age and gender for every face in images (photos: faces detected and aligned; --no-detect: aligned chips)')
    .argument('<inputs...>', `image files (${SUPPORTED_FORMATS}), folders (searched recursively), globs (quote them: "photos/**/*.jpg") or http(s) URLs`)
    .option('--json', 'print one JSON document')
    .option('--csv', 'print CSV, one row per face (a file without a usable face, or one that failed: one row with the error)')
    .option('--out <file>', 'write the results to this file instead of printing them: CSV, or one JSON result per line for .ndjson/.jsonl; written to <file>.partial as it goes and renamed when done')
    .option('--resume', 'with --out: continue a run that was cut short (from <file>.partial), or add the files a finished <file> lacks; files that failed are tried again')
    .option('--no-detect', 'skip face detection: each image is one aligned UTKFace-style chip')
    .option('--model <dir>', 'model folder (default: the shipped model)')
    .option('--batch <n>', 'chips per forward batch with --no-detect', '32')
    .option('--workers <n>', 'worker threads, each with its own model copy (and face detector for photos); default 1, try the core count on an idle machine')
    .option('--detector <name>', 'face detector for photos: auto (YuNet, or SSD without onnxruntime), yunet or ssd', 'auto')
    .option('--max-faces <n>', 'at most this many faces per photo (the highest-scoring)', String(DEFAULT_MAX_FACES));
  addInferenceOptions(command).action(async (inputs: string[], opts: PredictCliOptions) => {
    if (opts.json && opts.csv) throw new AgeGenderError('INVALID_ARGUMENT', 'Expected at most one of --json and --csv but received both');
    if (opts.resume && opts.out === undefined) throw new AgeGenderError('INVALID_ARGUMENT', '--resume continues a run written with --out: give the same --out');
    const common = {
      detect: opts.detect,
      detectorName: parseDetectorName(opts.detector ?? 'auto'),
      maxFaces: parseNumberOption(opts.maxFaces, '--max-faces', 1, 1000, true),
      batchSize: parseNumberOption(opts.batch, '--batch', 1, 1024, true),
      ...(opts.workers === undefined ? {} : { workers: parseNumberOption(opts.workers, '--workers', 1, 64, true) }),
      ...(opts.model === undefined ? {} : { modelDir: opts.model }),
      load: inferenceChoice(opts),
    };
    const format = opts.json ? 'json' : opts.csv ? 'csv' : 'text';
    // text and CSV rows are printed as they come: only --json needs every result held until the end
    const summary = opts.out === undefined ? await runPredict(inputs, { format, keepResults: format === 'json', ...common }) : await runPredictToFile(inputs, { ...common, ...(format === 'text' ? {} : { format }), out: opts.out, resume: opts.resume ?? false });
    if (summary.failed > 0) process.exitCode = 1;
  });
}
