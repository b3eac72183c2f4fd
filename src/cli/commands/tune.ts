/**
 * `agegender tune`: choose a trained model's inference settings (flip test-time augmentation) on
 * val, record them in its folder, score test once with them, and write that evaluation.
 * `agegender train` does the same as its last step; this is for folders trained before it did.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULTS } from '../../core/defaults.js';
import { defaultModelDir } from '../../model/folder.js';
import { writeEvaluation } from '../../workspace/evaluation.js';
import { workspacePaths } from '../../workspace/layout.js';
import { readManifest } from '../../workspace/manifest.js';
import { chooseInference, type ChooseInferenceResult } from '../../train/choose-inference.js';

export interface TuneCommandOptions {
  model?: string;
  workspace: string;
  evaluation?: string;
  /** false (`--no-test`): choose and record on val only, leave test unscored (to compare candidates first). */
  test?: boolean;
}

/** Runs `agegender tune`; exported for tests. */
export async function runTune(opts: TuneCommandOptions, argv: readonly string[] = process.argv, log: (line: string) => void = console.log): Promise<ChooseInferenceResult> {
  const modelDir = resolve(opts.model ?? defaultModelDir());
  const workspace = resolve(opts.workspace);
  const rows = await readManifest(workspace);
  const result = await chooseInference({ modelDir, rows, command: ['agegender', ...argv.slice(2)].join(' '), log, skipTest: opts.test === false });
  if (opts.test === false) log('test not scored (--no-test)');
  if (result.test) {
    const files = await writeEvaluation(resolve(opts.evaluation ?? workspacePaths(workspace).evaluationDir('test')), result.test);
    log(`wrote ${files.result} and ${files.predictions}`);
  }
  log(`recorded in ${join(modelDir, 'metadata.json')} (inference) and ${join(modelDir, 'metrics.json')}`);
  return result;
}

export function registerTuneCommand(program: Command): void {
  program
    .command('tune')
    .description('choose a model\'s inference settings (flip test-time augmentation) on val, record them, score test once')
    .option('--model <dir>', 'model folder to tune in place (default: the shipped model)')
    .option('--workspace <dir>', 'workspace written by `agegender prepare` (its val and test splits)', DEFAULTS.workspace)
    .option('--evaluation <dir>', 'where to write the test evaluation (evaluation.json + predictions.csv)', undefined)
    .option('--no-test', 'choose and record on val only; leave test unscored (compare candidates on val first)')
    .action(async (opts: TuneCommandOptions) => {
      await runTune(opts);
    });
}
