// Runs `agegender evaluate <args>` in-process through commander, as the CLI would, and returns what
// it printed and the exit status it set; console.log and process.exitCode are restored afterwards.
import { Command } from 'commander';
import { registerEvaluateCommand } from '../../src/cli/commands/evaluate.js';

export async function runEvaluateCli(args: readonly string[]): Promise<{ logged: string[]; exitCode: typeof process.exitCode }> {
  const program = new Command().exitOverride();
  registerEvaluateCommand(program);
  const logged: string[] = [];
  const log = console.log;
  const before = process.exitCode;
  console.log = (line: string) => void logged.push(line);
  try {
    await program.parseAsync(['evaluate', ...args], { from: 'user' });
    return { logged, exitCode: process.exitCode };
  } finally {
    console.log = log;
    process.exitCode = before;
  }
}
