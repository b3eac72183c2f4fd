import { Command, CommanderError } from 'commander';
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
    .showHelpAfterError()
    // usage errors (unknown option or command, missing argument) come back as CommanderError: exit code 2 (see main)
    .exitOverride();
  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]!())(program);
  return program;
}

/** `agegender predict … | head`: when the reader of stdout goes away, stop quietly (exit 0), as Unix tools do. */
function onStdoutError(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
}

/** Exit codes: what a script can tell apart. */
export const EXIT_CODES = Object.freeze({
  /** Done. */
  ok: 0,
  /** Done, but some inputs failed (their rows or results carry the errors). */
  someFailed: 1,
  /** Usage: an unknown or bad option, command or argument; nothing was done. */
  usage: 2,
  /** The command could not run: a model, workspace, file, network or queue error. */
  failed: 3,
});

/** CLI entry point: errors print one clear line; the exit code says which kind of failure ({@link EXIT_CODES}). */
export async function main(argv: readonly string[]): Promise<void> {
  if (!process.stdout.listeners('error').includes(onStdoutError)) process.stdout.on('error', onStdoutError);
  try {
    await (await buildProgram(argv[2])).parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its message (and the help); --help and --version end here too, with 0
      process.exitCode = error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
      return;
    }
    const message = error instanceof AgeGenderError ? `error [${error.code}]: ${error.message}` : `error: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exitCode = error instanceof AgeGenderError && error.code === 'INVALID_ARGUMENT' ? EXIT_CODES.usage : EXIT_CODES.failed;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv);
}
