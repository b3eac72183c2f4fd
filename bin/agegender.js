#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the `prepare` script).
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

// onnxruntime-node (the fast inference runtime) crashes in a process whose command line is long
// (it recurses over /proc/self/cmdline; see src/model/runtime.ts), e.g. `predict photos/*.jpg` over
// a thousand files. Such a command re-runs itself with its arguments in the environment instead.
const ARGS_ENV = 'AGEGENDER_ARGV_JSON';
const MAX_CMDLINE_BYTES = 4096;
const cmdlineBytes = [process.execPath, ...process.execArgv, ...process.argv.slice(1)].reduce((sum, a) => sum + Buffer.byteLength(a) + 1, 0);
if (process.platform === 'linux' && process.env[ARGS_ENV] === undefined && cmdlineBytes > MAX_CMDLINE_BYTES) {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, [ARGS_ENV]: JSON.stringify(process.argv.slice(2)) },
  });
  if (child.error) {
    console.error(`agegender: cannot re-run with a short command line: ${child.error.message}`);
    process.exit(1);
  }
  process.exit(child.status ?? 128 + (constants.signals[child.signal] ?? 0));
}
let argv = process.argv;
if (process.env[ARGS_ENV] !== undefined) {
  argv = [process.argv[0], process.argv[1], ...JSON.parse(process.env[ARGS_ENV])];
  delete process.env[ARGS_ENV];
}

const { main } = await import('../dist/cli/main.js');
main(argv).catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
