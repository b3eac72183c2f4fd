// Commands that write check their destination before the work: train --out, tune --evaluation and
// queue results --out fail at once with INVALID_ARGUMENT naming the path given (a file where a folder
// is wanted, or a folder that cannot be written: /sys refuses new files even to root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgeGenderError } from '../../src/core/errors.js';
import { train } from '../../src/train/train.js';
import { runTune } from '../../src/cli/commands/tune.js';
import { writeQueueResults } from '../../src/queue/results.js';
import { tempDir } from '../helpers/tmp.js';

const invalid = (path: string, reason: RegExp) => (e: unknown) => {
  assert.ok(e instanceof AgeGenderError, String(e));
  assert.equal(e.code, 'INVALID_ARGUMENT', e.message);
  assert.ok(e.message.startsWith(`${path}: `), e.message);
  assert.match(e.message, reason);
  return true;
};

test('train --out is checked before any work (the workspace is not even read)', async (t) => {
  const root = tempDir(t, 'agegender-out-train-');
  const file = join(root, 'model.txt');
  writeFileSync(file, 'x');
  const workspace = join(root, 'no-workspace');
  await assert.rejects(train({ workspace, out: file, log: () => {} }), invalid(file, /is a file/));
  await assert.rejects(train({ workspace, out: '/sys/m', log: () => {} }), invalid('/sys/m', /cannot write in \/sys/));
  assert.deepEqual(readdirSync(root), ['model.txt']);
});

test('tune --evaluation is checked before scoring', async (t) => {
  const root = tempDir(t, 'agegender-out-tune-');
  const file = join(root, 'eval.txt');
  writeFileSync(file, 'x');
  const workspace = join(root, 'no-workspace');
  await assert.rejects(runTune({ workspace, evaluation: file }, [], () => {}), invalid(file, /is a file/));
  await assert.rejects(runTune({ workspace, evaluation: '/sys/eval' }, [], () => {}), invalid('/sys/eval', /cannot write in \/sys/));
});

test('queue results --out is checked before connecting, naming the path given (not its temp file)', async () => {
  // nothing listens on port 1: without the check this would fail on the connection instead
  await assert.rejects(writeQueueResults({ redis: 'redis://127.0.0.1:1', out: '/sys/q.csv' }), invalid('/sys/q.csv', /cannot write in \/sys/));
  await assert.rejects(writeQueueResults({ redis: 'redis://127.0.0.1:1', out: '/tmp' }), invalid('/tmp', /folder/));
});
