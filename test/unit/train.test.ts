// Training: a smoke run on ~100 UTKFace chips, the NaN/inf guard, kill -9 then --resume.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../../src/core/errors.js';
import { initBackend } from '../../src/model/backend.js';
import { foldScales, loadFaceApiWeights, type CutPoint } from '../../src/model/encoder.js';
import { readModelFolder } from '../../src/model/io.js';
import { readState, readTensors } from '../../src/train/checkpoint.js';
import { loadModel } from '../../src/model/index.js';
import { nanGuard, type EpochLogs } from '../../src/train/callbacks.js';
import { ageBucket, balanceWeights, ethnicityAgeWeights, type TrainItem } from '../../src/train/data.js';
import { taskLosses, train, TRAIN_DEFAULTS } from '../../src/train/train.js';
import { checkOptions } from '../../src/train/options.js';
import { entryPath, sha256 } from '../../src/train/featureCache.js';
import { runTrain } from '../../src/cli/commands/train.js';
import { makeWorkspace, pickChips } from '../helpers/train-fixtures.js';
import { workspacePaths } from '../../src/workspace/layout.js';

// Shared across runs: the cache is keyed by content hash + encoder + cut point.
const CACHE = join(tmpdir(), 'agegender-test-feature-cache');

describe('train', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agegender-train-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('smoke: ~100 chips → a model folder that loads, with val/test metrics and a JSONL log', async () => {
    const ws = await makeWorkspace(join(dir, 'ws'), 100);
    const out = join(dir, 'model');
    const epochs: EpochLogs[] = [];
    const r = await train({ workspace: ws, out, cacheDir: CACHE, stage1Epochs: 8, epochs: 1, balance: true, log: () => {}, callbacks: [{ name: 'collect', onEpochEnd: (l) => void epochs.push(l) }] });
    assert.ok(epochs.some((e) => e.stage === 1) && epochs.some((e) => e.stage === 2));
    for (const e of epochs) assert.ok(Number.isFinite(e.ageLoss) && Number.isFinite(e.genderLoss));
    const s1 = epochs.filter((e) => e.stage === 1);
    assert.ok(s1.at(-1)!.loss < s1[0]!.loss, 'stage 1 loss goes down');
    const test = r.metrics['test'] as { mae: number; genderAccuracy: number; count: number };
    assert.equal(test.count, 20);
    assert.ok(test.mae < 20, `test MAE ${test.mae}`);
    for (const f of ['model.json', 'weights.bin', 'metadata.json', 'metrics.json']) assert.ok(existsSync(join(out, f)), f);
    const meta = JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(typeof meta['datasetManifestHash'], 'string');
    // inference settings chosen on val (both candidates scored and recorded), test scored with the choice
    const inference = meta['inference'] as { flipTta: boolean; chosenOn: string; candidates: Record<'none' | 'flip', { mae: number }> };
    assert.equal(typeof inference.flipTta, 'boolean');
    assert.equal(inference.flipTta, inference.candidates.flip.mae < inference.candidates.none.mae, 'the lower val MAE wins');
    const valCandidates = r.metrics['valCandidates'] as Record<'none' | 'flip', { count: number }>;
    assert.equal(valCandidates.none.count, valCandidates.flip.count);
    const log = (await readFile(join(workspacePaths(ws).checkpointDir(out), 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    assert.ok(log.some((l) => l.event === 'epochEnd') && log.some((l) => l.event === 'checkpoint'));
    const model = await loadModel(out);
    const p = await model.predict(pickChips(1)[0]!.source);
    assert.ok(p.age >= 0 && p.age <= 100);
    model.dispose();
  });

  for (const asked of [undefined, 'conv256_1', 'conv256_down'] as const) {
    const expected = asked ?? TRAIN_DEFAULTS.cutPoint;
    it(`cut point ${asked ?? '(default)'}: fine-tunes what follows ${expected} and the folder says so`, async () => {
      const ws = await makeWorkspace(join(dir, `ws-cut-${expected}`), 40);
      const out = join(dir, `model-cut-${expected}`);
      await train({ workspace: ws, out, cacheDir: CACHE, stage1Epochs: 2, epochs: 1, score: false, cutPoint: asked, log: () => {} });
      const { weights, cutPoint, metadata } = await readModelFolder(out);
      assert.equal(cutPoint, expected);
      assert.equal(metadata['cutPoint'], expected);
      tf.dispose(Object.values(weights));
      // the stage-2 checkpoint holds the weights it trained (the blocks after the cut), and they moved
      const ckpt = workspacePaths(ws).checkpointDir(out);
      const state = await readState(ckpt);
      assert.equal(state?.stage, 2);
      const current = await readTensors(join(ckpt, state!.folder, 'current'));
      assert.ok(current['conv256_2/conv1/conv/filters'], 'conv256_2 is trainable with every cut');
      assert.equal(current['conv128_2/conv1/conv/filters'], undefined, 'conv128_2 stays frozen');
      const trainedBlocks: Record<CutPoint, string[]> = { conv256_1: ['conv256_2'], conv256_down: ['conv256_1', 'conv256_2'], conv128_2: ['conv256_down', 'conv256_1', 'conv256_2'], conv128_1: ['conv128_2', 'conv256_down', 'conv256_1', 'conv256_2'] };
      const original = await loadFaceApiWeights();
      const folded = foldScales(original);
      for (const block of ['conv256_down', 'conv256_1', 'conv256_2']) {
        const name = `${block}/conv1/conv/filters`;
        if (!trainedBlocks[expected].includes(block)) {
          assert.equal(current[name], undefined, `${block} stays frozen`);
          continue;
        }
        assert.ok(current[name], `${block} is trainable`);
        const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(current[name]!, folded[name]!))).dataSync()[0]!);
        assert.ok(moved > 1e-5, `${block} moved by ${moved}`);
      }
      tf.dispose([...Object.values(original), ...Object.values(folded), ...Object.values(current)]);
    });
  }

  it('--jitter --photo-augment: trains on two cached jittered and two photo-like copies of each training chip (val chips get none) and records it', async () => {
    const ws = await makeWorkspace(join(dir, 'ws-jitter'), 30);
    const out = join(dir, 'model-jitter');
    const lines: string[] = [];
    await train({ workspace: ws, out, cacheDir: CACHE, stage1Epochs: 2, epochs: 1, score: false, jitter: true, photoAugment: true, log: (l) => void lines.push(l) });
    assert.ok(lines.some((l) => /features ready: 18 train .*all with 2 jittered copies and 2 photo-like copies/.test(l)), lines.join('\n'));
    type Meta = { training: { trainJitteredCopies: number; trainPhotoCopies: number; options: { jitter: { version: number }; photoAugment: { version: number; alignerError: { degrees: { sd: number } } } } } };
    const meta = JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8')) as Meta;
    assert.equal(meta.training.trainJitteredCopies, 2);
    assert.equal(meta.training.trainPhotoCopies, 2);
    assert.equal(meta.training.options.jitter.version, 1);
    assert.equal(meta.training.options.photoAugment.version, 1);
    assert.ok(meta.training.options.photoAugment.alignerError.degrees.sd > 0, 'the aligner error it drew from is recorded');
    const manifest = (await readFile(join(ws, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { source: string; split: string });
    for (const row of manifest.filter((r) => r.split !== 'test')) {
      const hash = sha256(await readFile(row.source));
      assert.equal(existsSync(entryPath(CACHE, hash, TRAIN_DEFAULTS.cutPoint, 'jitter')), row.split === 'train', `${row.split} chip ${row.source}`);
      assert.equal(existsSync(entryPath(CACHE, hash, TRAIN_DEFAULTS.cutPoint, 'photo')), row.split === 'train', `${row.split} chip ${row.source} (photo copies)`);
    }
    // a checkpoint made without jitter is not resumed with it
    await train({ workspace: ws, out: join(dir, 'model-jitter-2'), cacheDir: CACHE, stage1Epochs: 1, epochs: 0, score: false, log: () => {} });
    await assert.rejects(
      train({ workspace: ws, out: join(dir, 'model-jitter-2'), cacheDir: CACHE, stage1Epochs: 1, epochs: 0, score: false, jitter: true, resume: true, log: () => {} }),
      (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /other options/.test(e.message),
    );
  });

  it('--consistency: stage 2 sees each chip twice (half as many per step) and records the weight', async () => {
    const ws = await makeWorkspace(join(dir, 'ws-jitter'), 30);
    const out = join(dir, 'model-consistency');
    const batches = new Map<number, number>();
    const losses: number[] = [];
    const apart: Array<number | undefined> = [];
    const lines: string[] = [];
    type Logs = { stage: number; batches: number; loss: number; consistencyLoss?: number };
    const counter = { name: 'count', onBatchEnd: (l: Logs) => { batches.set(l.stage, l.batches); if (l.stage === 2) losses.push(l.loss); apart.push(l.consistencyLoss); } };
    await train({ workspace: ws, out, cacheDir: CACHE, stage1Epochs: 1, epochs: 1, batchSize: 8, score: false, photoAugment: true, consistency: 1, callbacks: [counter], log: (line) => lines.push(line) });
    // 18 training chips: 4 per stage-2 step (each twice) → 5 steps, where 8 per step would take 3
    assert.equal(batches.get(2), 5);
    assert.ok(losses.length === 5 && losses.every(Number.isFinite), losses.join(', '));
    // the consistency term is reported apart from the task losses, in stage 2 only
    const [stage1, stage2] = [apart.slice(0, apart.length - 5), apart.slice(-5)];
    assert.ok(stage1.every((c) => c === undefined), 'no consistency loss in stage 1');
    assert.ok(stage2.every((c) => c !== undefined && Number.isFinite(c) && c >= 0), stage2.join(', '));
    assert.ok(lines.some((l) => /^stage 2 epoch 1\/1: .*, consistency \d+\.\d{4}\)/.test(l)), lines.join('\n'));
    type Meta = { training: { loss: string; options: { consistency: number }; history: Array<{ stage: number; consistencyLoss?: number }> } };
    const meta = JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8')) as Meta;
    assert.equal(meta.training.options.consistency, 1);
    assert.match(meta.training.loss, /1 × consistency/);
    assert.ok(meta.training.history.filter((h) => h.stage === 2).every((h) => typeof h.consistencyLoss === 'number'), 'the epoch history keeps it');
  });

  it('NaN guard: a loss that is not finite throws TRAINING_DIVERGED', async () => {
    const guard = nanGuard();
    assert.throws(() => guard.onBatchEnd!({ stage: 2, epoch: 1, batch: 3, batches: 9, loss: NaN, ageLoss: 1, genderLoss: 1, lr: 1e-3 }), (e: unknown) => e instanceof AgeGenderError && e.code === 'TRAINING_DIVERGED' && /stage 2 epoch 1 batch 3/.test(e.message));
    assert.throws(() => guard.onBatchEnd!({ stage: 1, epoch: 1, batch: 1, batches: 1, loss: 1, ageLoss: Infinity, genderLoss: 1, lr: 1e-3 }), (e: unknown) => e instanceof AgeGenderError && e.code === 'TRAINING_DIVERGED');
    // and end to end: an absurd learning rate blows the weights up
    const ws = await makeWorkspace(join(dir, 'ws-nan'), 30);
    await assert.rejects(
      train({ workspace: ws, out: join(dir, 'nan-model'), cacheDir: CACHE, stage1Epochs: 5, epochs: 0, stage1Lr: 1e30, score: false, log: () => {} }),
      (e: unknown) => e instanceof AgeGenderError && e.code === 'TRAINING_DIVERGED',
    );
  });

  it('CLI options are checked before any work', async () => {
    const base = { workspace: join(dir, 'none'), out: join(dir, 'none-model'), epochs: '1', stage1Epochs: '1', seed: '1', score: false };
    await assert.rejects(runTrain({ ...base, epochs: '-1' }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.includes('--epochs'));
    await assert.rejects(runTrain({ ...base, limit: 'lots' }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.includes('--limit'));
    await assert.rejects(runTrain({ ...base, labelSigma: '0' }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.includes('--label-sigma'));
    await assert.rejects(runTrain({ ...base, labelSigmaSlope: '2' }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.includes('--label-sigma-slope'));
    await assert.rejects(train({ workspace: base.workspace, out: base.out, labelSigmaSlope: -0.1 }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /labelSigmaSlope/.test(e.message));
    await assert.rejects(train({ workspace: base.workspace, out: base.out, cutPoint: 'conv64_1' as never }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /conv256_1, conv256_down, conv128_2/.test(e.message));
    await assert.rejects(train({ workspace: base.workspace, out: base.out, ageLoss: 'mse' as never }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /kl\+l1, kl, l1 for ageLoss/.test(e.message));
    await assert.rejects(runTrain(base), (e: unknown) => e instanceof AgeGenderError && e.code === 'WORKSPACE_INVALID');
    assert.equal(existsSync(join(dir, 'none')), false, 'nothing written for a missing workspace');
  });

  it('age losses: kl+l1 is the sum of its two terms; kl is 0 for a prediction equal to the label distribution, l1 for one whose mean is the age', async () => {
    await initBackend();
    const ages = [30, 60]; // far from the ends, where the truncated label distribution is symmetric
    const target = tf.tensor2d(ages.flatMap((a) => Array.from({ length: 101 }, (_, b) => Math.exp(-((b - a) ** 2) / 8))), [2, 101]);
    const targetP = tf.div(target, tf.sum(target, 1, true)) as tf.Tensor2D;
    const args = [tf.tensor1d(ages), tf.tensor1d([0, 1]), tf.tensor1d([1, 1]), 10] as const;
    const out = (ageLogits: tf.Tensor2D) => ({ ageLogits, genderLogits: tf.tensor2d([[2, -1], [0, 1]]) });
    const value = (l: tf.Scalar): number => l.dataSync()[0]!;
    const random = out(tf.randomNormal([2, 101], 0, 1, 'float32', 3) as tf.Tensor2D);
    const [both, kl, l1] = (['kl+l1', 'kl', 'l1'] as const).map((loss) => taskLosses(random, targetP, ...args, loss));
    assert.ok(Math.abs(value(both!.age) - value(kl!.age) - value(l1!.age)) < 1e-4);
    assert.ok(value(kl!.age) > 0.1 && value(l1!.age) > 0.01);
    assert.equal(value(both!.gender), value(kl!.gender), 'the gender loss does not depend on the age loss');
    // a prediction equal to the (symmetric) label distribution: KL 0 and its mean is the age, so L1 ≈ 0 too
    const exact = out(tf.log(tf.add(targetP, 1e-30)) as tf.Tensor2D);
    assert.ok(value(taskLosses(exact, targetP, ...args, 'kl').age) < 1e-4);
    assert.ok(value(taskLosses(exact, targetP, ...args, 'l1').age) < 1e-3);
    // all mass on the right age but a wrong shape: L1 0, KL not
    const spike = out(tf.tensor2d(ages.flatMap((a) => Array.from({ length: 101 }, (_, b) => (b === a ? 50 : 0))), [2, 101]));
    assert.ok(value(taskLosses(spike, targetP, ...args, 'l1').age) < 1e-4);
    assert.ok(value(taskLosses(spike, targetP, ...args, 'kl').age) > 0.5);
  });

  it('--balance weights have mean 1 and favour rare strata', () => {
    const items = [
      ...Array.from({ length: 30 }, () => ({ source: '', hash: undefined, age: 25, gender: 'male' as const, ethnicity: 'White' as const })),
      { source: '', hash: undefined, age: 80, gender: 'female' as const, ethnicity: 'Indian' as const },
    ];
    const w = balanceWeights(items);
    assert.ok(Math.abs(w.reduce((s, v) => s + v, 0) / w.length - 1) < 1e-5);
    assert.ok(w[30]! > w[0]!);
  });

  it('--ethnicity-age-balance gives every ethnicity the overall age distribution and keeps the ethnicity mix', () => {
    const item = (age: number, ethnicity: TrainItem['ethnicity']): TrainItem => ({ source: '', hash: undefined, age, gender: 'male', ethnicity });
    // Asian faces mostly young, White faces mostly adult: ethnicity is a prior on age
    const items = [
      ...Array.from({ length: 40 }, () => item(5, 'Asian')),
      ...Array.from({ length: 10 }, () => item(45, 'Asian')),
      ...Array.from({ length: 10 }, () => item(5, 'White')),
      ...Array.from({ length: 40 }, () => item(45, 'White')),
    ];
    const w = ethnicityAgeWeights(items);
    assert.ok(Math.abs(w.reduce((s, v) => s + v, 0) / w.length - 1) < 1e-5);
    const mass = (pred: (it: TrainItem) => boolean): number => items.reduce((s, it, i) => s + (pred(it) ? w[i]! : 0), 0);
    // after weighting, both ethnicities are half children, half adults (the overall 50/50), and still 50/50 by ethnicity
    for (const e of ['Asian', 'White'] as const) {
      const adults = mass((it) => it.ethnicity === e && ageBucket(it.age) === ageBucket(45)) / mass((it) => it.ethnicity === e);
      assert.ok(Math.abs(adults - 0.5) < 1e-6, `${e}: ${adults}`);
    }
    assert.ok(Math.abs(mass((it) => it.ethnicity === 'Asian') / w.length - 0.5) < 1e-6);
    assert.ok(w[40]! > w[0]!, 'Asian adults weigh more than Asian children');
    assert.throws(() => checkOptions({ workspace: 'w', out: 'o', balance: true, ethnicityAgeBalance: true }), /at most one of balance and ethnicityAgeBalance/);
  });

  it('kill -9 after the first checkpoint, then resume continues from it', async () => {
    const ws = await makeWorkspace(join(dir, 'ws-kill'), 40);
    const out = join(dir, 'kill-model');
    const ckpt = workspacePaths(ws).checkpointDir(out);
    const state = join(ckpt, 'state.json');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/train-child.ts', ws, out, CACHE], { stdio: 'ignore' });
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    for (let i = 0; i < 2400 && !existsSync(state); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(state), 'a checkpoint appeared');
    child.kill('SIGKILL');
    await exited;
    assert.equal(existsSync(join(out, 'model.json')), false, 'killed before the model was saved');
    const before = JSON.parse(await readFile(state, 'utf8')) as { stage: number; epoch: number; stage1Done: boolean };
    const resumed = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/train-child.ts', ws, out, CACHE, 'resume'], { stdio: 'inherit' });
    const code = await new Promise<number | null>((res) => resumed.once('exit', (c) => res(c)));
    assert.equal(code, 0);
    const log = (await readFile(join(ckpt, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const resume = log.find((l) => l['event'] === 'resume');
    assert.ok(resume, 'a resume event was logged');
    const expectStage = before.stage === 1 && before.stage1Done ? 2 : before.stage;
    const expectEpoch = before.stage === 1 && before.stage1Done ? 1 : before.epoch + 1;
    assert.equal(resume['stage'], expectStage);
    assert.equal(resume['fromEpoch'], expectEpoch);
    // after the resume, the first epoch trained is exactly the one after the checkpoint
    const afterResume = log.slice(log.indexOf(resume)).filter((l) => l['event'] === 'epochEnd');
    assert.ok(afterResume.length > 0);
    assert.equal(afterResume[0]!['stage'], expectStage);
    assert.equal(afterResume[0]!['epoch'], expectEpoch);
    assert.ok(existsSync(join(out, 'model.json')), 'the resumed run saved the model');
  });
});
