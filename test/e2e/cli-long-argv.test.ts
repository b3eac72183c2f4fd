// The installed CLI (bin/agegender.js → dist/) with a command line past what onnxruntime-node
// survives (it re-runs itself with the arguments in the environment) still predicts on onnxruntime.
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ORT_MAX_CMDLINE_BYTES } from '../../src/model/runtime.js';
import { utkfaceChipDir } from '../helpers/data.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);

describe('agegender CLI with a long command line', () => {
  it('predicts every chip on onnxruntime, no crash', async () => {
    assert.ok(existsSync('dist/cli/main.js'), 'dist/ is built (npm ci runs the build; else npm run build)');
    const dir = resolve(utkfaceChipDir());
    const files = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort().slice(0, 80).map((f) => join(dir, f));
    const bytes = files.reduce((s, f) => s + Buffer.byteLength(f) + 1, 0);
    assert.ok(bytes > ORT_MAX_CMDLINE_BYTES, `command line of ${bytes} bytes is past the limit`);
    const { stdout, stderr } = await run(process.execPath, ['bin/agegender.js', 'predict', '--no-detect', '--csv', ...files], { maxBuffer: 1 << 22 });
    const rows = stdout.trim().split('\n');
    assert.equal(rows.length, files.length + 1, 'header + one row per chip');
    assert.ok(rows.slice(1).every((r) => /,(male|female|uncertain),/.test(r)), 'every row has a prediction');
    assert.match(stderr, /80 files, 80 faces, 0 failed.*network on onnxruntime/);
  });

  it('arguments past 128 KiB in all (one environment string holds no more on Linux; this was E2BIG) arrive whole, non-ASCII names included', async (t) => {
    const dir = tempDir(t, 'agegender-long-argv-');
    const files = Array.from({ length: 3000 }, (_, i) => join(dir, `missing-😀é-${i}.jpg`));
    const bytes = files.reduce((s, f) => s + Buffer.byteLength(f) + 1, 0);
    assert.ok(bytes > 128 * 1024, `command line of ${bytes} bytes is past 128 KiB`);
    const failed = await run(process.execPath, ['bin/agegender.js', 'predict', '--no-detect', '--csv', ...files], { maxBuffer: 1 << 24 }).then(
      () => assert.fail('missing files make the exit status 1'),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    assert.equal(failed.code, 1);
    assert.doesNotMatch(failed.stderr, /E2BIG|cannot re-run/);
    assert.match(failed.stderr, /3,?000 files, 0 faces, 3,?000 failed/);
    const named = failed.stdout.trim().split('\n').slice(1).map((row) => row.split(',')[0]);
    assert.deepEqual(named, files);
  });

  it('a signal sent to the launcher alone (kill <pid>) reaches the re-run: no process is left running, and the exit says the signal', async () => {
    const dir = resolve(utkfaceChipDir());
    const chips = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort().slice(0, 400).map((f) => join(dir, f));
    const launcher = spawn(process.execPath, ['bin/agegender.js', 'predict', '--no-detect', '--csv', '--batch', '4', ...chips], { stdio: ['ignore', 'pipe', 'ignore'] });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => launcher.on('exit', (code, signal) => done({ code, signal })));
    // once rows come out, the re-run (the launcher's child) is predicting
    await new Promise<void>((started) => launcher.stdout.once('data', () => started()));
    const childOf = (pid: number): number[] =>
      readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .filter((e) => {
          try {
            return Number(readFileSync(`/proc/${e}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]) === pid;
          } catch {
            return false;
          }
        })
        .map(Number);
    const [child] = childOf(launcher.pid!);
    assert.ok(child, 'the launcher re-ran the CLI as a child');
    launcher.stdout.resume();
    process.kill(launcher.pid!, 'SIGTERM');
    assert.deepEqual(await ended, { code: null, signal: 'SIGTERM' });
    const alive = (): boolean => existsSync(`/proc/${child}`) && !/^\S+ \(.*\) Z/s.test(readFileSync(`/proc/${child}/stat`, 'utf8'));
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(), false, 'the child ended with the launcher');
  });
});
