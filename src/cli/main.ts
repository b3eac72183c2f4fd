import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { AgeGenderError } from '../core/errors.js';
import { registerEvaluateCommand } from './commands/evaluate.js';
import { registerExplainCommand } from './commands/explain.js';
import { registerPipelineCommand } from './commands/pipeline.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerPrepareCommand } from './commands/prepare.js';
import { registerReportCommand } from './commands/report.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTrainCommand } from './commands/train.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Builds the `agegender` command tree (exported for tests). */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('agegender')
    .description('Age and gender estimation from face images, with data cleaning, evaluation, explanations and an audit report.')
    .version(packageVersion())
    .showHelpAfterError();
  // data → model → evaluation/explanation → use
  registerPrepareCommand(program);
  registerTrainCommand(program);
  registerEvaluateCommand(program);
  registerExplainCommand(program);
  registerReportCommand(program);
  registerPipelineCommand(program);
  registerPredictCommand(program);
  registerServeCommand(program);
  return program;
}

/** CLI entry point: errors print one clear line and set exit code 1 (2 for usage errors). */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    const message = error instanceof AgeGenderError ? `error [${error.code}]: ${error.message}` : `error: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exitCode = error instanceof AgeGenderError && error.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv);
}
