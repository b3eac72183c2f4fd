import type { Command } from 'commander';
import { SPLITS } from '../../core/types.js';
import { oneOf, parseNumberOption } from '../../core/validate.js';
import { REPORT_DEFAULTS } from '../../report/build.js';
import { REPORT_FILE, reportWorkspace, writtenReport, type WorkspaceReport } from '../../workflow/report.js';
import { EVALUATION_FILES, WORKSPACE_FILES } from '../../workspace/layout.js';
import { progressReporter } from '../progress.js';
import { addModelSplitOptions } from '../split-options.js';

export interface ReportCommandOptions {
  model?: string;
  workspace: string;
  split: string;
  out: string;
  evaluation?: string;
  lime: string;
  limeSamples: string;
  photoEvaluation?: string;
}

/** Parses the options, builds the report through the workflow and prints what it wrote. */
export async function runReport(opts: ReportCommandOptions, log: (line: string) => void = console.log): Promise<WorkspaceReport> {
  const report = await reportWorkspace({
    split: oneOf(opts.split, '--split', SPLITS),
    limeCount: parseNumberOption(opts.lime, '--lime', 0, 50, true),
    limeSamples: parseNumberOption(opts.limeSamples, '--lime-samples', 10, 100_000, true),
    workspace: opts.workspace,
    out: opts.out,
    ...(opts.evaluation === undefined ? {} : { evaluation: opts.evaluation }),
    ...(opts.model === undefined ? {} : { modelDir: opts.model }),
    ...(opts.photoEvaluation === undefined ? {} : { photoEvaluation: opts.photoEvaluation }),
    log,
    onProgress: progressReporter('evaluate', log),
  });
  log(writtenReport(report));
  return report;
}

/** `agegender report`: one self-contained HTML audit report (EDA, evaluation, slices, LIME, model card). */
export function registerReportCommand(program: Command): void {
  addModelSplitOptions(
    program
      .command('report')
      .description('build a self-contained HTML report: EDA, cleaning, training curves, evaluation by slice, best/worst, LIME, model card'),
  )
    .option('--out <path>', `HTML file to write, or a folder to write ${REPORT_FILE} in`, REPORT_FILE)
    .option('--evaluation <dir>', `folder with ${EVALUATION_FILES.result} + ${EVALUATION_FILES.predictions} to reuse or write (default: <workspace>/${WORKSPACE_FILES.evaluation}/<split>)`)
    .option('--lime <n>', 'worst age errors to explain with LIME', String(REPORT_DEFAULTS.limeCount))
    .option('--lime-samples <n>', 'LIME samples per explanation', String(REPORT_DEFAULTS.limeSamples))
    .option('--photo-evaluation <file>', 'photo-evaluation.json from `agegender evaluate --photos`: the model card shows those figures and the signed age error by decade')
    .action(async (opts: ReportCommandOptions) => {
      await runReport(opts);
    });
}
