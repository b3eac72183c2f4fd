/**
 * Choose a trained model's inference settings on val, record them in its folder, score test once
 * and store that evaluation: the library side of `agegender tune`. A test evaluation already stored
 * for the same weights, rows and chosen settings (tune run again) is kept, not scored again.
 *
 * @example
 *   const { chosen, files } = await tuneModel({ modelDir: 'workspace/utk/model', workspace: 'workspace/utk', command: 'tune' });
 */
import { resolve } from 'node:path';
import { AgeGenderError } from '../core/errors.js';
import { defaultModelDir, recordedManifestHash } from '../model/folder.js';
import { chooseInference, type ChooseInferenceResult } from '../train/choose-inference.js';
import { tuneGenderThreshold, type GenderThresholdChoice } from '../train/gender-threshold.js';
import type { AgeGenderModel } from '../model/api.js';
import { reusableEvaluation, writeEvaluation, type StoredEvaluation } from '../workspace/evaluation.js';
import { evaluationFiles, workspacePaths } from '../workspace/layout.js';
import { manifestSha256, readManifest } from '../workspace/manifest.js';

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
  /**
   * Tune on a workspace other than the one the model was trained on (its manifest differs from the
   * one recorded with the model). Off by default: another workspace's val and test can hold the
   * model's training images (the same files prepared from another folder or a zip split differently).
   */
  otherWorkspace?: boolean;
}

/**
 * WORKSPACE_INVALID when the model records the manifest it was trained on and `workspace`'s manifest
 * is another one (unless `otherWorkspace`): settings chosen and a test score computed there could
 * rest on the model's own training images. A model that records none (the shipped one does) passes.
 */
export async function checkTrainedOnWorkspace(modelDir: string, workspace: string, otherWorkspace = false): Promise<void> {
  if (otherWorkspace) return;
  const recorded = recordedManifestHash(modelDir); // none recorded, or an unreadable folder that loading the model will name
  if (!recorded) return;
  const manifest = workspacePaths(workspace).manifest;
  const here = await manifestSha256(workspace);
  if (here === recorded) return;
  throw new AgeGenderError(
    'WORKSPACE_INVALID',
    `the model in ${modelDir} was trained on another manifest (sha256 ${recorded.slice(0, 12)}…, this one is ${here.slice(0, 12)}…): its val and test splits may hold the model's training images. Tune on the workspace it was trained on, or pass --other-workspace to do it anyway`,
    { subject: manifest },
  );
}

/**
 * Only the gender abstention threshold: val evaluated with the folder's recorded settings, the
 * threshold chosen and recorded in `metadata.inference`; flip TTA and test left as they are.
 */
export async function tuneGenderThresholdOnly(options: Omit<TuneModelOptions, 'evaluation' | 'test'>): Promise<GenderThresholdChoice & { modelDir: string }> {
  const modelDir = resolve(options.modelDir ?? defaultModelDir());
  await checkTrainedOnWorkspace(modelDir, resolve(options.workspace), options.otherWorkspace);
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
  await checkTrainedOnWorkspace(modelDir, workspace, options.otherWorkspace);
  const rows = await readManifest(workspace);
  const dir = resolve(options.evaluation ?? workspacePaths(workspace).evaluationDir('test'));
  const storedTest = (model: AgeGenderModel): Promise<StoredEvaluation | null> => reusableEvaluation(dir, { model, rows, split: 'test' });
  const result = await chooseInference({ modelDir, rows, command: options.command, log: options.log, skipTest: options.test === false, storedTest });
  const test = result.test;
  const files = test === null ? null : test.csv === null ? evaluationFiles(dir) : await writeEvaluation(dir, { result: test.result, csv: test.csv });
  return { ...result, modelDir, files };
}
