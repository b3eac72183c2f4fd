import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { parseNumberOption } from '../../core/validate.js';
import { CUT_POINTS, type CutPoint } from '../../model/encoder.js';
import type { BatchLogs, EpochLogs, TrainCallback } from '../../train/callbacks.js';
import { AGE_LOSSES, train, TRAIN_DEFAULTS, type AgeLoss, type TrainResult } from '../../train/train.js';
import { createProgressBar, type ProgressBar } from '../progress.js';
import { checkpointFiles, WORKSPACE_FILES, workspacePaths } from '../../workspace/layout.js';

export interface TrainCommandOptions {
  workspace: string;
  out: string;
  epochs: string;
  stage1Epochs: string;
  resume?: boolean;
  balance?: boolean;
  ethnicityAgeBalance?: boolean;
  jitter?: boolean;
  photoAugment?: boolean;
  consistency?: string;
  limit?: string;
  seed: string;
  score: boolean;
  labelSigma?: string;
  labelSigmaSlope?: string;
  cutPoint?: CutPoint;
  ageLoss?: AgeLoss;
}

/**
 * A live progress bar (TTY only) with the running losses, and the run's log: a line is written only
 * after the bar is stopped (the bar disables line wrap and redraws its own line, so a line written
 * beside it was cut off at the terminal's width); the next batch starts a new bar.
 */
export function progressCallback(makeBar: typeof createProgressBar = createProgressBar, write: (text: string) => void = (text) => void process.stderr.write(text)): TrainCallback & { log(line: string): void } {
  let bar: ProgressBar | null = null;
  let label = '';
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    name: 'progressBar',
    onEpochBegin(i) {
      stop();
      label = `s${i.stage} e${i.epoch}/${i.epochs}`;
    },
    onBatchEnd(l: BatchLogs) {
      bar ??= makeBar(label, '{bar} {value}/{total} | loss {loss} (age {age}, gender {gender}) | lr {lr} | {eta_formatted} left');
      bar.update(l.batch, l.batches, { loss: l.loss.toFixed(3), age: l.ageLoss.toFixed(3), gender: l.genderLoss.toFixed(3), lr: l.lr.toExponential(1) });
    },
    onEpochEnd(_l: EpochLogs) {
      stop();
    },
    log(line: string) {
      stop();
      write(`${line}\n`);
    },
  };
}

/** What `train` says when interrupted (Ctrl-C, SIGTERM): the checkpoint that is kept and how to continue from it. */
export function interruptedText(ckptDir: string): string {
  const stateFile = checkpointFiles(ckptDir).state;
  let state: { stage?: unknown; epoch?: unknown } | null = null;
  try {
    state = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { stage?: unknown; epoch?: unknown }) : null;
  } catch {
    state = null;
  }
  if (!state) return 'interrupted before the first checkpoint: nothing to resume; run the command again to start over';
  return `interrupted: the checkpoint after stage ${String(state.stage)} epoch ${String(state.epoch)} is kept in ${ckptDir}; run the same command with --resume to continue from it`;
}

/** Runs `agegender train` with parsed options; exported for tests. */
export async function runTrain(opts: TrainCommandOptions, argv: readonly string[] = process.argv): Promise<TrainResult> {
  const epochs = parseNumberOption(opts.epochs, '--epochs', 0, 1000, true);
  const stage1Epochs = parseNumberOption(opts.stage1Epochs, '--stage1-epochs', 0, 1000, true);
  const seed = parseNumberOption(opts.seed, '--seed', 0, 2 ** 31 - 1, true);
  const limit = opts.limit === undefined ? undefined : parseNumberOption(opts.limit, '--limit', 1, 10_000_000, true);
  const labelSigma = opts.labelSigma === undefined ? undefined : parseNumberOption(opts.labelSigma, '--label-sigma', 0.1, 50);
  const labelSigmaSlope = opts.labelSigmaSlope === undefined ? undefined : parseNumberOption(opts.labelSigmaSlope, '--label-sigma-slope', 0, 1);
  const consistency = opts.consistency === undefined ? undefined : parseNumberOption(opts.consistency, '--consistency', 0, 100);
  const command = ['agegender', ...argv.slice(2)].join(' ');
  const progress = progressCallback();
  const ckptDir = workspacePaths(opts.workspace).checkpointDir(resolve(opts.out));
  const onSignal = (signal: NodeJS.Signals): void => {
    progress.log(interruptedText(ckptDir));
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    return await train({
      workspace: resolve(opts.workspace),
      out: resolve(opts.out),
      epochs,
      stage1Epochs,
      seed,
      limit,
      labelSigma,
      labelSigmaSlope,
      cutPoint: opts.cutPoint,
      ageLoss: opts.ageLoss,
      resume: Boolean(opts.resume),
      balance: Boolean(opts.balance),
      ethnicityAgeBalance: Boolean(opts.ethnicityAgeBalance),
      jitter: opts.jitter,
      photoAugment: opts.photoAugment,
      consistency,
      score: opts.score,
      command,
      callbacks: [progress],
      log: (line) => progress.log(line),
    });
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

/** What `train` prints after the model folder: the val and test scores (intervals left out), or that there are none (`--no-score`). */
export function scoresText(metrics: Readonly<Record<string, unknown>>): string {
  if (metrics['val'] === undefined && metrics['test'] === undefined) return 'not scored (--no-score): agegender tune or agegender evaluate scores it';
  return JSON.stringify({ val: metrics['val'], test: metrics['test'] }, (k, v: unknown) => (k === 'ci' ? undefined : v), 2);
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train the age + gender network on a prepared workspace (feature cache, frozen stage, fine-tuning), save it as one model folder, and score it on val and test')
    .requiredOption('--workspace <dir>', `workspace written by \`agegender prepare\` (holds ${WORKSPACE_FILES.manifest})`)
    .requiredOption('--out <dir>', 'model folder to write')
    .option('--epochs <n>', 'fine-tuning (stage 2) epochs', String(TRAIN_DEFAULTS.epochs))
    .option('--stage1-epochs <n>', 'frozen-encoder (stage 1) epochs', String(TRAIN_DEFAULTS.stage1Epochs))
    .option('--resume', 'continue from the last checkpoint after an interruption')
    .option('--balance', 'reweight samples by ethnicity × gender × age bucket')
    .option('--ethnicity-age-balance', 'reweight samples so every ethnicity has the training set\'s age distribution (age cannot be guessed from ethnicity); not with --balance')
    .option('--jitter', 'also train on two cached jittered copies of each training chip (±10° rotation, zoom 0.95–1.15, ±5% shift, lighting; one mirrored)')
    .option('--photo-augment', 'also train on two cached photo-like copies of each training chip (grayscale, colour cast, blur, low resolution, JPEG, the photo aligner\'s measured geometric error; one mirrored)')
    .option('--consistency <weight>', 'weight of a fine-tuning loss that pulls the prediction on an augmented copy (--jitter, --photo-augment) towards the prediction on the chip itself; a step then sees half as many chips, each twice (default 0: off)')
    .option('--limit <n>', 'use at most N training images (val and test: N/4, at least 8) — for quick runs')
    .option('--seed <n>', 'random seed', String(TRAIN_DEFAULTS.seed))
    .option('--no-score', 'skip scoring the saved model on val and test')
    .option('--label-sigma <years>', `width of the Gaussian age label distribution at age 0 (default ${TRAIN_DEFAULTS.labelSigma})`)
    .option('--label-sigma-slope <years>', 'growth of that width per year of age, for noisier labels at older ages (default 0)')
    .addOption(new Option('--age-loss <loss>', 'age loss on the 101-bin softmax: kl+l1 (label-distribution KL + L1 on the expected age, the shipped choice), kl (the KL alone) or l1 (L1 on the expected age alone)').choices([...AGE_LOSSES]).default(TRAIN_DEFAULTS.ageLoss))
    .addOption(new Option('--cut-point <block>', 'last frozen encoder block: conv128_2 fine-tunes the whole conv256 stage; conv128_1 fine-tunes conv128_2 as well (the setting of the shipped model; stage 2 ≈ 1.3× slower); conv256_down freezes conv256_down (stage 2 ≈ 1.4× faster, half the cache); conv256_1 freezes conv256_1 too (≈ 3.3× faster)').choices([...CUT_POINTS]).default(TRAIN_DEFAULTS.cutPoint))
    .action(async (opts: TrainCommandOptions) => {
      const r = await runTrain(opts);
      console.log(`model written to ${r.out}`);
      console.log(scoresText(r.metrics));
    });
}
