// The benches' option checks: counts and dataset paths fail with a message naming the option or path.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { countOption, existingPath } from '../../bench/args.js';

describe('bench countOption', () => {
  it('passes a count through and leaves an absent option undefined', () => {
    assert.equal(countOption('24', '--limit'), 24);
    assert.equal(countOption('0', '--chips', 0), 0);
    assert.equal(countOption(undefined, '--limit'), undefined);
  });

  it('rejects text, fractions, zero and empty values, naming the option', () => {
    assert.throws(() => countOption('abc', '--limit'), { message: 'Expected positive integer for --limit but received "abc" of type string' });
    assert.throws(() => countOption('2.5', '--workers'), { message: 'Expected positive integer for --workers but received "2.5" of type string' });
    assert.throws(() => countOption('0', '--workers'), { message: 'Expected positive integer for --workers but received "0" of type string' });
    assert.throws(() => countOption('', '--limit'), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => countOption('-1', '--chips', 0), { message: 'Expected non-negative integer for --chips but received "-1" of type string' });
  });
});

describe('bench existingPath', () => {
  it('names a missing folder, a file given for a folder, and a missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-args-'));
    try {
      const file = join(dir, 'labels.csv');
      await writeFile(file, 'file,age\n');
      assert.equal(existingPath(dir, 'photo folder (--dir)'), dir);
      assert.equal(existingPath(file, 'labels (--labels)', 'file'), file);
      assert.throws(() => existingPath(join(dir, 'photos'), 'photo folder (--dir)'), { message: `${join(dir, 'photos')}: photo folder (--dir): no such folder` });
      assert.throws(() => existingPath(file, 'photo folder (--dir)'), { message: `${file}: photo folder (--dir): not a folder` });
      assert.throws(() => existingPath(dir, 'labels (--labels)', 'file'), { message: `${dir}: labels (--labels): not a file` });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bench benchOptions', () => {
  const bench = (...args: string[]) =>
    spawnSync(process.execPath, ['--conditions=agegender-source', '--import', 'tsx', 'bench/decode.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('refuses an unknown option with one line and the usage, exit 2, no stack trace', () => {
    const r = bench('--limit', '5');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^bench:decode: Unknown option '--limit'/);
    assert.match(r.stderr, /Usage: npm run bench:decode/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(r.stdout, '');
  });

  it('prints the usage for --help and exits 0 without running the bench', () => {
    const r = bench('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: npm run bench:decode/);
    assert.doesNotMatch(r.stdout, /\| picture \|/);
  });
});
