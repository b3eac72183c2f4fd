// What `agegender train` prints once the model folder is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { interruptedText, progressCallback, scoresText } from '../../src/cli/commands/train.js';
import { buildProgram } from '../../src/cli/main.js';
import { loadSplits } from '../../src/train/data.js';
import { tempDir } from '../helpers/tmp.js';

test('train --no-score says the model was not scored instead of printing {}', () => {
  const text = scoresText({ timingsSeconds: { total: 12 } });
  assert.notEqual(text.trim(), '{}');
  assert.match(text, /^not scored \(--no-score\)/);
});

test('train prints the val and test scores without their intervals', () => {
  const text = scoresText({ val: { mae: 4.39, ci: { mae: { low: 4.2, high: 4.5 } } }, test: { mae: 4.47 }, timingsSeconds: { total: 12 } });
  assert.deepEqual(JSON.parse(text), { val: { mae: 4.39 }, test: { mae: 4.47 } });
});

test('train: a log line is written after the progress bar is stopped, never beside it; the next batch starts a new bar', () => {
  const events: string[] = [];
  const makeBar = (label: string) => {
    events.push(`new ${label}`);
    return { update: (value: number, total?: number) => void events.push(`update ${value}/${total}`), stop: () => void events.push('stop') };
  };
  const progress = progressCallback(makeBar, (text) => void events.push(`write ${text}`));
  const batch = (b: number) => ({ stage: 2 as const, epoch: 1, batch: b, batches: 3, loss: 1, ageLoss: 0.5, genderLoss: 0.5, lr: 1e-3 });
  void progress.onEpochBegin?.({ stage: 2, epoch: 1, epochs: 4 });
  void progress.onBatchEnd?.(batch(1));
  void progress.onBatchEnd?.(batch(2));
  progress.log('checkpoint: {}');
  void progress.onBatchEnd?.(batch(3));
  progress.log('stage 2 epoch 1/4: loss 1');
  progress.log('another line');
  assert.deepEqual(events, ['new s2 e1/4', 'update 1/3', 'update 2/3', 'stop', 'write checkpoint: {}\n', 'new s2 e1/4', 'update 3/3', 'stop', 'write stage 2 epoch 1/4: loss 1\n', 'write another line\n']);
});

test('train interrupted: names the checkpoint kept and how to continue, or that there is none', (t) => {
  const dir = join(tempDir(t, 'agegender-interrupt-'), 'm-1234');
  assert.match(interruptedText(dir), /^interrupted before the first checkpoint: nothing to resume/);
  mkdirSync(dir);
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ version: 1, stage: 2, epoch: 3 }));
  assert.equal(interruptedText(dir), `interrupted: the checkpoint after stage 2 epoch 3 is kept in ${dir}; run the same command with --resume to continue from it`);
});

test('train --limit: val and test get N/4 rows, at least 8, as its help says', async (t) => {
  const dir = tempDir(t, 'agegender-train-limit-');
  const rows = ['train', 'val', 'test'].flatMap((split) =>
    Array.from({ length: 40 }, (_, i) => ({ source: `/in/${split}/${i}.jpg`, name: `${i}.jpg`, size: 1, sha256: null, phash: null, width: null, height: null, age: 20 + (i % 50), gender: i % 2 ? 'female' : 'male', ethnicity: 'White', datetime: null, status: 'kept', reason: '', cluster: null, duplicateOf: null, split })),
  );
  writeFileSync(join(dir, 'manifest.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const small = await loadSplits(dir, 4);
  assert.deepEqual([small.train.length, small.val.length, small.test.length], [4, 8, 8]);
  const large = await loadSplits(dir, 40);
  assert.deepEqual([large.val.length, large.test.length], [10, 10]);
  const program = await buildProgram();
  const trainCommand = program.commands.find((c) => c.name() === 'train')!;
  const limit = trainCommand.options.find((o) => o.long === '--limit')!;
  assert.match(trainCommand.createHelp().optionDescription(limit), /val and test: N\/4, at least 8/);
});
