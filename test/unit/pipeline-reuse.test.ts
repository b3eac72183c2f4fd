// When `agegender pipeline` reuses a model folder (same manifest AND same training options) and when
// its training run resumes a checkpoint (same options and manifest, no --retrain) or starts afresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKPOINT_VERSION } from '../../src/train/checkpoint.js';
import { trainingOptionsToRecord } from '../../src/train/metadata.js';
import { resolveOptions } from '../../src/train/options.js';
import { changedTrainingOptions, resumeCheckpoint } from '../../src/workflow/pipeline.js';

test('changedTrainingOptions: names each option in which the model folder differs from this run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-reuse-'));
  try {
    const trained = resolveOptions({ workspace: 'w', out: dir, epochs: 30, seed: 42, balance: false });
    const { seed, balance, ethnicityAgeBalance, limit, ...options } = trainingOptionsToRecord(trained);
    await writeFile(join(dir, 'metadata.json'), JSON.stringify({ datasetManifestHash: 'abc', training: { seed, balance, ethnicityAgeBalance, limit, trainCount: 10, options } }));
    assert.deepEqual(changedTrainingOptions(dir, trained), [], 'the same options: reusable');
    const changed = changedTrainingOptions(dir, resolveOptions({ workspace: 'w', out: dir, epochs: 2, seed: 42, balance: true, limit: 100 }));
    assert.deepEqual(changed, ['balance (model: false, now: true)', 'limit (model: null, now: 100)', 'epochs (model: 30, now: 2)']);
    await writeFile(join(dir, 'metadata.json'), JSON.stringify({ datasetManifestHash: 'abc' }));
    assert.ok(changedTrainingOptions(dir, trained).includes('seed (model: not recorded, now: 42)'), 'a folder recording no options is not reused');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('resumeCheckpoint: resumes only a checkpoint made with the same key and without --retrain', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-ckpt-'));
  try {
    const lines: string[] = [];
    const log = (l: string): void => void lines.push(l);
    const ckpt = join(dir, 'checkpoints', 'model-0123abcd');
    assert.equal(await resumeCheckpoint(ckpt, 'k1', false, log), false, 'no checkpoint: fresh');
    await mkdir(ckpt, { recursive: true });
    await writeFile(join(ckpt, 'state.json'), JSON.stringify({ version: CHECKPOINT_VERSION, stage: 1, epoch: 1, stage1Done: false, optionsKey: 'k1' }));
    assert.equal(await resumeCheckpoint(ckpt, 'k1', false, log), true, 'same options and manifest: resume');
    assert.equal(await resumeCheckpoint(ckpt, 'k2', false, log), false, 'other options: fresh, not the stale-checkpoint error');
    assert.match(lines.at(-1)!, /discarding the checkpoint in .*model-0123abcd: it was made with other training options/);
    assert.equal(await resumeCheckpoint(ckpt, 'k1', true, log), false, '--retrain: fresh');
    assert.match(lines.at(-1)!, /--retrain: discarding the checkpoint/);
    await writeFile(join(ckpt, 'state.json'), JSON.stringify({ version: CHECKPOINT_VERSION + 1, optionsKey: 'k1' }));
    assert.equal(await resumeCheckpoint(ckpt, 'k1', false, log), false, 'an unreadable checkpoint is discarded');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
