// Ctrl-C during `predict --out` ends the process as the signal would (re-raised, not process.exit):
// process.exit tore down the worker threads mid onnxruntime run and the addon aborted the process
// (SIGABRT, "terminate called after throwing an instance of 'Napi::Error'") on every Ctrl-C with --workers 2.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { it, mock } from 'node:test';
import { exitBySignal } from '../../src/cli/signal-exit.js';
import { tempDir } from '../helpers/tmp.js';

it('exitBySignal removes the listeners of the signal and sends it again to its own process; exit(128 + n) only if that does not end it', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const calls: string[] = [];
  const proc = {
    pid: 4242,
    removeAllListeners: (s: string) => (calls.push(`off ${s}`), proc),
    kill: (pid: number, s: string) => (calls.push(`kill ${pid} ${s}`), true),
    exit: (code: number) => void calls.push(`exit ${code}`),
  } as unknown as Parameters<typeof exitBySignal>[1];
  exitBySignal('SIGINT', proc);
  assert.deepEqual(calls, ['off SIGINT', 'kill 4242 SIGINT']);
  t.mock.timers.runAll();
  assert.deepEqual(calls, ['off SIGINT', 'kill 4242 SIGINT', 'exit 130']);
  mock.timers.reset();
});

it('predict --out --workers 2: Ctrl-C mid-run ends by SIGINT (no abort), and --resume finishes the files without duplicates', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t, 'agegender-predict-signal-');
  const photos = join(dir, 'chips');
  const chipDir = 'test/fixtures/photos/chips';
  const chips = readdirSync(chipDir);
  (await import('node:fs')).mkdirSync(photos);
  for (let i = 0; i < 200; i++) copyFileSync(join(chipDir, chips[i % chips.length]!), join(photos, `${String(i).padStart(3, '0')}.jpg`));
  const out = join(dir, 'ages.csv');
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'predict', photos, '--no-detect', '--workers', '2', '--batch', '4', '--out', out];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // Ctrl-C once some rows are written, while the workers are busy
  const rows = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).slice(1) : []);
  let exited = false;
  void ended.then(() => (exited = true));
  while (!exited && rows(`${out}.partial`).length < 8) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!exited, `predict ended before it was interrupted: ${stderr}`);
  child.kill('SIGINT');
  const { code, signal } = await ended;
  assert.doesNotMatch(stderr, /terminate called|Napi::Error/);
  assert.deepEqual({ code, signal }, { code: null, signal: 'SIGINT' });
  assert.match(stderr, /results so far are in .*ages\.csv\.partial: run the same command with --resume to continue/);
  assert.ok(!existsSync(out), 'the finished file only appears when every input is done');

  const resumed = spawn(process.execPath, [...args, '--resume'], { stdio: ['ignore', 'ignore', 'inherit'] });
  assert.equal(await new Promise((resolve) => resumed.on('exit', resolve)), 0);
  const files = rows(out).map((l) => l.split(',')[0]);
  assert.equal(files.length, 200);
  assert.equal(new Set(files).size, 200, 'no file twice');
});
