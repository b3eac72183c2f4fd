/**
 * `agegender predict <files|dirs|globs...> [--json|--csv] [--no-detect] [--model dir]`
 *
 * Ordinary photos go through face detection and alignment (every face reported with its box);
 * with `--no-detect` each image is taken as an aligned UTKFace-style chip and predicted in batches.
 * A file that cannot be read or decoded is reported and the run goes on; the exit code is 1 when
 * any file failed, 0 otherwise.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AgeGenderError, reasonOf, type ErrorCode } from '../../core/errors.js';
import { parseNumberOption } from '../../core/validate.js';
import { decodeImage } from '../../io/decode.js';
import type { RawImage } from '../../io/types.js';
import type { AgeGenderPrediction } from '../../core/types.js';
import type { AgeGenderModel } from '../../model/api.js';
import type { InferenceChoice } from '../../model/index.js';
import { addInferenceOptions, inferenceChoice, type InferenceCliOptions } from '../inference-options.js';
import { analyzeImage, faceReport, roundTo, type AnalyzedFace, type FaceReport } from '../../pipeline/analyze.js';
import type { FaceDetector } from '../../pipeline/detect.js';
import { expandImageArgs } from '../../pipeline/inputs.js';
import { createPredictPool } from '../../pipeline/predict-pool.js';

export const PREDICT_FORMATS = Object.freeze(['text', 'json', 'csv'] as const);
export type PredictFormat = (typeof PREDICT_FORMATS)[number];

export interface PredictOptions {
  format?: PredictFormat;
  /** Run face detection (default true). */
  detect?: boolean;
  /** Model folder (default: the shipped model); ignored when `model` is given. */
  modelDir?: string;
  /** Chips per forward batch with detection off (default 32). */
  batchSize?: number;
  /**
   * Worker threads for chips (`detect: false`), each with its own model copy; default 1 (in-process).
   * More only pays on idle multi-core machines: on 2 busy cores 2 workers measured slower.
   * Ignored when `model` is injected.
   */
  workers?: number;
  /** Largest image decoded, in pixels (default: the decoder's). */
  maxPixels?: number;
  /** Inference runtime and flip test-time augmentation for the model loaded here (default: auto, the folder's recorded setting). */
  load?: InferenceChoice;
  /** Injected model / detector (tests, library use); loaded otherwise and disposed at the end. */
  model?: AgeGenderModel;
  detector?: FaceDetector;
  /** Where results go (default stdout) and where the summary goes (default stderr). */
  out?: (text: string) => void;
  log?: (text: string) => void;
}

export type PredictFace = FaceReport;

export interface PredictFileResult {
  file: string;
  width: number | null;
  height: number | null;
  faces: PredictFace[];
  error: { code: ErrorCode; message: string } | null;
}

export interface PredictSummary {
  files: number;
  failed: number;
  faces: number;
  seconds: number;
  imagesPerSecond: number;
  /** What ran the network. */
  runtime: string;
  results: PredictFileResult[];
}

const CSV_HEADER = 'file,face,x,y,width,height,score,age,age_low,age_high,gender,gender_probability,female_probability,error';


function failure(file: string, error: unknown): PredictFileResult {
  const code: ErrorCode = error instanceof AgeGenderError ? error.code : 'UNREADABLE_FILE';
  return { file, width: null, height: null, faces: [], error: { code, message: reasonOf(error) } };
}

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A row with no face fields (box … female_probability empty): a failed file, or a file without a face. */
function faceLessRow(file: string, face: number | '', error: string): string {
  return [file, face, ...Array<string>(11).fill(''), error].map(csvCell).join(',');
}

function csvRows(res: PredictFileResult): string[] {
  if (res.error) return [faceLessRow(res.file, '', `${res.error.code}: ${res.error.message}`)];
  // a photo without a detected face still gets a row (face 0), so every input file appears in the CSV
  if (res.faces.length === 0) return [faceLessRow(res.file, 0, '')];
  return res.faces.map((f, i) =>
    [res.file, i + 1, f.box.x, f.box.y, f.box.width, f.box.height, f.score, f.age, f.ageInterval[0], f.ageInterval[1], f.gender, f.genderProbability, f.femaleProbability, '']
      .map(csvCell)
      .join(','),
  );
}

function textRows(res: PredictFileResult): string[] {
  if (res.error) return [`${res.file}: FAILED [${res.error.code}] ${res.error.message}`];
  if (res.faces.length === 0) return [`${res.file}: no face found`];
  return res.faces.map((f, i) => {
    const b = f.box;
    const where = f.score === null ? 'whole image' : `box ${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}×${Math.round(b.height)} (score ${f.score.toFixed(2)})`;
    return `${res.file}: face ${i + 1}: age ${f.age.toFixed(1)} (${f.ageInterval[0].toFixed(0)}–${f.ageInterval[1].toFixed(0)}), ${f.gender} ${(f.genderProbability * 100).toFixed(0)}%, ${where}`;
  });
}

/** Maps over items with at most `limit` in flight, keeping order. */
async function mapLimit<T, U>(items: readonly T[], limit: number, fn: (item: T) => Promise<U>): Promise<U[]> {
  const out = new Array<U>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

type Decoded = { file: string; image: RawImage } | { file: string; error: unknown };

async function decodeFile(file: string, maxPixels: number | undefined): Promise<Decoded> {
  try {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (cause) {
      throw new AgeGenderError('UNREADABLE_FILE', `cannot read file: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { subject: file, cause });
    }
    return { file, image: await decodeImage(bytes, file, maxPixels === undefined ? {} : { maxPixels }) };
  } catch (error) {
    return { file, error };
  }
}

type Predictor = (images: RawImage[]) => Promise<AgeGenderPrediction[]>;

/** One batch of chips: decode (4 at a time), predict together; a bad chip is isolated by retrying one by one. */
async function chipBatch(predict: Predictor, files: readonly string[], maxPixels: number | undefined): Promise<PredictFileResult[]> {
  const batch = await mapLimit(files, 4, (f) => decodeFile(f, maxPixels));
  const good = batch.filter((d): d is { file: string; image: RawImage } => 'image' in d);
  let predictions: Array<AgeGenderPrediction | Error>;
  try {
    predictions = good.length > 0 ? await predict(good.map((g) => g.image)) : [];
  } catch {
    predictions = [];
    for (const g of good) {
      predictions.push(await predict([g.image]).then((p) => p[0] ?? new Error('no prediction'), (e: unknown) => (e instanceof Error ? e : new Error(String(e)))));
    }
  }
  let k = 0;
  return batch.map((d) => {
    if ('error' in d) return failure(d.file, d.error);
    const p = predictions[k++];
    if (!p || p instanceof Error) return failure(d.file, p ?? new Error('no prediction'));
    const { width, height } = d.image;
    const face: AnalyzedFace = { box: { x: 0, y: 0, width, height }, score: null, prediction: p, chip: d.image, detection: null };
    return { file: d.file, width, height, faces: [faceReport(face)], error: null };
  });
}

/**
 * Chips in batches with `inFlight` batches under way at once (decoding of later batches overlaps the
 * forward passes of earlier ones; with a worker pool, batches run on several cores). Results are
 * emitted in input order.
 */
async function predictChips(predict: Predictor, files: readonly string[], batchSize: number, inFlight: number, maxPixels: number | undefined, emit: (r: PredictFileResult) => void): Promise<void> {
  const running: Array<Promise<PredictFileResult[]>> = [];
  let emitted = 0;
  for (let start = 0; start < files.length; start += batchSize) {
    const p = chipBatch(predict, files.slice(start, start + batchSize), maxPixels);
    p.catch(() => undefined);
    running.push(p);
    while (running.length - emitted > inFlight) (await running[emitted++]!).forEach(emit);
  }
  while (emitted < running.length) (await running[emitted++]!).forEach(emit);
}

/** Runs `predict` over expanded inputs; returns the summary (exit code is the caller's). */
export async function runPredict(inputs: readonly string[], options: PredictOptions = {}): Promise<PredictSummary> {
  const format = options.format ?? 'text';
  const detect = options.detect ?? true;
  const batchSize = options.batchSize ?? 32;
  const out = options.out ?? ((t: string) => process.stdout.write(`${t}\n`));
  const log = options.log ?? ((t: string) => process.stderr.write(`${t}\n`));
  if (inputs.length === 0) throw new AgeGenderError('INVALID_ARGUMENT', 'Expected at least one file, folder or glob');
  const { files, missing } = await expandImageArgs(inputs);
  const results: PredictFileResult[] = [];
  if (format === 'csv') out(CSV_HEADER);
  const emit = (res: PredictFileResult): void => {
    results.push(res);
    if (format === 'csv') csvRows(res).forEach((row) => out(row));
    else if (format === 'text') textRows(res).forEach((row) => out(row));
  };
  for (const m of missing) emit(failure(m, new AgeGenderError('UNREADABLE_FILE', 'no such file, folder, or glob match', { subject: m })));

  const started = performance.now();
  const workers = options.model ? 1 : (options.workers ?? 1);
  let runtime = options.model?.runtime ?? 'none (no file to predict)';
  if (!detect && workers > 1) {
    const pool = await createPredictPool({ modelDir: options.modelDir, workers, ...(options.load ? { load: options.load } : {}) });
    runtime = `${pool.runtime}, on ${pool.size} worker threads`;
    try {
      await predictChips((images) => pool.predictBatch(images), files, batchSize, pool.size + 1, options.maxPixels, emit);
    } finally {
      await pool.close();
    }
  } else {
    const ownsModel = !options.model;
    const model = options.model ?? (await (await import('../../model/load.js')).loadModelFrom(options.modelDir, options.load));
    runtime = model.runtime;
    let detector: FaceDetector | null = options.detector ?? null;
    const ownsDetector = detect && !detector;
    try {
      if (detect && !detector) detector = await (await import('../../pipeline/detect.js')).loadFaceDetector();
      if (!detect) {
        await predictChips((images) => model.predictBatch(images), files, batchSize, 2, options.maxPixels, emit);
      } else {
        let pending = files.length > 0 ? decodeFile(files[0] as string, options.maxPixels) : null;
        for (let i = 0; pending; i++) {
          const d = await pending;
          pending = i + 1 < files.length ? decodeFile(files[i + 1] as string, options.maxPixels) : null;
          if ('error' in d) {
            emit(failure(d.file, d.error));
            continue;
          }
          try {
            const res = await analyzeImage(model, detector, d.image, { detect: true });
            emit({ file: d.file, width: res.width, height: res.height, faces: res.faces.map(faceReport), error: null });
          } catch (error) {
            emit(failure(d.file, error));
          }
        }
      }
    } finally {
      if (ownsDetector) detector?.dispose();
      if (ownsModel) model.dispose();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const failed = results.filter((x) => x.error).length;
  const summary: PredictSummary = {
    files: results.length,
    failed,
    faces: results.reduce((s, x) => s + x.faces.length, 0),
    seconds: roundTo(seconds, 3),
    imagesPerSecond: roundTo(files.length / Math.max(seconds, 1e-9), 1),
    runtime,
    results,
  };
  if (format === 'json') {
    out(JSON.stringify({ files: results, summary: { files: summary.files, failed, faces: summary.faces, seconds: summary.seconds, imagesPerSecond: summary.imagesPerSecond } }, null, 2));
  }
  log(`${summary.files} files, ${summary.faces} faces, ${failed} failed, ${summary.seconds.toFixed(1)} s (${summary.imagesPerSecond} images/s; network on ${runtime})`);
  return summary;
}

interface PredictCliOptions extends InferenceCliOptions {
  json?: boolean;
  csv?: boolean;
  detect: boolean;
  model?: string;
  batch: string;
  workers?: string;
}

/** Registers `agegender predict`. */
export function registerPredictCommand(program: Command): void {
  const command = program
    .command('predict')
    .description('estimate age and gender for every face in images (photos: faces detected and aligned; --no-detect: aligned chips)')
    .argument('<inputs...>', 'image files, folders (searched recursively) or globs (quote them: "photos/**/*.jpg")')
    .option('--json', 'print one JSON document')
    .option('--csv', 'print CSV, one row per face (a file without a face: one row with face 0; a failed file: one row with the error)')
    .option('--no-detect', 'skip face detection: each image is one aligned UTKFace-style chip')
    .option('--model <dir>', 'model folder (default: the shipped model)')
    .option('--batch <n>', 'chips per forward batch with --no-detect', '32')
    .option('--workers <n>', 'worker threads for --no-detect, each with its own model copy (default 1; try the core count on an idle machine)');
  addInferenceOptions(command).action(async (inputs: string[], opts: PredictCliOptions) => {
    if (opts.json && opts.csv) throw new AgeGenderError('INVALID_ARGUMENT', 'Expected at most one of --json and --csv but received both');
    const summary = await runPredict(inputs, {
      format: opts.json ? 'json' : opts.csv ? 'csv' : 'text',
      detect: opts.detect,
      batchSize: parseNumberOption(opts.batch, '--batch', 1, 1024, true),
      ...(opts.workers === undefined ? {} : { workers: parseNumberOption(opts.workers, '--workers', 1, 64, true) }),
      ...(opts.model === undefined ? {} : { modelDir: opts.model }),
      load: inferenceChoice(opts),
    });
    if (summary.failed > 0) process.exitCode = 1;
  });
}
