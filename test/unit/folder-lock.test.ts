// One run at a time per output folder (core/folder-lock.ts): a second run is refused naming the
// folder and the holder's pid, a lock left by a process that is gone is taken over, the lock is
// released when the run ends, normally or with an error; train and prepare take it.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { AgeGenderError } from '../../src/core/errors.js';
import { lockFolder, lockPathOf, withFolderLock } from '../../src/core/folder-lock.js';
import { prepare } from '../../src/data/prepare.js';
import { train } from '../../src/train/train.js';
import { makeWorkspace } from '../helpers/train-fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const inUse = (folder: string, pid: number) => (e: unknown) =>
  e instanceof AgeGenderError && e.code === 'OUTPUT_IN_USE' && e.subject === folder && e.message.startsWith(`${folder}: another run is writing here: process ${pid} (`) && e.message.includes(`holds ${lockPathOf(folder)}`);

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('lockFolder', () => {
  it('refuses a second run on the same folder, naming the folder and the pid that holds it; released, it can be taken again', async (t) => {
    const out = join(tempDir(t, 'agegender-lock-'), 'model');
    const lock = await lockFolder(out, 'agegender train');
    assert.equal(lock.path, `${out}.lock`);
    assert.equal(lock.tookOver, null);
    const recorded = JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number; command: string };
    assert.equal(recorded.pid, process.pid);
    assert.equal(recorded.command, 'agegender train');
    await assert.rejects(lockFolder(out, 'agegender train'), inUse(out, process.pid));
    await assert.rejects(lockFolder(`${out}/`, 'agegender train'), (e: unknown) => e instanceof AgeGenderError && e.code === 'OUTPUT_IN_USE', 'the same folder written another way');
    await lock.release();
    assert.equal(existsSync(lock.path), false);
    const again = await lockFolder(out, 'agegender train');
    await again.release();
    assert.deepEqual(readdirSync(join(out, '..')), [], 'nothing left beside the folder');
  });

  it('takes over a lock left by a process that no longer runs; the old holder cannot release the new lock', async (t) => {
    const out = join(tempDir(t, 'agegender-lock-'), 'ws');
    const pid = await deadPid();
    await writeFile(lockPathOf(out), JSON.stringify({ pid, hostname: hostname(), command: 'agegender prepare', startedAt: '2026-01-01T00:00:00.000Z', token: 'old' }));
    const lock = await lockFolder(out, 'agegender prepare');
    assert.equal(lock.tookOver?.pid, pid);
    assert.equal((JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number }).pid, process.pid);
    assert.deepEqual(readdirSync(join(out, '..')), ['ws.lock'], 'the stale lock is gone, no temporary file left');
    await lock.release();
    assert.equal(existsSync(lock.path), false);
  });

  it('a lock held on another host is not taken over (its process cannot be checked); a file that is not a lock is not removed', async (t) => {
    const out = join(tempDir(t, 'agegender-lock-'), 'model');
    await writeFile(lockPathOf(out), JSON.stringify({ pid: 1234, hostname: 'elsewhere', command: 'agegender train', startedAt: '2026-01-01T00:00:00.000Z', token: 'x' }));
    await assert.rejects(lockFolder(out, 'agegender train'), (e: unknown) => inUse(out, 1234)(e) && (e as Error).message.includes('on host elsewhere'));
    await writeFile(lockPathOf(out), 'notes');
    await assert.rejects(lockFolder(out, 'agegender train'), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${out}: ${lockPathOf(out)} is in the way: it is not a lock file of agegender; delete it if no run is writing here`);
    assert.equal(readFileSync(lockPathOf(out), 'utf8'), 'notes');
  });

  it('withFolderLock releases the lock when the work ends, normally or with an error', async (t) => {
    const out = join(tempDir(t, 'agegender-lock-'), 'model');
    assert.equal(await withFolderLock(out, 'test', async (lock) => (existsSync(lock.path) ? 'held' : 'not held')), 'held');
    assert.equal(existsSync(lockPathOf(out)), false);
    await assert.rejects(withFolderLock(out, 'test', async () => Promise.reject(new Error('failed midway'))), /failed midway/);
    assert.equal(existsSync(lockPathOf(out)), false);
  });

  it('a lock held by another process refuses this one; once that process is killed (-9) its lock is taken over', async (t) => {
    const out = join(tempDir(t, 'agegender-lock-'), 'model');
    const module = fileURLToPath(new URL('../../src/core/folder-lock.ts', import.meta.url));
    const script = `const { lockFolder } = await import(${JSON.stringify(module)}); await lockFolder(${JSON.stringify(out)}, 'agegender train'); console.log('locked'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', () => reject(new Error('the child ended before taking the lock')));
    });
    await assert.rejects(lockFolder(out, 'agegender train'), inUse(out, child.pid!));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await delay(50);
    const lock = await lockFolder(out, 'agegender train');
    assert.equal(lock.tookOver?.pid, child.pid);
    await lock.release();
  });
});

describe('train and prepare lock their output folder', () => {
  it('train on an --out another run holds is refused at once, nothing written; a run that ends, normally or with an error, releases it', async (t) => {
    const root = tempDir(t, 'agegender-lock-train-');
    const ws = await makeWorkspace(join(root, 'ws'), 20);
    const out = join(root, 'model');
    const options = { workspace: ws, out, cacheDir: join(root, 'cache'), stage1Epochs: 1, epochs: 0, score: false, log: () => {} };
    const other = await lockFolder(out, 'agegender train');
    await assert.rejects(train(options), inUse(out, process.pid));
    assert.equal(existsSync(join(ws, 'checkpoints')), false, 'no checkpoint written');
    assert.equal(existsSync(join(root, 'cache')), false, 'no feature written');
    await other.release();
    await assert.rejects(train({ ...options, log: (line) => { if (line.startsWith('backend:')) throw new Error('failed midway'); } }), /failed midway/);
    assert.equal(existsSync(lockPathOf(out)), false, 'released on an error');
    await train(options);
    assert.equal(existsSync(join(out, 'model.json')), true);
    assert.deepEqual(readdirSync(root).sort(), ['cache', 'model', 'ws'], 'released at the end: no lock left beside the model');
  });

  it('prepare on a workspace another run holds is refused at once; the lock is released at the end', async (t) => {
    const root = tempDir(t, 'agegender-lock-prepare-');
    const images = join(root, 'images');
    await mkdir(images);
    const workspace = join(root, 'ws');
    const other = await lockFolder(workspace, 'agegender prepare');
    await assert.rejects(prepare({ inputs: [images], workspace }), inUse(workspace, process.pid));
    assert.equal(existsSync(workspace), false, 'nothing written');
    await other.release();
    await assert.rejects(prepare({ inputs: [images], workspace }), /no images found/);
    assert.deepEqual(readdirSync(root).sort(), ['images'], 'released on an error');
  });
});
