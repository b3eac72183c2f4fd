/**
 * `agegender tune`: choose a trained model's inference settings (flip test-time augmentation, then
 * the gender abstention threshold) on val, record them in its folder, score test once with them, and
 * write that evaluation. `--gender-threshold-only` chooses and records only the threshold, on val.
 * `agegender train` does the same as its last step; this is for folders trained without it.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULTS } from '../../core/defaults.js';
import { checkOutputFolder } from '../../core/output-path.js';
import { writtenEvaluation } from '../../eval/format.js';
import { MODEL_FILES } from '../../model/folder.js';
import { tuneGenderThresholdOnly, tuneModel, type TunedModel } from '../../workflow/tune.js';
import { EVALUATION_FILES } from '../../workspace/layout.js';

export interface TuneCommandOptions {
  model?: string;
  workspace: string;
  evaluation?: string;
  /** false (`--no-test`): choose and record on val only, leave test unscored (to compare candidates first). */
  test?: boolean;
  /** `--gender-threshold-only`: choose and record only the gender threshold, on val. */
  genderThresholdOnly?: boolean;
  /** `--other-workspace`: tune on a workspace whose manifest is not the one the model was trained on. */
  otherWorkspace?: boolean;
}

/** Runs `agegender tune` through the workflow and prints what it recorded; exported for tests. */
export async function runTune(opts: TuneCommandOptions, argv: readonly string[] = process.argv, log: (line: string) => void = console.log): Promise<TunedModel | null> {
  const command = ['agegender', ...argv.slice(2)].join(' ');
  if (opts.genderThresholdOnly) {
    const choice = await tuneGenderThresholdOnly({ workspace: opts.workspace, ...(opts.model === undefined ? {} : { modelDir: opts.model }), command, log, otherWorkspace: opts.otherWorkspace ?? false });
    log(`recorded in ${join(choice.modelDir, MODEL_FILES.metadata)} (inference.genderThreshold)`);
    return null;
  }
  // before scoring: a bad --evaluation fails at once (INVALID_ARGUMENT naming it), not after test is scored
  if (opts.evaluation !== undefined && opts.test !== false) await checkOutputFolder(opts.evaluation);
  const result = await tuneModel({
    workspace: opts.workspace,
    ...(opts.model === undefined ? {} : { modelDir: opts.model }),
    ...(opts.evaluation === undefined ? {} : { evaluation: opts.evaluation }),
    test: opts.test !== false,
    command,
    log,
    otherWorkspace: opts.otherWorkspace ?? false,
  });
  if (opts.test === false) log('test not scored (--no-test)');
  if (result.files) log(writtenEvaluation(result.files));
  log(`recorded in ${join(result.modelDir, MODEL_FILES.metadata)} (inference) and ${join(result.modelDir, MODEL_FILES.metrics)}`);
  return result;
}

export function registerTuneCommand(program: Command): void {
  program
    .command('tune')
    .description('choose a model\'s inference settings (flip test-time augmentation, gender abstention threshold) on val, record them, score test once')
    .option('--model <dir>', 'model folder to tune in place (default: the shipped model)')
    .option('--workspace <dir>', 'workspace written by `agegender prepare` (its val and test splits)', DEFAULTS.workspace)
    .option('--evaluation <dir>', `where to write the test evaluation (${EVALUATION_FILES.result} + ${EVALUATION_FILES.predictions})`)
    .option('--no-test', 'choose and record on val only; leave test unscored (compare candidates on val first)')
    .option('--gender-threshold-only', 'choose and record only the gender abstention threshold (on val, with the recorded TTA); test untouched')
    .option('--other-workspace', 'tune on a workspace other than the one the model was trained on (refused by default: its val and test may hold training images)')
    .action(async (opts: TuneCommandOptions) => {
      await runTune(opts);
    });
}
