import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULTS } from '../../core/defaults.js';
import { writeFileAtomic } from '../../core/atomic.js';
import { SPLITS } from '../../core/types.js';
import { oneOf, parseNumberOption } from '../../core/validate.js';
import { evaluate, EVALUATE_DEFAULTS } from '../../eval/evaluate.js';
import { defaultModelDir } from '../../model/folder.js';
import { loadModelFrom } from '../../model/load.js';
import { reusableEvaluation, writeEvaluation } from '../../workspace/evaluation.js';
import { evaluationFiles, workspacePaths } from '../../workspace/layout.js';
import { readManifest } from '../../workspace/manifest.js';
import { readSummary } from '../../workspace/summary.js';
import type { AgeGenderModel } from '../../model/api.js';
import { progressReporter } from './evaluate.js';
import { buildReport, readTrainingLog, REPORT_DEFAULTS, type BuiltReport } from '../../report/build.js';

export interface ReportCommandOptions {
  model?: string;
  workspace: string;
  split: string;
  out: string;
  evaluation?: string;
  lime: string;
  limeSamples: string;
}

/** Builds report.html: evaluates the split first unless a matching evaluation is cached. */
export async function runReport(
  opts: ReportCommandOptions,
  log: (line: string) => void = console.log,
  load: (dir: string | undefined) => Promise<AgeGenderModel> = loadModelFrom,
): Promise<BuiltReport> {
  const started = performance.now();
  const split = oneOf(opts.split, '--split', SPLITS);
  const limeCount = parseNumberOption(opts.lime, '--lime', 0, 50, true);
  const limeSamples = parseNumberOption(opts.limeSamples, '--lime-samples', 10, 100_000, true);
  const workspace = resolve(opts.workspace);
  const evalDir = resolve(opts.evaluation ?? workspacePaths(workspace).evaluationDir(split));
  const rows = await readManifest(workspace);
  const summary = await readSummary(workspace);
  const model = await load(opts.model);
  try {
    let evaluation = await reusableEvaluation(evalDir, model.metadata, split);
    if (evaluation) log(`reusing ${evaluationFiles(evalDir).result}`);
    else {
      log(`evaluating the ${split} split…`);
      const { result, records, csv } = await evaluate({ model, rows, split, replicates: EVALUATE_DEFAULTS.replicates, onProgress: progressReporter('evaluate', log) });
      await writeEvaluation(evalDir, { result, csv });
      evaluation = { result, records };
    }
    const trainingLog = await readTrainingLog(resolve(opts.model ?? defaultModelDir()));
    const report = await buildReport({
      rows,
      summary,
      evaluation: evaluation.result,
      records: evaluation.records,
      metadata: model.metadata,
      trainingLog,
      model,
      limeCount,
      limeSamples,
    });
    const out = resolve(opts.out);
    await writeFileAtomic(out, report.html);
    log(`wrote ${out} (${report.charts} charts, ${(report.html.length / 1024 / 1024).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return report;
  } finally {
    model.dispose();
  }
}

/** `agegender report`: one self-contained HTML audit report (EDA, evaluation, slices, LIME, model card). */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('build a self-contained HTML report: EDA, cleaning, training curves, evaluation by slice, best/worst, LIME, model card')
    .option('--model <dir>', 'model folder (default: the shipped model)')
    .option('--workspace <dir>', 'workspace written by `agegender prepare`', DEFAULTS.workspace)
    .option('--split <name>', `split to evaluate (${SPLITS.join(', ')})`, 'test')
    .option('--out <file>', 'HTML file to write', 'report.html')
    .option('--evaluation <dir>', 'folder with evaluation.json + predictions.csv to reuse or write (default: <workspace>/evaluation/<split>)')
    .option('--lime <n>', 'worst age errors to explain with LIME', String(REPORT_DEFAULTS.limeCount))
    .option('--lime-samples <n>', 'LIME samples per explanation', String(REPORT_DEFAULTS.limeSamples))
    .action(async (opts: ReportCommandOptions) => {
      await runReport(opts);
    });
}
