import { createHash } from 'node:crypto';
import { SPLITS, type AgeGenderPrediction, type ManifestRow, type SplitName } from '../core/types.js';
import { reasonOf } from '../core/errors.js';
import { integerInRange, oneOf } from '../core/validate.js';
import { fixedDecimals, parseCsv, toCsv } from '../core/csv.js';
import { ageBucket } from '../data/labels.js';
import { readSourceBytes } from '../data/sources.js';
import type { AgeGenderModel } from '../model/api.js';
import { modelIdentity, type ModelIdentity } from '../model/identity.js';
import { abstentionSummary, type AbstentionSummary } from './abstention.js';
import { BOOTSTRAP_DEFAULTS, type ConfidenceInterval } from './bootstrap.js';
import {
  AGE_DECADES,
  ageDecade,
  ageMetrics,
  calibrationBins,
  confusionMatrix,
  genderMetrics,
  type AgeMetrics,
  type CalibrationBin,
  type ConfusionMatrix,
  type GenderMetrics,
} from './metrics.js';
import { bestWorst, groupMetrics, sliceMetrics, type EvalRecord, type SliceMetricName, type SlicingResult } from './slices.js';
import { isLabelled } from '../workspace/manifest.js';
import { EVALUATION_FILES } from '../workspace/layout.js';

export const EVALUATION_FORMAT_VERSION = 1;

export const EVALUATE_DEFAULTS = Object.freeze({ batchSize: 32, bestWorstCount: 12, replicates: 1000, seed: 1, minGroupSize: 20 });

/** One evaluated face (a row of predictions.csv). */
export interface PredictionRecord extends EvalRecord {
  source: string;
  name: string;
  ageInterval: [number, number];
}

export interface SampleRef {
  source: string;
  name: string;
  age: number;
  gender: string;
  ethnicity: string;
  predictedAge: number;
  femaleProbability: number;
  /** Absolute age error (age) or probability given to the annotated label (gender). */
  score: number;
}

export interface EvaluationResult {
  formatVersion: number;
  split: SplitName;
  /** The model and inference settings (weights, flip TTA, gender threshold) the predictions came from. */
  model: ModelIdentity;
  /** {@link splitRowsSha256} of the rows evaluated (absent in evaluations written before it was recorded). */
  rowsSha256?: string;
  createdAt: string;
  counts: { rows: number; evaluated: number; skipped: number };
  skipped: Array<{ source: string; reason: string }>;
  age: AgeMetrics;
  gender: GenderMetrics;
  /**
   * Gender abstention at the model's threshold (`model.genderThreshold`): coverage and answered
   * accuracy overall, for ages 0–9 and by age bucket, and the accuracy–coverage curves. Absent in
   * evaluations written before abstention existed.
   */
  abstention?: AbstentionSummary;
  /** Bootstrap 95% intervals of the headline metrics. */
  ci: Record<SliceMetricName, ConfidenceInterval | null>;
  bootstrap: { replicates: number; seed: number; level: number };
  calibration: CalibrationBin[];
  confusion: { gender: ConfusionMatrix; ageDecades: ConfusionMatrix };
  slices: SlicingResult[];
  bestWorst: {
    age: { best: SampleRef[]; worst: SampleRef[] };
    gender: { best: SampleRef[]; worst: SampleRef[] };
  };
}

export interface EvaluateOptions {
  model: AgeGenderModel;
  /** Manifest rows; only kept, labelled rows of `split` are evaluated. */
  rows: readonly ManifestRow[];
  split: SplitName;
  /** Images per forward pass: 1–1024, default 32. */
  batchSize?: number;
  bestWorstCount?: number;
  /** Bootstrap resamples for the 95% intervals: 10–100,000, default 1000. */
  replicates?: number;
  seed?: number;
  minGroupSize?: number;
  /** Reads a manifest source (default: file path or zip entry). */
  readBytes?: (source: string) => Promise<Uint8Array>;
  onProgress?: (done: number, total: number) => void;
  /** Clock for `createdAt` (tests pin it). */
  now?: () => Date;
}

/**
 * A SHA-256 over the kept, labelled rows of `split` (source, size, content hash and labels, in
 * manifest order): changes when the workspace is prepared again from other files or labels.
 * @example if (stored.rowsSha256 !== splitRowsSha256(rows, 'test')) // evaluate again
 */
export function splitRowsSha256(rows: readonly ManifestRow[], split: SplitName): string {
  const hash = createHash('sha256');
  for (const r of rows) if (r.split === split && isLabelled(r)) hash.update(`${JSON.stringify([r.source, r.size, r.sha256, r.age, r.gender, r.ethnicity])}\n`);
  return hash.digest('hex');
}

/** The numeric settings of {@link evaluate}, as given or their defaults. */
export interface EvaluateSettings {
  batchSize: number;
  replicates: number;
  seed: number;
  minGroupSize: number;
  bestWorstCount: number;
}

/**
 * Checks the numeric settings as the CLI does and fills in the defaults ({@link EVALUATE_DEFAULTS}):
 * INVALID_ARGUMENT naming the setting for a batch size outside 1–1024, replicates outside 10–100,000,
 * a seed outside 0–2³¹−1, a minGroupSize below 1 or a bestWorstCount below 0, or any that is not an integer.
 * @example checkEvaluateSettings({ batchSize: 0 }) // throws: Expected integer between 1 and 1024 for batchSize but received 0 of type number
 */
export function checkEvaluateSettings(o: Partial<EvaluateSettings>): EvaluateSettings {
  const d = EVALUATE_DEFAULTS;
  const int = (value: number | undefined, name: keyof EvaluateSettings, min: number, max: number): number => (value === undefined ? d[name] : integerInRange(value, name, min, max));
  return {
    batchSize: int(o.batchSize, 'batchSize', 1, 1024),
    replicates: int(o.replicates, 'replicates', 10, 100_000),
    seed: int(o.seed, 'seed', 0, 2 ** 31 - 1),
    minGroupSize: int(o.minGroupSize, 'minGroupSize', 1, Number.MAX_SAFE_INTEGER),
    bestWorstCount: int(o.bestWorstCount, 'bestWorstCount', 0, Number.MAX_SAFE_INTEGER),
  };
}

/**
 * Runs the model over one split and computes every metric: age (MAE, RMSE, CS@1…20, ±8), gender
 * (accuracy, precision, recall, F1, ROC-AUC, ECE), confusion matrices, bootstrap intervals, per-slice
 * metrics with best−worst gaps, and the best/worst samples per task. Unreadable images are skipped and
 * listed in `skipped`, never fatal. Bad settings: INVALID_ARGUMENT ({@link checkEvaluateSettings}; a `split`
 * other than train, val or test), before any image is read.
 * @example const { result, csv } = await evaluate({ model, rows, split: 'test' });
 */
export async function evaluate(options: EvaluateOptions): Promise<{ result: EvaluationResult; records: PredictionRecord[]; csv: string }> {
  oneOf(options.split, 'split', SPLITS);
  const settings = checkEvaluateSettings(options);
  const batchSize = settings.batchSize;
  const readBytes = options.readBytes ?? readSourceBytes;
  const rows = options.rows.filter((r) => r.split === options.split && isLabelled(r));
  const records: PredictionRecord[] = [];
  const skipped: Array<{ source: string; reason: string }> = [];
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const loaded: Array<{ row: ManifestRow; bytes: Uint8Array }> = [];
    for (const row of batch) {
      try {
        loaded.push({ row, bytes: await readBytes(row.source) });
      } catch (error) {
        skipped.push({ source: row.source, reason: reasonOf(error) });
      }
    }
    let predictions: Array<AgeGenderPrediction | Error>;
    try {
      predictions = await options.model.predictBatch(loaded.map((l) => Buffer.from(l.bytes.buffer, l.bytes.byteOffset, l.bytes.byteLength)));
    } catch {
      // one bad image fails the batch: isolate it by predicting one at a time
      predictions = [];
      for (const l of loaded) {
        try {
          predictions.push(await options.model.predict(Buffer.from(l.bytes.buffer, l.bytes.byteOffset, l.bytes.byteLength)));
        } catch (error) {
          predictions.push(error instanceof Error ? error : new Error(String(error)));
        }
      }
    }
    loaded.forEach(({ row }, i) => {
      const p = predictions[i];
      if (!p || p instanceof Error) {
        skipped.push({ source: row.source, reason: p ? reasonOf(p) : 'no prediction returned' });
        return;
      }
      records.push({
        source: row.source,
        name: row.name,
        age: row.age!,
        gender: row.gender!,
        ethnicity: row.ethnicity!,
        predictedAge: p.age,
        femaleProbability: p.femaleProbability,
        ageInterval: p.ageInterval,
      });
    });
    options.onProgress?.(Math.min(rows.length, start + batch.length), rows.length);
  }
  const result = summarise(records, {
    split: options.split,
    model: options.model,
    rows: rows.length,
    skipped,
    replicates: settings.replicates,
    seed: settings.seed,
    minGroupSize: settings.minGroupSize,
    bestWorstCount: settings.bestWorstCount,
    now: options.now ?? (() => new Date()),
    rowsSha256: splitRowsSha256(options.rows, options.split),
  });
  return { result, records, csv: predictionsCsv(records) };
}

/** What {@link summarise} needs besides the records: the split, the model and the evaluation settings. */
export interface SummariseOptions {
  split: SplitName;
  model: AgeGenderModel;
  rows: number;
  skipped: Array<{ source: string; reason: string }>;
  replicates: number;
  seed: number;
  minGroupSize: number;
  bestWorstCount: number;
  now: () => Date;
  /** Recorded as the result's `rowsSha256` when given. */
  rowsSha256?: string;
}

/** Computes the evaluation object from already-predicted records (no model calls). */
export function summarise(records: readonly PredictionRecord[], o: SummariseOptions): EvaluationResult {
  const bootstrap = { replicates: o.replicates, seed: o.seed, level: BOOTSTRAP_DEFAULTS.level };
  const overall = groupMetrics(records, bootstrap);
  const ref = (list: Array<{ index: number; score: number }>): SampleRef[] =>
    list.map(({ index, score }) => {
      const r = records[index]!;
      return { source: r.source, name: r.name, age: r.age, gender: r.gender, ethnicity: r.ethnicity, predictedAge: r.predictedAge, femaleProbability: r.femaleProbability, score };
    });
  const bw = bestWorst(records, o.bestWorstCount);
  return {
    formatVersion: EVALUATION_FORMAT_VERSION,
    split: o.split,
    model: modelIdentity(o.model),
    ...(o.rowsSha256 === undefined ? {} : { rowsSha256: o.rowsSha256 }),
    createdAt: o.now().toISOString(),
    counts: { rows: o.rows, evaluated: records.length, skipped: o.skipped.length },
    skipped: o.skipped,
    age: ageMetrics(
      records.map((r) => r.age),
      records.map((r) => r.predictedAge),
    ),
    gender: genderMetrics(
      records.map((r) => r.gender === 'female'),
      records.map((r) => r.femaleProbability),
    ),
    abstention: abstentionSummary(records, o.model.genderThreshold),
    ci: overall.ci,
    bootstrap,
    calibration: calibrationBins(
      records.map((r) => r.gender === 'female'),
      records.map((r) => r.femaleProbability),
    ),
    confusion: {
      gender: confusionMatrix(
        ['male', 'female'],
        records.map((r) => r.gender),
        records.map((r) => (r.femaleProbability >= 0.5 ? 'female' : 'male')),
      ),
      ageDecades: confusionMatrix(
        AGE_DECADES,
        records.map((r) => ageDecade(r.age)),
        records.map((r) => ageDecade(r.predictedAge)),
      ),
    },
    slices: sliceMetrics(records, { ...bootstrap, minGroupSize: o.minGroupSize }),
    bestWorst: {
      age: { best: ref(bw.age.best), worst: ref(bw.age.worst) },
      gender: { best: ref(bw.gender.best), worst: ref(bw.gender.worst) },
    },
  };
}

export const PREDICTION_COLUMNS = Object.freeze([
  'source',
  'name',
  'age',
  'gender',
  'ethnicity',
  'age_bucket',
  'predicted_age',
  'age_low',
  'age_high',
  'age_error',
  'abs_age_error',
  'predicted_gender',
  'female_probability',
  'gender_correct',
] as const);

const FEMALE_PROBABILITY_COLUMN = PREDICTION_COLUMNS.indexOf('female_probability');

/**
 * Per-image predictions as CSV text (header + one line per face, RFC 4180 quoting): ages and errors
 * to 4 decimals, `female_probability` in full, so ROC-AUC and calibration can be recomputed from it.
 */
export function predictionsCsv(records: readonly PredictionRecord[]): string {
  const rows = records.map((r) => {
    const predictedGender = r.femaleProbability >= 0.5 ? 'female' : 'male';
    const row = [
      r.source,
      r.name,
      r.age,
      r.gender,
      r.ethnicity,
      ageBucket(r.age),
      r.predictedAge,
      r.ageInterval[0],
      r.ageInterval[1],
      r.predictedAge - r.age,
      Math.abs(r.predictedAge - r.age),
      predictedGender,
      r.femaleProbability,
      predictedGender === r.gender,
    ];
    // integers as they are, other numbers to 4 decimals, but P(female) in full: at 4 decimals a
    // quarter of the faces read 0.0000 or 1.0000, and those ties change ROC-AUC
    return row.map((v, i) => (i === FEMALE_PROBABILITY_COLUMN ? v : fixedDecimals(v, 4)));
  });
  return toCsv(PREDICTION_COLUMNS, rows);
}

/** Reads predictions.csv text back into records (the inverse of {@link predictionsCsv}: ages to 4 decimals, P(female) in full). */
export function parsePredictionsCsv(text: string): PredictionRecord[] {
  const [header, ...lines] = parseCsv(text);
  if (!header || header.join(',') !== PREDICTION_COLUMNS.join(',')) throw new RangeError(`Expected ${EVALUATION_FILES.predictions} columns ${PREDICTION_COLUMNS.join(',')}`);
  const col = (name: (typeof PREDICTION_COLUMNS)[number]): number => PREDICTION_COLUMNS.indexOf(name);
  return lines
    .filter((l) => l.length === PREDICTION_COLUMNS.length)
    .map((l) => ({
      source: l[col('source')]!,
      name: l[col('name')]!,
      age: Number(l[col('age')]),
      gender: l[col('gender')] === 'female' ? 'female' : 'male',
      ethnicity: l[col('ethnicity')] as PredictionRecord['ethnicity'],
      predictedAge: Number(l[col('predicted_age')]),
      femaleProbability: Number(l[col('female_probability')]),
      ageInterval: [Number(l[col('age_low')]), Number(l[col('age_high')])] as [number, number],
    }));
}
