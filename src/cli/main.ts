import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { AgeGenderError } from '../core/errors.js';

type Register = (program: Command) => void;

/**
 * Commands in help order (data → model → evaluation/explanation → use). Each is imported only when
 * it is run (or for help), so `agegender prepare` does not load TensorFlow.js, Vega or Fastify.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = Object.freeze({
  prepare: async () => (await import('./commands/prepare.js')).registerPrepareCommand,
  train: async () => (await import('./commands/train.js')).registerTrainCommand,
  tune: async () => (await import('./commands/tune.js')).registerTuneCommand,
  evaluate: async () => (await import('./commands/evaluate.js')).registerEvaluateCommand,
  explain: async () => (await import('./commands/explain.js')).registerExplainCommand,
  report: async () => (await import('./commands/report.js')).registerReportCommand,
  pipeline: async () => (await import('./commands/pipeline.js')).registerPipelineCommand,
  predict: async () => (await import('./commands/predict.js')).registerPredictCommand,
  serve: async () => (await import('./commands/serve.js')).registerServeCommand,
  queue: async () => (await import('./commands/queue.js')).registerQueueCommand,
});

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Builds the `agegender` command tree: just `only` when it names a command, else all of them. */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command();
  program
    .name('agegender')
    .description('Age and gender estimation from face images, with data cleaning, evaluation, explanations and an audit report.')
    .version(packageVersion())
    .showHelpAfterError();
  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]!())(program);
  return program;
}

/** `agegender predict … | head`: when the reader of stdout goes away, stop quietly (exit 0), as Unix tools do. */
function onStdoutError(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
}

/** CLI entry point: errors print one clear line and set exit code 1 (2 for usage errors). */
export async function main(argv: readonly string[]): Promise<void> {
  if (!process.stdout.listeners('error').includes(onStdoutError)) process.stdout.on('error', onStdoutError);
  try {
    await (await buildProgram(argv[2])).parseAsync([...argv]);
  } catch (error) {
    const message = error instanceof AgeGenderError ? `error [${error.code}]: ${error.message}` : `error: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exitCode = error instanceof AgeGenderError && error.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv);
}
