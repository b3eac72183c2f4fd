import { join } from 'node:path';
import type { Command } from 'commander';
import { DEFAULTS } from '../../core/defaults.js';
import { oneOf, parseNumberOption } from '../../core/validate.js';
import { DEDUP_POLICIES } from '../../data/dedup.js';
import { TRAIN_DEFAULTS } from '../../train/train.js';
import { runPipeline } from '../../workflow/pipeline.js';
import { prepareProgress, progressReporter } from '../progress.js';
import { progressCallback } from './train.js';

interface PipelineCliOptions {
  workspace: string;
  model?: string;
  report: string;
  policy: string;
  epochs: string;
  stage1Epochs: string;
  balance?: boolean;
  retrain?: boolean;
  limit?: string;
  seed: string;
}

/** The model folder of `pipeline`: `--model` when given, else `<workspace>/model` (whatever `--workspace` is). */
export function pipelineModelDir(workspace: string, model: string | undefined): string {
  return model ?? join(workspace, 'model');
}

/** `agegender pipeline`: prepare → train → evaluate → report, reusing what is cached at each step. */
export function registerPipelineCommand(program: Command): void {
  program
    .command('pipeline')
    .description('prepare → train → evaluate → report in one command, reusing cached hashes, features, models and evaluations')
    .argument('<inputs...>', 'folders and/or .zip archives with UTKFace-style chips')
    .option('--workspace <dir>', 'workspace folder', DEFAULTS.workspace)
    .option('--model <dir>', 'model folder to train (or reuse when it was trained on the same manifest with the same training options) (default: <workspace>/model)')
    .option('--report <file>', 'HTML report to write', 'report.html')
    .option('-p, --policy <policy>', `near-duplicate policy: ${DEDUP_POLICIES.join(' | ')}`, DEFAULTS.prepare.policy)
    .option('--epochs <n>', 'fine-tuning epochs', String(TRAIN_DEFAULTS.epochs))
    .option('--stage1-epochs <n>', 'frozen-encoder epochs', String(TRAIN_DEFAULTS.stage1Epochs))
    .option('--balance', 'reweight training samples by ethnicity × gender × age bucket')
    .option('--retrain', 'train afresh (discarding any checkpoint) even when the model folder matches the manifest and training options')
    .option('--limit <n>', 'use at most N training images (quick runs)')
    .option('--seed <n>', 'seed for split and training', String(DEFAULTS.prepare.seed))
    .action(async (inputs: string[], opts: PipelineCliOptions) => {
      const log = (line: string): void => console.log(line);
      const prepared = prepareProgress();
      const trainProgress = progressCallback();
      await runPipeline({
        inputs,
        workspace: opts.workspace,
        modelDir: pipelineModelDir(opts.workspace, opts.model),
        report: opts.report,
        policy: oneOf(opts.policy, '--policy', DEDUP_POLICIES),
        epochs: parseNumberOption(opts.epochs, '--epochs', 0, 1000, true),
        stage1Epochs: parseNumberOption(opts.stage1Epochs, '--stage1-epochs', 0, 1000, true),
        seed: parseNumberOption(opts.seed, '--seed', 0, 2 ** 31 - 1, true),
        ...(opts.limit === undefined ? {} : { limit: parseNumberOption(opts.limit, '--limit', 1, 10_000_000, true) }),
        balance: Boolean(opts.balance),
        retrain: Boolean(opts.retrain),
        command: ['agegender', ...process.argv.slice(2)].join(' '),
        log,
        // the bar stops when hashing ends, before the summary is printed
        onPrepareProgress: prepared.onProgress,
        trainCallbacks: [trainProgress],
        trainLog: (line) => trainProgress.log(line),
        evaluationProgress: () => progressReporter('evaluate', log),
      });
    });
}
