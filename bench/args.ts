// Command-line handling shared by the benches: `--help`, counts validated with the library's
// validators, dataset folders checked up front, and a bad option or a missing folder reported as one
// line naming the option or the path (exit 2) instead of a stack trace.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { AgeGenderError, describe } from 'agegender/core';

/** An optional count option: undefined when not given, else an integer ≥ min (named in the error). */
export function countOption(raw: string | undefined, name: string, min = 1): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(value) || value < min) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected ${min === 0 ? 'non-negative' : min === 1 ? 'positive' : `≥ ${min}`} integer for ${name} but received ${describe(raw)}`);
  }
  return value;
}

/** A count from an environment variable: the fallback when unset, else an integer ≥ min (named in the error). */
export function countEnv(name: string, fallback: number, min = 1): number {
  return countOption(process.env[name], name, min) ?? fallback;
}

/** The absolute path of a folder (or file) the bench reads, or an error naming the path and what it is for. */
export function existingPath(path: string, what: string, kind: 'folder' | 'file' = 'folder'): string {
  const abs = resolve(path);
  let stats;
  try {
    stats = statSync(abs);
  } catch {
    throw new AgeGenderError('INVALID_ARGUMENT', `${what}: no such ${kind}`, { subject: abs });
  }
  if (stats.isDirectory() !== (kind === 'folder')) throw new AgeGenderError('INVALID_ARGUMENT', `${what}: not a ${kind}`, { subject: abs });
  return abs;
}

/**
 * Runs a bench's option parsing (node:util parseArgs, which rejects unknown options) and checks: with
 * `--help` prints the usage and exits 0; an error from parsing or from an AgeGenderError check prints
 * `<bench>: <message>` and the usage, and exits 2.
 */
export function benchOptions<T>(bench: string, usage: string, argv: readonly string[], parse: () => T): T {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof AgeGenderError) && !(error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) throw error;
    console.error(`${bench}: ${error.message}\n\n${usage}`);
    process.exit(2);
  }
}
