#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the `prepare` script).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// onnxruntime-node (the fast inference runtime) crashes in a process whose command line is long
// (it recurses over /proc/self/cmdline; see src/model/runtime.ts), e.g. `predict photos/*.jpg` over
// a thousand files. Such a command re-runs itself with its arguments in the environment instead.
// Linux caps each environment string at 128 KiB (MAX_ARG_STRLEN), well under what a command line may
// hold in all (a shell glob over a few thousand files): the arguments go in pieces of at most this
// many characters (4 bytes each at most in UTF-8), in <ARGS_ENV>_0, _1, …, their count in <ARGS_ENV>.
const ARGS_ENV = 'AGEGENDER_ARGV_JSON';
const PART_CHARS = 30_000;
const MAX_CMDLINE_BYTES = 4096;
const cmdlineBytes = [process.execPath, ...process.execArgv, ...process.argv.slice(1)].reduce((sum, a) => sum + Buffer.byteLength(a) + 1, 0);
// The re-run's child gets the signals the launcher gets (SIGINT, SIGTERM, SIGHUP): one sent to the
// launcher alone (`kill <pid>`) would otherwise end it and leave the child running. A signal sent to
// the whole process group (Ctrl-C in a terminal) reaches the child twice; the commands that take
// long lists of files (predict, prepare, queue submit) stop on the first and end on the second, as
// they would on one.
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const rerun = process.platform === 'linux' && process.env[ARGS_ENV] === undefined && cmdlineBytes > MAX_CMDLINE_BYTES;
if (rerun) {
  const chars = Array.from(JSON.stringify(process.argv.slice(2))); // by code point: a piece never splits a surrogate pair
  const parts = {};
  for (let i = 0; i * PART_CHARS < chars.length; i++) parts[`${ARGS_ENV}_${i}`] = chars.slice(i * PART_CHARS, (i + 1) * PART_CHARS).join('');
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, [ARGS_ENV]: String(Object.keys(parts).length), ...parts },
  });
  for (const signal of FORWARDED) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    console.error(`agegender: cannot re-run with a short command line: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', async (code, signal) => {
    if (code !== null) process.exit(code);
    // ended by a signal: end the same way, so the shell sees it (130 for Ctrl-C)
    const { exitBySignal } = await import('../dist/cli/signal-exit.js');
    exitBySignal(signal);
  });
}
let argv = process.argv;
if (process.env[ARGS_ENV] !== undefined) {
  let json = '';
  for (let i = 0; i < Number(process.env[ARGS_ENV]); i++) {
    json += process.env[`${ARGS_ENV}_${i}`] ?? '';
    delete process.env[`${ARGS_ENV}_${i}`];
  }
  argv = [process.argv[0], process.argv[1], ...JSON.parse(json)];
  delete process.env[ARGS_ENV];
}

if (!rerun) {
  const { main } = await import('../dist/cli/main.js');
  main(argv).catch((error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
