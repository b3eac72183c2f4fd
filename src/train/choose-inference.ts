/**
 * The last step of making a model: choose its inference settings on **val**, record them in the
 * model folder, then score **test once** with the chosen settings.
 *
 * The settings: flip test-time augmentation (the chip and its mirror image in one batch, softmax
 * outputs averaged; it doubles the compute, so it is kept only when it lowers val MAE), and the gender
 * abstention threshold (src/train/gender-threshold.ts), chosen on the chosen variant's val predictions.
 * Used at the end of `agegender train` and by `agegender tune` (for a folder trained before this step existed).
 *
 * @example
 *   const { chosen, test } = await chooseInference({ modelDir: 'models/default', rows, command });
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../core/atomic.js';
import type { ManifestRow } from '../core/types.js';
import { evaluate, type EvaluationResult, type PredictionRecord } from '../eval/evaluate.js';
import type { AgeGenderModel, ModelMetadata } from '../model/api.js';
import { loadModel, type InferenceSettings } from '../model/index.js';
import { MODEL_FILES } from '../model/io.js';
import { genderThresholdChoice, recordGenderThreshold } from './gender-threshold.js';
import { count } from '../core/format.js';

export interface SplitMetrics {
  count: number;
  mae: number | null;
  cs8: number | null;
  rmse: number | null;
  genderAccuracy: number | null;
  genderRocAuc: number | null;
  ci: EvaluationResult['ci'];
}

export function splitMetrics(result: EvaluationResult): SplitMetrics {
  return { count: result.counts.evaluated, mae: result.age.mae, cs8: result.age.within8, rmse: result.age.rmse, genderAccuracy: result.gender.accuracy, genderRocAuc: result.gender.rocAuc, ci: result.ci };
}

export interface ChooseInferenceOptions {
  modelDir: string;
  /** Manifest rows with val and test (others are ignored). */
  rows: readonly ManifestRow[];
  /** The command line, recorded with the choice. */
  command: string;
  /** Bootstrap replicates for the intervals (default 200). */
  replicates?: number;
  /** Skip scoring test (e.g. a workspace without one). Default false. */
  skipTest?: boolean;
  /**
   * A test evaluation already computed for this model: called with the model loaded with the chosen
   * settings; what it returns is used instead of scoring test again (`tune` run twice). Return null
   * unless it was computed from the same rows by the same weights with the same settings.
   */
  storedTest?: (model: AgeGenderModel) => Promise<{ result: EvaluationResult } | null>;
  log?: (line: string) => void;
}

export interface ChooseInferenceResult {
  chosen: InferenceSettings;
  val: Record<'none' | 'flip', SplitMetrics>;
  /**
   * The test split scored once with the chosen settings (null when skipped or empty); `csv` is null
   * when `storedTest` supplied it (its files exist already).
   */
  test: { result: EvaluationResult; csv: string | null } | null;
  /** The model folder's metrics file as written: val (chosen), test, candidates. */
  metrics: Record<string, unknown>;
}

const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`);

/** Evaluates val without and with flip TTA, records the better (by val MAE), scores test once. */
export async function chooseInference(o: ChooseInferenceOptions): Promise<ChooseInferenceResult> {
  const log = o.log ?? (() => undefined);
  const replicates = o.replicates ?? 200;
  const val = {} as Record<'none' | 'flip', SplitMetrics>;
  const valRecords = {} as Record<'none' | 'flip', PredictionRecord[]>;
  for (const variant of ['none', 'flip'] as const) {
    const model = await loadModel(o.modelDir, { flipTta: variant === 'flip' });
    try {
      const { result, records } = await evaluate({ model, rows: o.rows, split: 'val', replicates, seed: 1 });
      val[variant] = splitMetrics(result);
      valRecords[variant] = records;
      log(`val, ${variant === 'flip' ? 'flip TTA' : 'no TTA'}: MAE ${result.age.mae?.toFixed(3)} CS@8 ${pct(result.age.within8)} gender ${pct(result.gender.accuracy)} (${count(result.counts.evaluated, 'image')})`);
    } finally {
      model.dispose();
    }
  }
  const flipTta = (val.flip.mae ?? Infinity) < (val.none.mae ?? Infinity);
  const chosen: InferenceSettings = {
    flipTta,
    chosenOn: 'val MAE',
    command: o.command,
    candidates: { none: { mae: val.none.mae, cs8: val.none.cs8, genderAccuracy: val.none.genderAccuracy }, flip: { mae: val.flip.mae, cs8: val.flip.cs8, genderAccuracy: val.flip.genderAccuracy } },
  };
  log(`chosen on val: ${flipTta ? 'flip test-time augmentation' : 'no test-time augmentation'}`);
  // the gender abstention threshold, on the chosen variant's val predictions; test is scored with it
  const threshold = genderThresholdChoice(valRecords[flipTta ? 'flip' : 'none'], o.command);
  log(`gender threshold chosen on val: ${threshold.genderThreshold}`);

  let test: ChooseInferenceResult['test'] = null;
  if (!o.skipTest && o.rows.some((r) => r.split === 'test')) test = await scoreTest(o, { flipTta, genderThreshold: threshold.genderThreshold }, replicates, log);
  else if (!o.skipTest) log('test: no kept rows in the test split, not scored');

  // Record in the folder: metadata.inference + metrics (val = the chosen variant), atomically.
  const metadata = JSON.parse(await readFile(join(o.modelDir, MODEL_FILES.metadata), 'utf8')) as ModelMetadata; // loadModel above has validated the folder
  const previous = (metadata.metrics ?? {}) as Record<string, unknown>;
  const metrics: Record<string, unknown> = { ...previous, val: flipTta ? val.flip : val.none, valCandidates: val };
  if (test) metrics['test'] = splitMetrics(test.result);
  else delete metrics['test'];
  await writeJsonAtomic(join(o.modelDir, MODEL_FILES.metadata), { ...metadata, inference: chosen, metrics });
  await writeJsonAtomic(join(o.modelDir, MODEL_FILES.metrics), metrics);
  await recordGenderThreshold(o.modelDir, threshold);
  return { chosen: { ...chosen, ...threshold }, val, test, metrics };
}

/** Test with the chosen settings: the stored evaluation when `storedTest` has one for them, else scored now. */
async function scoreTest(o: ChooseInferenceOptions, settings: { flipTta: boolean; genderThreshold: number }, replicates: number, log: (line: string) => void): Promise<ChooseInferenceResult['test']> {
  const model = await loadModel(o.modelDir, settings);
  try {
    const stored = await o.storedTest?.(model);
    const scored = stored ? { result: stored.result, csv: null } : await evaluate({ model, rows: o.rows, split: 'test', replicates, seed: 1 });
    const { result } = scored;
    const how = stored ? 'already scored with these weights, rows and settings; not scored again' : 'scored once, chosen settings';
    log(`test (${how}): MAE ${result.age.mae?.toFixed(3)} CS@8 ${pct(result.age.within8)} gender ${pct(result.gender.accuracy)} (${count(result.counts.evaluated, 'image')})`);
    return result.counts.evaluated > 0 ? { result, csv: scored.csv } : null;
  } finally {
    model.dispose();
  }
}
