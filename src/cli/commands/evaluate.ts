import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULTS } from '../../core/defaults.js';
import { SPLITS } from '../../core/types.js';
import { oneOf, parseNumberOption } from '../../core/validate.js';
import { createProgressBar, wantsProgressBar } from '../progress.js';
import { evaluate, EVALUATE_DEFAULTS, type EvaluationResult } from '../../eval/evaluate.js';
import { loadModelFrom } from '../../model/load.js';
import type { AgeGenderModel } from '../../model/api.js';
import { writeEvaluation } from '../../workspace/evaluation.js';
import { workspacePaths } from '../../workspace/layout.js';
import { readManifest } from '../../workspace/manifest.js';

export interface EvaluateCommandOptions {
  model?: string;
  workspace: string;
  split: string;
  out?: string;
  batchSize: string;
  replicates: string;
  seed: string;
}

/** A progress callback: a bar on a terminal, a log line every 500 images elsewhere (CI, pipes, tests). */
export function progressReporter(label: string, log: (line: string) => void): (done: number, total: number) => void {
  const bar = wantsProgressBar() ? createProgressBar(label) : null;
  let lastShown = 0;
  return (done, total) => {
    if (bar) {
      bar.update(done, total);
      if (done === total) bar.stop();
    } else if (done - lastShown >= 500 || done === total) {
      lastShown = done;
      log(`evaluated ${done}/${total}`);
    }
  };
}

/** Runs the evaluation and writes `evaluation.json` + `predictions.csv` atomically into `out`. */
export async function runEvaluate(
  opts: EvaluateCommandOptions,
  log: (line: string) => void = console.log,
  load: (dir: string | undefined) => Promise<AgeGenderModel> = loadModelFrom,
): Promise<EvaluationResult> {
  const split = oneOf(opts.split, '--split', SPLITS);
  const batchSize = parseNumberOption(opts.batchSize, '--batch-size', 1, 1024, true);
  const replicates = parseNumberOption(opts.replicates, '--replicates', 10, 100_000, true);
  const seed = parseNumberOption(opts.seed, '--seed', 0, 2 ** 31 - 1, true);
  const workspace = resolve(opts.workspace);
  const out = resolve(opts.out ?? workspacePaths(workspace).evaluationDir(split));
  const rows = await readManifest(workspace);
  const model = await load(opts.model);
  try {
    const { result, csv } = await evaluate({ model, rows, split, batchSize, replicates, seed, onProgress: progressReporter('evaluate', log) });
    const files = await writeEvaluation(out, { result, csv });
    const f = (v: number | null, d = 3): string => (v === null ? 'n/a' : v.toFixed(d));
    log(`${split}: ${result.counts.evaluated} faces (${result.counts.skipped} skipped)`);
    log(`age: MAE ${f(result.age.mae, 2)} (95% CI ${f(result.ci.mae?.low ?? null, 2)}–${f(result.ci.mae?.high ?? null, 2)}), RMSE ${f(result.age.rmse, 2)}, within ±8 ${f(result.age.within8)}`);
    log(`gender: accuracy ${f(result.gender.accuracy)}, F1 ${f(result.gender.f1)}, ROC-AUC ${f(result.gender.rocAuc)}, ECE ${f(result.gender.ece)}`);
    for (const s of result.slices.filter((x) => x.dimensions.length === 1)) {
      for (const g of s.gaps.filter((x) => x.metric === 'mae' || x.metric === 'accuracy')) {
        if (g.best && g.worst) log(`${s.name} ${g.metric}: best ${g.best.name} ${f(g.best.value)}, worst ${g.worst.name} ${f(g.worst.value)}, gap ${f(g.gap)}`);
      }
    }
    for (const s of result.skipped.slice(0, 10)) log(`skipped ${s.source}: ${s.reason}`);
    log(`wrote ${files.result} and ${files.predictions}`);
    return result;
  } finally {
    model.dispose();
  }
}

/** `agegender evaluate`: metrics by slice with bootstrap intervals, best/worst samples, per-image CSV. */
export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate a model on one split of a prepared workspace: metrics, slices with 95% intervals, best/worst samples')
    .option('--model <dir>', 'model folder (default: the shipped model)')
    .option('--workspace <dir>', 'workspace written by `agegender prepare`', DEFAULTS.workspace)
    .option('--split <name>', `split to evaluate (${SPLITS.join(', ')})`, 'test')
    .option('--out <dir>', 'output folder (default: <workspace>/evaluation/<split>)')
    .option('--batch-size <n>', 'images per forward pass', String(EVALUATE_DEFAULTS.batchSize))
    .option('--replicates <n>', 'bootstrap resamples for the 95% intervals', String(EVALUATE_DEFAULTS.replicates))
    .option('--seed <n>', 'bootstrap seed', String(EVALUATE_DEFAULTS.seed))
    .action(async (opts: EvaluateCommandOptions) => {
      await runEvaluate(opts);
    });
}
