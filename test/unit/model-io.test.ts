// Model folder: save → load round trip, and clear errors for a missing file or another format version.
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgeGenderError } from '../../src/core/errors.js';
import { initBackend } from '../../src/model/backend.js';
import { loadFaceApiWeights } from '../../src/model/encoder.js';
import { loadModel } from '../../src/model/index.js';
import { FORMAT_VERSION, saveModel } from '../../src/model/io.js';
import { AgeGenderNet } from '../../src/model/net.js';
import { pickChips } from '../helpers/train-fixtures.js';

describe('model folder', () => {
  let dir: string;
  let good: string;
  before(async () => {
    await initBackend();
    dir = await mkdtemp(join(tmpdir(), 'agegender-model-io-'));
    good = join(dir, 'good');
    const w = await loadFaceApiWeights();
    const net = new AgeGenderNet(w, { seed: 3 });
    for (const t of Object.values(w)) t.dispose();
    await saveModel(net, good, { formatVersion: FORMAT_VERSION, name: 'untrained', encoder: 'x', inputSize: 150, createdAt: new Date(0).toISOString(), command: 'test', datasetManifestHash: null, metrics: {} });
    net.dispose();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('model.json records the label width the weights were trained with', async () => {
    const topologyOf = async (folder: string): Promise<Record<string, unknown>> => (JSON.parse(await readFile(join(folder, 'model.json'), 'utf8')) as { modelTopology: Record<string, unknown> }).modelTopology;
    const plain = await topologyOf(good);
    assert.equal(plain['labelSigma'], 2.5);
    assert.equal('labelSigmaSlope' in plain, false, 'a constant width writes no slope');
    const w = await loadFaceApiWeights();
    const net = new AgeGenderNet(w, { seed: 3 });
    for (const t of Object.values(w)) t.dispose();
    const widened = join(dir, 'widened');
    await saveModel(net, widened, { formatVersion: FORMAT_VERSION, name: 'untrained', encoder: 'x', inputSize: 150, createdAt: new Date(0).toISOString(), command: 'test', datasetManifestHash: null, metrics: {} }, { sigma: 1.5, slope: 0.05 });
    net.dispose();
    const t = await topologyOf(widened);
    assert.equal(t['labelSigma'], 1.5);
    assert.equal(t['labelSigmaSlope'], 0.05);
  });

  it('loads a saved folder and predicts from one forward pass', async () => {
    const model = await loadModel(good);
    const [chip] = pickChips(1);
    const p = await model.predict(chip!.source);
    assert.ok(Number.isFinite(p.age) && p.age >= 0 && p.age <= 100);
    assert.ok(p.ageInterval[0] <= p.age && p.age <= p.ageInterval[1]);
    assert.ok(p.genderProbability >= 0.5 && p.genderProbability <= 1);
    assert.equal(p.gender === 'female', p.femaleProbability >= 0.5);
    const batch = await model.predictBatch([chip!.source, chip!.source]);
    assert.equal(batch.length, 2);
    assert.ok(Math.abs(batch[0]!.age - p.age) < 1e-3);
    model.dispose();
    await assert.rejects(model.predict(chip!.source), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_NOT_LOADED');
  });

  for (const file of ['model.json', 'weights.bin', 'metadata.json']) {
    it(`a missing ${file} is MODEL_INVALID naming the file`, async () => {
      const broken = join(dir, `no-${file}`);
      await cp(good, broken, { recursive: true });
      await rm(join(broken, file));
      await assert.rejects(loadModel(broken), (e: unknown) => {
        assert.ok(e instanceof AgeGenderError);
        assert.equal(e.code, 'MODEL_INVALID');
        assert.ok(e.message.includes(join(broken, file)), e.message);
        return true;
      });
    });
  }

  it('another format version is MODEL_INCOMPATIBLE naming model.json', async () => {
    const old = join(dir, 'v999');
    await cp(good, old, { recursive: true });
    const mj = JSON.parse(await readFile(join(old, 'model.json'), 'utf8')) as Record<string, unknown>;
    mj['formatVersion'] = 999;
    await writeFile(join(old, 'model.json'), JSON.stringify(mj));
    await assert.rejects(loadModel(old), (e: unknown) => {
      assert.ok(e instanceof AgeGenderError);
      assert.equal(e.code, 'MODEL_INCOMPATIBLE');
      assert.ok(e.message.includes(join(old, 'model.json')) && e.message.includes('999'), e.message);
      return true;
    });
  });

  it('truncated weights are MODEL_INVALID', async () => {
    const cut = join(dir, 'truncated');
    await cp(good, cut, { recursive: true });
    const buf = await readFile(join(cut, 'weights.bin'));
    await writeFile(join(cut, 'weights.bin'), buf.subarray(0, 1000));
    await assert.rejects(loadModel(cut), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_INVALID' && e.message.includes('weights.bin'));
  });
});
