/**
 * The last steps: save the trained network as one model folder, score the saved folder (inference
 * settings chosen on val, test scored once: choose-inference.ts), and record the figures and
 * timings in the folder's metadata and metrics files.
 */
import { copyFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeJsonAtomic } from '../core/atomic.js';
import type { ManifestRow, SplitName } from '../core/types.js';
import type { ModelMetadata } from '../model/api.js';
import type { InferenceSettings } from '../model/index.js';
import { defaultModelDir, ENCODER_LICENSE_FILE } from '../model/folder.js';
import { MODEL_FILES, saveModel } from '../model/io.js';
import { chooseInference } from './choose-inference.js';
import type { SplitItems, TrainItem } from './data.js';
import type { Learner } from './learner.js';
import type { TrainConfig } from './options.js';
import { replaceBest, type RunProgress } from './progress.js';

/** Saves the network to `out` (model, weights, metadata, metrics files), then frees the learner and the best-epoch copies. */
export async function saveTrained(learner: Learner, out: string, metadata: ModelMetadata, o: TrainConfig, progress: RunProgress): Promise<void> {
  const t0 = Date.now();
  await saveModel(learner.net, out, metadata, { sigma: o.labelSigma, slope: o.labelSigmaSlope });
  await copyFile(join(defaultModelDir(), ENCODER_LICENSE_FILE), join(out, ENCODER_LICENSE_FILE)); // the encoder weights' MIT notice travels with them
  learner.dispose();
  replaceBest(progress, []);
  progress.elapsed['save'] = (Date.now() - t0) / 1000;
}

/** Training items as the manifest rows the evaluator reads. */
function rowsFor(items: readonly TrainItem[], split: SplitName): ManifestRow[] {
  return items.map((it) => ({ source: it.source, name: basename(it.source), size: 0, sha256: null, phash: null, width: null, height: null, age: it.age, gender: it.gender, ethnicity: it.ethnicity, datetime: null, status: 'kept', reason: '', cluster: null, duplicateOf: null, split }));
}

export interface Scored {
  metrics: Record<string, unknown>;
  /** The inference settings chosen on val (absent when not scored). */
  inference?: InferenceSettings;
}

/** Scores the saved folder on val (choosing flip TTA or not) and test; nothing with `score: false` or an empty val split. */
export async function scoreSaved(o: TrainConfig, out: string, splits: SplitItems, command: string, progress: RunProgress, log: (line: string) => void): Promise<Scored> {
  if (!(o.score ?? true)) return { metrics: {} };
  const t0 = Date.now();
  let scored: Scored = { metrics: {} };
  if (splits.val.length > 0) {
    const chosen = await chooseInference({ modelDir: out, rows: [...rowsFor(splits.val, 'val'), ...rowsFor(splits.test, 'test')], command, log });
    scored = { metrics: chosen.metrics, inference: chosen.chosen };
  }
  progress.elapsed['score'] = (Date.now() - t0) / 1000;
  return scored;
}

/** Rewrites the folder's metadata (with the chosen inference settings and the metrics) and metrics files. */
export async function recordResults(out: string, metadata: ModelMetadata, scored: Scored): Promise<void> {
  const final = { ...metadata, ...(scored.inference ? { inference: scored.inference } : {}), metrics: scored.metrics };
  await writeJsonAtomic(join(out, MODEL_FILES.metadata), final);
  await writeJsonAtomic(join(out, MODEL_FILES.metrics), scored.metrics);
}
