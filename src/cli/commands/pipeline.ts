import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DEFAULTS } from '../../core/defaults.js';
import { oneOf } from '../../core/validate.js';
import { DEDUP_POLICIES } from '../../data/dedup.js';
import { prepare } from '../../data/prepare.js';
import { formatSummary } from '../../data/summary.js';
import { EVALUATE_DEFAULTS } from '../../eval/evaluate.js';
import { REPORT_DEFAULTS } from '../../report/build.js';
import { TRAIN_DEFAULTS } from '../../train/train.js';
import { createProgressBar } from '../progress.js';
import { runEvaluate } from './evaluate.js';
import { runReport } from './report.js';
import { runTrain } from './train.js';

interface PipelineOptions {
  workspace: string;
  model: string;
  report: string;
  policy: string;
  epochs: string;
  stage1Epochs: string;
  balance?: boolean;
  retrain?: boolean;
  limit?: string;
  seed: string;
}

/** True when `modelDir` holds a model trained on exactly this manifest (so training can be skipped). */
function modelMatchesManifest(modelDir: string, manifestSha256: string | undefined): boolean {
  const metadataPath = join(modelDir, 'metadata.json');
  if (!manifestSha256 || !existsSync(metadataPath)) return false;
  try {
    const metadata = JSON.parse(readFileSync(metadataPath, 'utf8')) as { datasetManifestHash?: string };
    return metadata.datasetManifestHash === manifestSha256;
  } catch {
    return false;
  }
}

/** `agegender pipeline`: prepare → train → evaluate → report, reusing what is cached at each step. */
export function registerPipelineCommand(program: Command): void {
  program
    .command('pipeline')
    .description('prepare → train → evaluate → report in one command, reusing cached hashes, features, models and evaluations')
    .argument('<inputs...>', 'folders and/or .zip archives with UTKFace-style chips')
    .option('--workspace <dir>', 'workspace folder', DEFAULTS.workspace)
    .option('--model <dir>', 'model folder to train (or reuse when it was trained on the same manifest)', `${DEFAULTS.workspace}/model`)
    .option('--report <file>', 'HTML report to write', 'report.html')
    .option('-p, --policy <policy>', `near-duplicate policy: ${DEDUP_POLICIES.join(' | ')}`, DEFAULTS.prepare.policy)
    .option('--epochs <n>', 'fine-tuning epochs', String(TRAIN_DEFAULTS.epochs))
    .option('--stage1-epochs <n>', 'frozen-encoder epochs', String(TRAIN_DEFAULTS.stage1Epochs))
    .option('--balance', 'reweight training samples by ethnicity × gender × age bucket')
    .option('--retrain', 'train even when the model folder matches the manifest')
    .option('--limit <n>', 'use at most N training images (quick runs)')
    .option('--seed <n>', 'seed for split and training', String(DEFAULTS.prepare.seed))
    .action(async (inputs: string[], opts: PipelineOptions) => {
      const log = (line: string): void => console.log(line);
      const workspace = resolve(opts.workspace);
      const bar = createProgressBar('hashing');
      log('== prepare');
      const summary = await prepare({
        inputs,
        workspace,
        policy: oneOf(opts.policy, '--policy', DEDUP_POLICIES),
        seed: Number(opts.seed),
        command: ['agegender', ...process.argv.slice(2)].join(' '),
        onProgress: (e) => (e.phase === 'hash' ? bar.update(e.done, e.discovered) : bar.stop()),
      });
      bar.stop();
      log(formatSummary(summary));

      log('== train');
      if (!opts.retrain && modelMatchesManifest(opts.model, summary.manifestSha256)) {
        log(`${opts.model} was trained on this manifest (${summary.manifestSha256?.slice(0, 12)}…): reusing it (--retrain to train again)`);
      } else {
        await runTrain({
          workspace,
          out: opts.model,
          epochs: opts.epochs,
          stage1Epochs: opts.stage1Epochs,
          balance: opts.balance,
          limit: opts.limit,
          seed: opts.seed,
          // an interrupted earlier run continues from its last checkpoint
          resume: existsSync(join(workspace, 'checkpoints', basename(resolve(opts.model)), 'state.json')),
          score: true,
        });
      }

      log('== evaluate (test split)');
      const evaluationDir = join(workspace, 'evaluation', 'test');
      await runEvaluate(
        { model: opts.model, workspace, split: 'test', out: evaluationDir, batchSize: String(EVALUATE_DEFAULTS.batchSize), replicates: String(EVALUATE_DEFAULTS.replicates), seed: String(EVALUATE_DEFAULTS.seed) },
        log,
      );

      log('== report');
      await runReport(
        { model: opts.model, workspace, split: 'test', out: opts.report, evaluation: evaluationDir, lime: String(REPORT_DEFAULTS.limeCount), limeSamples: String(REPORT_DEFAULTS.limeSamples) },
        log,
      );
    });
}
