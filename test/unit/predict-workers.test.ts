// predictFiles with detect: false and 2 workers (`predict --no-detect --workers 2`): chips predicted on worker threads give the same answers, in
// the same order, as in-process prediction. Uses the real network with an untrained head, saved
// to a temporary model folder (no shipped model needed).
import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { predictFiles } from '../../src/pipeline/predict-files.js';
import { initBackend, loadModel } from '../../src/model/index.js';
import { AgeGenderNet } from '../../src/model/net.js';
import { loadFaceApiWeights } from '../../src/model/encoder.js';
import { saveModel } from '../../src/model/io.js';
import { loadImageInput } from '../../src/io/decode.js';
import { createPredictPool } from '../../src/pipeline/predict-pool.js';
import { pooledModel } from '../../src/pipeline/pooled-model.js';
import { runPredict } from '../../src/cli/commands/predict.js';
import { badInputs } from '../fixtures/bad-inputs.js';

describe('predict with worker threads', () => {
  let dir: string;
  const files: string[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agegender-workers-'));
    await initBackend();
    const net = new AgeGenderNet(await loadFaceApiWeights(), { seed: 7 });
    await saveModel(net, join(dir, 'model'), { formatVersion: 1, name: 'untrained', encoder: 'faceapi-facerec-resnet34', inputSize: 200, createdAt: '2026-01-01T00:00:00.000Z', command: 'test', datasetManifestHash: null, metrics: {} });
    net.dispose();
    const photos = new URL('../fixtures/photos/', import.meta.url);
    const chip = await readFile(new URL('chip-35-male.jpg', photos));
    const sharp = (await import('sharp')).default;
    for (let i = 0; i < 7; i++) {
      const f = join(dir, `c${i}.jpg`);
      // Different chips: the same face with a different brightness each.
      await writeFile(f, await sharp(chip).modulate({ brightness: 0.7 + i * 0.1 }).jpeg().toBuffer());
      files.push(f);
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the in-process answers, in argument order, and still reports bad files (an argument that matches nothing in its place)', async () => {
    const args = [...files, join(dir, 'missing.jpg')];
    const model = await loadModel(join(dir, 'model'));
    let inProcess: Awaited<ReturnType<typeof predictFiles>>;
    try {
      inProcess = await predictFiles(args, { detect: false, batchSize: 2, model });
    } finally {
      model.dispose();
    }
    const pooled = await predictFiles(args, { detect: false, batchSize: 2, modelDir: join(dir, 'model'), workers: 2 });
    assert.match(pooled.runtime, /on 2 worker threads$/);
    assert.deepEqual(pooled.results.map((r) => r.file), [...files, join(dir, 'missing.jpg')]);
    assert.equal(pooled.failed, 1);
    assert.equal(pooled.results.at(-1)!.error!.code, 'UNREADABLE_FILE');
    for (let i = 0; i < args.length; i++) {
      const a = inProcess.results[i]!;
      const b = pooled.results[i]!;
      assert.equal(a.faces.length, b.faces.length);
      if (a.faces[0] && b.faces[0]) {
        assert.ok(Math.abs(a.faces[0].age - b.faces[0].age) < 1e-3, `${a.file}: ${a.faces[0].age} vs ${b.faces[0].age}`);
        assert.ok(Math.abs(a.faces[0].femaleProbability - b.faces[0].femaleProbability) < 1e-3);
      }
    }
    assert.ok(new Set(pooled.results.filter((r) => !r.error).map((r) => r.faces[0]!.age)).size > 1, 'different chips, different ages');
  });

  it('predict --no-detect --workers 2 prints the in-process CSV byte for byte: quality gate in each worker, NO_USABLE_FACE rows included', async () => {
    const chips = new URL('../fixtures/photos/chips/', import.meta.url);
    const inputs = [fileURLToPath(new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url))];
    for (const name of (await readdir(chips)).sort()) inputs.push(fileURLToPath(new URL(name, chips)));
    for (const b of (await badInputs()).filter((x) => ['blank.png', 'no-face.jpg'].includes(x.name))) {
      const f = join(dir, b.name);
      await writeFile(f, b.bytes);
      inputs.splice(2, 0, f); // between good chips: a batch mixes refused and predicted chips
    }
    const csv = async (workers: number): Promise<{ lines: string[]; results: unknown[] }> => {
      const lines: string[] = [];
      const summary = await runPredict(inputs, { format: 'csv', detect: false, batchSize: 2, modelDir: join(dir, 'model'), workers, out: (t) => lines.push(t), log: () => undefined });
      return { lines, results: summary.results };
    };
    const { lines: inProcess, results: inProcessResults } = await csv(1);
    const pooled = await csv(2);
    assert.equal(inProcess.length, 1 + inputs.length);
    assert.deepEqual(pooled.lines, inProcess);
    assert.deepEqual(pooled.results, inProcessResults, 'every field, the whole quality record included');
    const refused = inProcess.filter((l) => l.includes('NO_USABLE_FACE: no usable face: '));
    assert.equal(refused.length, 2, inProcess.join('\n'));
    assert.ok(refused.some((l) => l.startsWith(join(dir, 'blank.png'))) && refused.some((l) => l.startsWith(join(dir, 'no-face.jpg'))));
  });

  it('predict --workers 2 on photos: a photo with no face fails with the in-process error, naming the file once', async () => {
    const noFace = fileURLToPath(new URL('../fixtures/photos/no-face.jpg', import.meta.url));
    const csv = async (workers: number): Promise<string[]> => {
      const lines: string[] = [];
      await runPredict([noFace], { format: 'csv', modelDir: join(dir, 'model'), workers, out: (t) => lines.push(t), log: () => undefined });
      return lines;
    };
    const inProcess = await csv(1);
    assert.match(inProcess[1]!, /,NO_USABLE_FACE: no usable face: /);
    assert.deepEqual(await csv(2), inProcess);
  });

  it('pooledModel splits scoreRaw batches across workers and returns the in-process scores in order', async () => {
    const model = await loadModel(join(dir, 'model'));
    const pool = await createPredictPool({ modelDir: join(dir, 'model'), workers: 2 });
    try {
      const chips = await Promise.all(files.map((f) => loadImageInput(f)));
      const expected = await model.scoreRaw(chips);
      const pooled = await pooledModel(model, pool).scoreRaw(chips);
      assert.equal(pooled.length, chips.length);
      pooled.forEach((p, i) => {
        assert.ok(Math.abs(p.age - expected[i]!.age) < 1e-3, `age ${i}: ${p.age} vs ${expected[i]!.age}`);
        assert.ok(Math.abs(p.femaleProbability - expected[i]!.femaleProbability) < 1e-4, `female probability ${i}`);
      });
    } finally {
      model.dispose();
      await pool.close();
    }
  });
});
