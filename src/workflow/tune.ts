/**
 * Choose a trained model's inference settings on val, record them in its folder, score test once
 * and store that evaluation: the library side of `agegender tune`.
 *
 * @example
 *   const { chosen, files } = await tuneModel({ modelDir: 'workspace/utk/model', workspace: 'workspace/utk', command: 'tune' });
 */
import { resolve } from 'node:path';
import { defaultModelDir } from '../model/folder.js';
import { chooseInference, type ChooseInferenceResult } from '../train/choose-inference.js';
import { tuneGenderThreshold, type GenderThresholdChoice } from '../train/gender-threshold.js';
import { writeEvaluation } from '../workspace/evaluation.js';
import { workspacePaths } from '../workspace/layout.js';
import { readManifest } from '../workspace/manifest.js';

export interface TuneModelOptions {
  /** Model folder tuned in place (default: the shipped model). */
  modelDir?: string;
  /** Workspace written by `prepare` (its val and test splits). */
  workspace: string;
  /** Where the test evaluation goes (default `<workspace>/evaluation/test`). */
  evaluation?: string;
  /** false: choose and record on val only, leave test unscored. Default true. */
  test?: boolean;
  /** The command line, recorded with the choice. */
  command: string;
  log?: (line: string) => void;
}

/**
 * Only the gender abstention threshold: val evaluated with the folder's recorded settings, the
 * threshold chosen and recorded in `metadata.inference`; flip TTA and test left as they are.
 */
export async function tuneGenderThresholdOnly(options: Omit<TuneModelOptions, 'evaluation' | 'test'>): Promise<GenderThresholdChoice & { modelDir: string }> {
  const modelDir = resolve(options.modelDir ?? defaultModelDir());
  const rows = await readManifest(resolve(options.workspace));
  const choice = await tuneGenderThreshold({ modelDir, rows, command: options.command, ...(options.log ? { log: options.log } : {}) });
  return { ...choice, modelDir };
}

export interface TunedModel extends ChooseInferenceResult {
  /** The model folder tuned. */
  modelDir: string;
  /** The test evaluation's files (null when test was not scored). */
  files: { result: string; predictions: string } | null;
}

export async function tuneModel(options: TuneModelOptions): Promise<TunedModel> {
  const modelDir = resolve(options.modelDir ?? defaultModelDir());
  const workspace = resolve(options.workspace);
  const rows = await readManifest(workspace);
  const result = await chooseInference({ modelDir, rows, command: options.command, log: options.log, skipTest: options.test === false });
  const files = result.test ? await writeEvaluation(resolve(options.evaluation ?? workspacePaths(workspace).evaluationDir('test')), result.test) : null;
  return { ...result, modelDir, files };
}
