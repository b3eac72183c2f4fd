// Where `train` may write its model folder, and what it says about a checkpoint it will not use.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { removeStaleTempDirs } from '../../src/core/atomic.js';
import { AgeGenderError } from '../../src/core/errors.js';
import { defaultModelDir } from '../../src/model/folder.js';
import { CHECKPOINT_VERSION } from '../../src/train/checkpoint.js';
import { checkReplaceable, checkTrainOut } from '../../src/train/out-folder.js';
import { resolveOptions, resumeKey } from '../../src/train/options.js';
import { checkResumable, openCheckpoints } from '../../src/train/resume.js';
import { train } from '../../src/train/train.js';
import { makeWorkspace } from '../helpers/train-fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const refused = (pattern: RegExp) => (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message);

describe('train --out', () => {
  it('never writes over the shipped model folder, and says so before any work', async (t) => {
    const ws = await makeWorkspace(join(tempDir(t, 'agegender-train-out-'), 'ws'), 10);
    const before = statSync(join(defaultModelDir(), 'weights.bin')).mtimeMs;
    await assert.rejects(train({ workspace: ws, out: defaultModelDir(), epochs: 0, stage1Epochs: 1, score: false, log: () => {} }), refused(/shipped model folder/));
    await assert.rejects(train({ workspace: ws, out: `${defaultModelDir()}/`, epochs: 0, stage1Epochs: 1, score: false, log: () => {} }), refused(/shipped model folder/));
    assert.equal(statSync(join(defaultModelDir(), 'weights.bin')).mtimeMs, before);
    assert.equal(existsSync(join(ws, 'checkpoints')), false, 'nothing written in the workspace');
  });

  it('refuses the workspace itself, a folder holding it, and the folders other steps own; a folder of its own inside it is fine', async (t) => {
    const root = tempDir(t, 'agegender-train-out-');
    const ws = join(root, 'ws');
    await mkdir(ws);
    assert.throws(() => checkTrainOut(ws, ws), refused(/the workspace .* is this folder/));
    assert.throws(() => checkTrainOut(root, ws), refused(/the workspace .* is inside it/));
    for (const owned of ['cache', 'cache/features/m', 'checkpoints/m', 'evaluation', 'splits/train']) {
      assert.throws(() => checkTrainOut(join(ws, owned), ws), refused(/inside the workspace's \w+ folder/), owned);
    }
    checkTrainOut(join(ws, 'exp', 'm'), ws);
    checkTrainOut(join(ws, 'model'), ws);
    checkTrainOut(join(root, 'models', 'm'), ws);
    checkTrainOut(join(root, 'ws-other'), ws);
  });
});

describe('train writes the model folder as a whole', () => {
  it('a run that fails while scoring leaves the previous model folder as it was, and no temporary folder', async (t) => {
    const root = tempDir(t, 'agegender-train-atomic-');
    const ws = await makeWorkspace(join(root, 'ws'), 20);
    const out = join(root, 'model');
    await mkdir(out);
    for (const f of ['model.json', 'weights.bin', 'metadata.json', 'metrics.json']) await writeFile(join(out, f), `old ${f}`);
    const options = { workspace: ws, out, cacheDir: join(root, 'cache'), stage1Epochs: 1, epochs: 0, score: true };
    const failScoring = (line: string): void => {
      if (line.startsWith('val, no TTA')) throw new Error('killed while scoring');
    };
    await assert.rejects(train({ ...options, log: failScoring }), /killed while scoring/);
    for (const f of ['model.json', 'weights.bin', 'metadata.json', 'metrics.json']) assert.equal(readFileSync(join(out, f), 'utf8'), `old ${f}`, f);
    assert.deepEqual(readdirSync(root).sort(), ['cache', 'model', 'ws']);
    const r = await train({ ...options, log: () => {} });
    const metadata = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')) as { inference?: unknown; metrics: Record<string, unknown> };
    assert.ok(metadata.inference !== undefined && metadata.metrics['val'] !== undefined, 'scored and recorded');
    assert.deepEqual(metadata.metrics['val'], r.metrics['val']);
    assert.deepEqual(readdirSync(root).sort(), ['cache', 'model', 'ws']);
    assert.deepEqual(readdirSync(out).sort(), ['LICENSE-face-api', 'metadata.json', 'metrics.json', 'model.json', 'weights.bin'], "the encoder weights' licence travels with the trained model");
    assert.equal(readFileSync(join(out, 'LICENSE-face-api'), 'utf8'), readFileSync(join(defaultModelDir(), 'LICENSE-face-api'), 'utf8'));
    await train({ ...options, log: () => {} }); // a folder train made (with its licence) is replaceable
  });

  it('removes the build folders a killed run left beside the model folder, and only those', async (t) => {
    const root = tempDir(t, 'agegender-train-stale-');
    const names = ['model', 'model.tmp-999999999-abcdef12', `model.tmp-${process.pid}-abcdef12`, 'model.old-999999999-abcdef12', 'model.tmp-notes', 'other.tmp-999999999-abcdef12'];
    for (const n of names) await mkdir(join(root, n));
    assert.deepEqual(await removeStaleTempDirs(join(root, 'model')), [join(root, 'model.tmp-999999999-abcdef12')]);
    assert.deepEqual(readdirSync(root).sort(), names.filter((n) => n !== 'model.tmp-999999999-abcdef12').sort());
  });

  it('refuses an existing folder that holds other files (they would be replaced with it)', async (t) => {
    const out = tempDir(t, 'agegender-train-out-');
    await writeFile(join(out, 'model.json'), '{}');
    checkReplaceable(out);
    checkReplaceable(join(out, 'new'));
    await writeFile(join(out, 'notes.txt'), 'mine');
    assert.throws(() => checkReplaceable(out), refused(/the folder holds notes\.txt, which are not model files/));
  });
});

describe('train checkpoints', () => {
  const state = { version: CHECKPOINT_VERSION, stage: 2 as const, epoch: 3, stage1Done: true, bestValMae: 5, bestEpoch: 3, optimizerStep: 9, folder: 'ckpt-s2-e3-1', optionsKey: JSON.stringify({ limit: null, balance: false, seed: 42, epochs: 6 }), history: [], startedAt: '', elapsedSeconds: {} };

  it('a fresh run says it discards the checkpoint an earlier run left', async (t) => {
    const dir = join(tempDir(t, 'agegender-ckpt-'), 'm-1234');
    await mkdir(dir);
    await writeFile(join(dir, 'state.json'), JSON.stringify(state));
    const lines: string[] = [];
    assert.equal(await openCheckpoints(dir, false, (l) => lines.push(l)), null);
    assert.equal(existsSync(join(dir, 'state.json')), false);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /discarding the checkpoint of an earlier run in .*m-1234 \(it had reached stage 2 epoch 3; --resume continues/);
    const quiet: string[] = [];
    await openCheckpoints(dir, false, (l) => quiet.push(l));
    assert.deepEqual(quiet, [], 'nothing to say about an empty folder');
  });

  it('--resume with other options names each option that differs', () => {
    const key = JSON.stringify({ limit: 100, balance: true, seed: 42, epochs: 6 });
    assert.throws(() => checkResumable(state, key, '/ws/checkpoints/m-1234'), (e: unknown) => {
      assert.ok(e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT');
      assert.match(e.message, /: limit null → 100, balance false → true;/);
      assert.doesNotMatch(e.message, /seed|epochs/);
      return true;
    });
    checkResumable(state, state.optionsKey, '/ws/checkpoints/m-1234');
  });

  it('a checkpoint made with another weight decay or patience is not resumed (library options); default runs keep their key', () => {
    const base = { workspace: 'ws', out: 'm' };
    const plain = resumeKey(resolveOptions(base), 'h');
    assert.equal(resumeKey(resolveOptions({ ...base, weightDecay: 0.01, patience: 2 }), 'h'), plain);
    assert.doesNotMatch(plain, /weightDecay|patience/);
    for (const changed of [{ weightDecay: 0.05 }, { patience: 4 }]) {
      const key = resumeKey(resolveOptions({ ...base, ...changed }), 'h');
      assert.notEqual(key, plain, JSON.stringify(changed));
      assert.throws(() => checkResumable({ ...state, optionsKey: plain }, key, '/ws/checkpoints/m-1234'), refused(new RegExp(`${Object.keys(changed)[0]} \\(default\\) → ${Object.values(changed)[0]}`)));
    }
  });
});
