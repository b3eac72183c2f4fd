/**
 * Chooses a model's gender abstention threshold on **val** and records it in the folder's metadata
 * (`inference.genderThreshold`, with the figures it was chosen on). Test is never looked at.
 * Used by `agegender tune` (after flip TTA is chosen) and by `agegender tune --gender-threshold-only`.
 *
 * @example
 *   const choice = genderThresholdChoice(valRecords, 'agegender tune …');
 *   await recordGenderThreshold('models/default', choice);
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../core/atomic.js';
import type { ManifestRow } from '../core/types.js';
import { abstentionSummary, ABSTENTION_DEFAULTS, chooseGenderThreshold, type AbstentionRecord } from '../eval/abstention.js';
import { evaluate } from '../eval/evaluate.js';
import type { ModelMetadata } from '../model/api.js';
import { loadModel } from '../model/index.js';
import { MODEL_FILES } from '../model/io.js';

/** What is recorded with the threshold: the rule, and its val coverage/accuracy overall and for ages 0–9. */
export interface GenderThresholdChoice {
  genderThreshold: number;
  genderThresholdChosenOn: string;
  genderThresholdVal: {
    faces: number;
    coverage: number | null;
    accuracy: number | null;
    accuracyAll: number | null;
    children: { faces: number; coverage: number | null; accuracy: number | null; accuracyAll: number | null };
  };
  genderThresholdCommand: string;
}

/** The lowest threshold whose answered val accuracy reaches `target` (default 97%), with its val figures. */
export function genderThresholdChoice(val: readonly AbstentionRecord[], command: string, target: number = ABSTENTION_DEFAULTS.targetAccuracy): GenderThresholdChoice {
  const { threshold } = chooseGenderThreshold(val, target);
  const s = abstentionSummary(val, threshold);
  const figures = (g: typeof s.overall): { faces: number; coverage: number | null; accuracy: number | null; accuracyAll: number | null } => ({
    faces: g.count,
    coverage: g.coverage,
    accuracy: g.accuracy,
    accuracyAll: g.accuracyAll,
  });
  return {
    genderThreshold: threshold,
    genderThresholdChosenOn: `val: lowest threshold (0.001 steps) whose answered gender accuracy is ≥ ${(target * 100).toFixed(1)}%`,
    genderThresholdVal: { ...figures(s.overall), children: figures(s.children) },
    genderThresholdCommand: command,
  };
}

/** Writes the choice into `metadata.inference` (atomically), keeping everything else. */
export async function recordGenderThreshold(modelDir: string, choice: GenderThresholdChoice): Promise<void> {
  const file = join(modelDir, MODEL_FILES.metadata);
  const metadata = JSON.parse(await readFile(file, 'utf8')) as ModelMetadata;
  const inference = (metadata['inference'] ?? {}) as Record<string, unknown>;
  await writeJsonAtomic(file, { ...metadata, inference: { ...inference, ...choice } });
}

/** Evaluates val with the folder's recorded settings, chooses the threshold and records it. */
export async function tuneGenderThreshold(o: { modelDir: string; rows: readonly ManifestRow[]; command: string; target?: number; log?: (line: string) => void }): Promise<GenderThresholdChoice> {
  const model = await loadModel(o.modelDir, { genderThreshold: 0.5 });
  let records: AbstentionRecord[];
  try {
    records = (await evaluate({ model, rows: o.rows, split: 'val', replicates: 10, seed: 1 })).records;
  } finally {
    model.dispose();
  }
  const choice = genderThresholdChoice(records, o.command, o.target);
  const v = choice.genderThresholdVal;
  const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  o.log?.(`gender threshold ${choice.genderThreshold} (on val): ${pct(v.coverage)} answered at ${pct(v.accuracy)} (all faces ${pct(v.accuracyAll)}); ages 0–9: ${pct(v.children.coverage)} answered at ${pct(v.children.accuracy)}`);
  await recordGenderThreshold(o.modelDir, choice);
  return choice;
}
