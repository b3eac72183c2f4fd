/**
 * Age and gender for every face in a list of image files, folders, globs or http(s) URLs: the
 * library side of `agegender predict`. Photos go through face detection and alignment (every face with its box);
 * with `detect: false` each image is an aligned chip, predicted in batches, in-process or on a
 * worker pool. A file that cannot be read or decoded becomes a result with its error, and the run
 * goes on. Results come back (and to `onResult`) in argument order, an argument that matches nothing
 * and an entry a walk cannot reach (a broken link, an unreadable folder) as a failed result in its place.
 *
 * @example
 *   const summary = await predictFiles(['photos/'], { onResult: (r) => console.log(r.file, r.faces.length) });
 *   summary.failed; // files that could not be read, decoded or predicted
 */
import { AgeGenderError, reasonOf, type ErrorCode } from '../core/errors.js';
import { mapLimit } from '../core/limit.js';
import { integerInRange } from '../core/validate.js';
import type { RawImage } from '../io/types.js';
import type { AgeGenderModel } from '../model/api.js';
import { withModel, type ModelSource } from '../model/load.js';
import { analyzeImage, faceReport, photoReport, PHOTO_MAX_SIDE, reportInPixelsOf, roundTo, type AnalyzedFace, type FaceReport } from './analyze.js';
import type { QuarterTurn } from './turn.js';
import type { DetectorPreference, FaceDetector } from './detect.js';
import { decodeInput } from './decode-input.js';
import { createPhotoPool } from './photo-pool.js';
import { expandImageArgs } from './inputs.js';
import { createPredictPool } from './predict-pool.js';
import { gateAndPredict, type ChipOutcome, type SubjectChip } from './gated-chips.js';
import { checkShrunkSize } from './quality.js';

export interface PredictFilesOptions extends ModelSource {
  /** Run face detection (default true); false: every image is one aligned chip. */
  detect?: boolean;
  /** Chips per forward batch with detection off: 1–1024, default 32. */
  batchSize?: number;
  /**
   * Worker threads, each loading its own copy of `modelDir` (and, for photos, its own face
   * detector): 1–64, default 1 (in-process). Photos: one photo per worker at a time; chips (`detect:
   * false`): batches. More only pays on idle multi-core machines. Ignored when `model` or
   * `detector` is given.
   */
  workers?: number;
  /** Largest image decoded, in pixels (default: the decoder's). */
  maxPixels?: number;
  /** A loaded face detector (the caller disposes it); loaded here when detection is on and none is given. */
  detector?: FaceDetector;
  /** Which face detector to load when none is given (default `auto`: YuNet, else SSD). */
  detectorName?: DetectorPreference;
  /** At most this many faces per photo, for the detector loaded here (default: the detector's, 32). */
  maxFaces?: number;
  /** Each file's result, as soon as it and every file before it are done. */
  onResult?: (result: PredictFileResult) => void;
  /** Files already done, named as results name them (e.g. by an earlier run): neither predicted nor reported. */
  skip?: ReadonlySet<string>;
  /** Called once the arguments are expanded, with the number of results to come. */
  onStart?: (total: number) => void;
  /**
   * Keep every result in the summary's `results` (default true). False leaves `results` empty (the
   * counts are still given): for long runs whose results go out through `onResult`, which would
   * otherwise hold every result in memory until the end.
   */
  keepResults?: boolean;
}

export type PredictFace = FaceReport;

export interface PredictFileResult {
  file: string;
  width: number | null;
  height: number | null;
  faces: PredictFace[];
  /** Clockwise degrees the photo was turned to find its faces, when it was stored sideways or upside down (analyze.ts `turns`). */
  turned?: QuarterTurn;
  /** How many faces the detector found, when `maxFaces` kept fewer (`faces` holds the highest-scoring). */
  facesFound?: number;
  /**
   * Something the user should know about how the file was read, when there is: an animated GIF,
   * WebP or PNG or a multi-page TIFF is analysed at its first frame or page only ("the GIF holds 3
   * frames: only the first was analysed").
   */
  note?: string;
  error: { code: ErrorCode; message: string } | null;
}

export interface PredictSummary {
  files: number;
  failed: number;
  faces: number;
  seconds: number;
  /** Images found per second (arguments that matched nothing and entries that could not be reached not counted). */
  imagesPerSecond: number;
  /** What ran the network. */
  runtime: string;
  /** Every result, in argument order; empty when the run was asked not to keep them (`keepResults: false`). */
  results: PredictFileResult[];
}

function failure(file: string, error: unknown, note?: string): PredictFileResult {
  const code: ErrorCode = error instanceof AgeGenderError ? error.code : 'UNREADABLE_FILE';
  return { file, width: null, height: null, faces: [], ...(note === undefined ? {} : { note }), error: { code, message: reasonOf(error) } };
}

type Decoded = { file: string; image: RawImage; width: number; height: number; note?: string } | { file: string; error: unknown };

/** `{ note }` when the decoded file has one, else nothing: spread into its result. */
function noteOf(d: { note?: string }): { note?: string } {
  return d.note === undefined ? {} : { note: d.note };
}

/** Reads and decodes `file`; with `maxSide` (photos) shrunk to it, `width` × `height` being the file's upright size. */
async function decodeFile(file: string, maxPixels: number | undefined, maxSide?: number): Promise<Decoded> {
  try {
    return { file, ...(await decodeInput(file, file, { ...(maxPixels === undefined ? {} : { maxPixels }), ...(maxSide === undefined ? {} : { maxSide }) })) };
  } catch (error) {
    return { file, error };
  }
}

/** Gate and prediction for a batch of decoded chips, in-process or on a worker (gated-chips.ts). */
type ChipRunner = (chips: SubjectChip[]) => Promise<ChipOutcome[]>;

/** One batch of chips: decode (4 at a time), then gate and predict those that decoded. */
async function chipBatch(run: ChipRunner, files: readonly string[], maxPixels: number | undefined): Promise<PredictFileResult[]> {
  const batch = await mapLimit(files, 4, (f) => decodeFile(f, maxPixels));
  const good = batch.filter((d): d is Extract<Decoded, { image: RawImage }> => 'image' in d);
  const outcomes = good.length > 0 ? await run(good.map((d) => ({ image: d.image, subject: d.file }))) : [];
  let k = 0;
  return batch.map((d) => {
    if ('error' in d) return failure(d.file, d.error);
    const o = outcomes[k++];
    if (!o || 'error' in o) return failure(d.file, o ? o.error : new Error('no prediction'), d.note);
    const { width, height } = d.image;
    const face: AnalyzedFace = { box: { x: 0, y: 0, width, height }, score: null, prediction: o.prediction, chip: d.image, detection: null, quality: o.quality };
    return { file: d.file, width, height, faces: [faceReport(face)], ...noteOf(d), error: null };
  });
}

/**
 * Chips in batches with `inFlight` batches under way at once (decoding of later batches overlaps the
 * forward passes of earlier ones; with a worker pool, batches run on several cores). Results are
 * emitted in input order.
 */
async function predictChips(run: ChipRunner, files: readonly string[], batchSize: number, inFlight: number, maxPixels: number | undefined, emit: (r: PredictFileResult) => void): Promise<void> {
  // the batches under way, oldest first; one emitted is dropped, so a long run holds no results
  const running: Array<Promise<PredictFileResult[]>> = [];
  for (let start = 0; start < files.length; start += batchSize) {
    const p = chipBatch(run, files.slice(start, start + batchSize), maxPixels);
    p.catch(() => undefined);
    running.push(p);
    while (running.length > inFlight) (await running.shift()!).forEach(emit);
  }
  while (running.length > 0) (await running.shift()!).forEach(emit);
}

/** Photos one at a time: detect, align and predict every face; the next file is decoded meanwhile. */
async function predictPhotos(model: AgeGenderModel, detector: FaceDetector, files: readonly string[], maxPixels: number | undefined, emit: (r: PredictFileResult) => void): Promise<void> {
  let pending = files.length > 0 ? decodeFile(files[0] as string, maxPixels, PHOTO_MAX_SIDE) : null;
  for (let i = 0; pending; i++) {
    const d = await pending;
    pending = i + 1 < files.length ? decodeFile(files[i + 1] as string, maxPixels, PHOTO_MAX_SIDE) : null;
    if ('error' in d) {
      emit(failure(d.file, d.error));
      continue;
    }
    try {
      checkShrunkSize(d.image, d, d.file);
      const res = await analyzeImage(model, detector, d.image, { detect: true, subject: d.file });
      emit({ file: d.file, ...reportInPixelsOf(photoReport(res), d.width, d.height), ...noteOf(d), error: null });
    } catch (error) {
      emit(failure(d.file, error, d.note));
    }
  }
}

/**
 * Chips on `workers` threads, each with its own model and face detector, gating its own chips; a
 * batch whose worker fails (a crash) is retried chip by chip. Returns what ran the network.
 */
async function predictChipsPooled(files: readonly string[], o: PredictFilesOptions, workers: number, batchSize: number, emit: (r: PredictFileResult) => void): Promise<string> {
  const pool = await createPredictPool({ modelDir: o.modelDir, workers, detector: o.detectorName ?? 'auto', ...(o.load ? { load: o.load } : {}) });
  const run: ChipRunner = async (chips) => {
    try {
      return await pool.gateAndPredict(chips);
    } catch {
      const out: ChipOutcome[] = [];
      for (const c of chips) out.push(await pool.gateAndPredict([c]).then((r) => r[0] ?? { error: new Error('no prediction') }, (error: unknown) => ({ error })));
      return out;
    }
  };
  try {
    await predictChips(run, files, batchSize, pool.size + 1, o.maxPixels, emit);
    return `${pool.runtime}, on ${pool.size} worker threads`;
  } finally {
    await pool.close();
  }
}

/** Runs `use` with the given detector, or one loaded here (and disposed) — photos and the chips' quality gate both need it. */
async function withDetector<T>(o: PredictFilesOptions, use: (detector: FaceDetector) => Promise<T>): Promise<T> {
  if (o.detector) return use(o.detector);
  const detector = await (await import('./detect.js')).loadFaceDetector({ detector: o.detectorName ?? 'auto', ...(o.maxFaces === undefined ? {} : { maxFaces: o.maxFaces }) });
  try {
    return await use(detector);
  } finally {
    detector.dispose();
  }
}

/** Photos on `workers` threads (each with a model and a detector), `workers + 1` photos under way, results in input order. */
async function predictPhotosPooled(files: readonly string[], o: PredictFilesOptions, workers: number, emit: (r: PredictFileResult) => void): Promise<string> {
  const pool = await createPhotoPool({ modelDir: o.modelDir, workers, detector: o.detectorName ?? 'auto', ...(o.load ? { load: o.load } : {}), ...(o.maxFaces === undefined ? {} : { maxFaces: o.maxFaces }) });
  const one = async (file: string): Promise<PredictFileResult> => {
    const d = await decodeFile(file, o.maxPixels, PHOTO_MAX_SIDE);
    if ('error' in d) return failure(d.file, d.error);
    try {
      checkShrunkSize(d.image, d, d.file);
      const res = await pool.analyze(d.image, d.file);
      return { file: d.file, ...reportInPixelsOf(res, d.width, d.height), ...noteOf(d), error: null };
    } catch (error) {
      return failure(d.file, error, d.note);
    }
  };
  try {
    // the photos under way, oldest first; one emitted is dropped (as in predictChips)
    const running: Array<Promise<PredictFileResult>> = [];
    for (const file of files) {
      running.push(one(file));
      while (running.length > pool.size + 1) emit(await running.shift()!);
    }
    while (running.length > 0) emit(await running.shift()!);
    return `${pool.runtime}, on ${pool.size} worker threads`;
  } finally {
    await pool.close();
  }
}

/** In-process: chips in batches, or photos through the detector (loaded here unless given). */
async function predictInProcess(files: readonly string[], o: PredictFilesOptions, detect: boolean, batchSize: number, emit: (r: PredictFileResult) => void): Promise<string> {
  return withModel(o, async (model) => {
    await withDetector(o, (detector) =>
      detect ? predictPhotos(model, detector, files, o.maxPixels, emit) : predictChips((chips) => gateAndPredict((images) => model.predictBatch(images), detector, chips), files, batchSize, 2, o.maxPixels, emit),
    );
    return model.runtime;
  });
}

/**
 * Predicts every image the arguments name (files, folders searched recursively, globs).
 * Errors: INVALID_ARGUMENT without arguments or with a `batchSize` (1–1024) or `workers` (1–64)
 * out of range; a model or detector that cannot be loaded.
 */
export async function predictFiles(inputs: readonly string[], options: PredictFilesOptions = {}): Promise<PredictSummary> {
  if (inputs.length === 0) throw new AgeGenderError('INVALID_ARGUMENT', 'Expected at least one file, folder or glob');
  const detect = options.detect ?? true;
  const batchSize = integerInRange(options.batchSize ?? 32, 'batchSize', 1, 1024);
  if (options.workers !== undefined) integerInRange(options.workers, 'workers', 1, 64);
  const expanded = await expandImageArgs(inputs);
  const skip = options.skip ?? new Set<string>();
  const files = expanded.files.filter((f) => !skip.has(f));
  // places counted among the files still to do
  const keptBefore = [0];
  for (const f of expanded.files) keptBefore.push(keptBefore.at(-1)! + (skip.has(f) ? 0 : 1));
  const missing = expanded.missing.filter((m) => !skip.has(m.input)).map((m) => ({ ...m, at: keptBefore[m.at]! }));
  options.onStart?.(files.length + missing.length);
  const results: PredictFileResult[] = [];
  const keep = options.keepResults ?? true;
  const counts = { files: 0, failed: 0, faces: 0 };
  const push = (res: PredictFileResult): void => {
    counts.files++;
    if (res.error) counts.failed++;
    counts.faces += res.faces.length;
    if (keep) results.push(res);
    options.onResult?.(res);
  };
  // an argument that matched nothing (or an entry a walk could not reach) goes out in its place: before the file that came after it
  let next = 0;
  let filesOut = 0;
  const flushMissing = (upTo: number): void => {
    for (; next < missing.length && missing[next]!.at <= upTo; next++) {
      const m = missing[next]!;
      push(failure(m.input, new AgeGenderError('UNREADABLE_FILE', m.reason, { subject: m.input })));
    }
  };
  const emit = (res: PredictFileResult): void => {
    flushMissing(filesOut++);
    push(res);
  };

  const started = performance.now();
  const workers = options.model || options.detector ? 1 : (options.workers ?? 1);
  let runtime: string;
  if (workers > 1) runtime = detect ? await predictPhotosPooled(files, options, workers, emit) : await predictChipsPooled(files, options, workers, batchSize, emit);
  else runtime = await predictInProcess(files, options, detect, batchSize, emit);
  flushMissing(Infinity);
  const seconds = (performance.now() - started) / 1000;
  return {
    ...counts,
    seconds: roundTo(seconds, 3),
    imagesPerSecond: roundTo(files.length / Math.max(seconds, 1e-9), 1),
    runtime,
    results,
  };
}
