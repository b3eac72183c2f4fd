// The cut point (where the frozen stem ends) is a property of a model: training can move it to
// conv256_down (fine-tuning conv256_1 too), the folder records it, and both runtimes honour it.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../../src/core/errors.js';
import { decodeImage } from '../../src/io/decode.js';
import { initBackend } from '../../src/model/backend.js';
import { cutLayout, FaceRecEncoder, loadFaceApiWeights } from '../../src/model/encoder.js';
import { loadModel } from '../../src/model/index.js';
import { FORMAT_VERSION, saveModel } from '../../src/model/io.js';
import { AgeGenderNet } from '../../src/model/net.js';
import { pickChips } from '../helpers/train-fixtures.js';

const meta = { formatVersion: FORMAT_VERSION, name: 'untrained', encoder: 'x', inputSize: 150, createdAt: new Date(0).toISOString(), command: 'test', datasetManifestHash: null, metrics: {} };

/** Saves the pretrained encoder with a seeded, untrained head at `cutPoint` as a model folder. */
async function saveUntrained(folder: string, cutPoint: string, seed: number): Promise<void> {
  const w = await loadFaceApiWeights();
  const net = new AgeGenderNet(w, { seed, cutPoint });
  for (const t of Object.values(w)) t.dispose();
  await saveModel(net, folder, meta);
  net.dispose();
}

/** onnxruntime and tfjs give the same outputs on every chip. */
function assertRuntimesAgree(chips: readonly string[], a: ReadonlyArray<{ age: number; femaleProbability: number }>, b: ReadonlyArray<{ age: number; femaleProbability: number }>): void {
  for (let i = 0; i < chips.length; i++) {
    assert.ok(Math.abs(a[i]!.age - b[i]!.age) < 0.01, `${chips[i]}: onnxruntime ${a[i]!.age} vs tfjs ${b[i]!.age}`);
    assert.ok(Math.abs(a[i]!.femaleProbability - b[i]!.femaleProbability) < 1e-4);
  }
}

describe('cut point', () => {
  let dir: string;
  before(async () => {
    await initBackend();
    dir = await mkdtemp(join(tmpdir(), 'agegender-cut-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('splits the blocks at the named one and pools the cut', () => {
    const d = cutLayout();
    assert.equal(d.cutPoint, 'conv256_1');
    assert.deepEqual(d.topBlocks, ['conv256_2', 'conv256_down_out']);
    const deep = cutLayout('conv256_down');
    assert.deepEqual(deep.topBlocks, ['conv256_1', 'conv256_2', 'conv256_down_out']);
    assert.equal(deep.stemBlocks.at(-1), 'conv256_down');
    assert.deepEqual(deep.poolAt, ['conv32_3', 'conv64_3', 'conv128_2', 'conv256_down']);
    assert.equal(deep.stemBlocks.length + deep.topBlocks.length, d.stemBlocks.length + d.topBlocks.length);
    // the whole conv256 stage trainable: conv256_down is pooled inside the top instead
    const stage = cutLayout('conv128_2');
    assert.deepEqual(stage.topBlocks, ['conv256_down', 'conv256_1', 'conv256_2', 'conv256_down_out']);
    assert.deepEqual(stage.poolAt, ['conv32_3', 'conv64_3', 'conv128_2', 'conv256_down']);
    assert.deepEqual([stage.cutShape, stage.cutSize, stage.pooledDim, stage.topDim], [[8, 8, 128], 8192, 224, 512]);
    assert.deepEqual([deep.cutShape, deep.cutSize, deep.pooledDim, deep.topDim], [[4, 4, 256], 4096, 480, 256]);
    // one block earlier: conv128_2 is trained too, and both it and conv256_down are pooled inside the top
    const early = cutLayout('conv128_1');
    assert.deepEqual(early.topBlocks, ['conv128_2', 'conv256_down', 'conv256_1', 'conv256_2', 'conv256_down_out']);
    assert.deepEqual([early.cutShape, early.cutSize, early.pooledDim, early.topDim], [[8, 8, 128], 8192, 96, 640]);
    assert.throws(() => cutLayout('conv64_3'), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_INVALID' && /conv256_1, conv256_down, conv128_2, conv128_1/.test(e.message));
  });

  it('the deeper cut trains conv256_1 and computes the same top output', async () => {
    const weights = await loadFaceApiWeights();
    const a = new FaceRecEncoder(weights, { trainableTop: true });
    const b = new FaceRecEncoder(await loadFaceApiWeights(), { trainableTop: true, cutPoint: 'conv256_down' });
    const trainable = (e: FaceRecEncoder): string[] => [...e.vars.entries()].filter(([, v]) => v.trainable).map(([n]) => n.split('/')[0]!);
    assert.deepEqual([...new Set(trainable(a))], ['conv256_2', 'conv256_down_out']);
    assert.deepEqual([...new Set(trainable(b))], ['conv256_1', 'conv256_2', 'conv256_down_out']);
    const [chip] = pickChips(1);
    const raw = await decodeImage(readFileSync(chip!.source), chip!.source);
    const [topA, topB, pooledA, pooledB] = tf.tidy(() => {
      const x = a.preprocess(tf.tensor4d(raw.data, [1, raw.height, raw.width, 3], 'int32'));
      const sa = a.stem(x);
      const sb = b.stem(x);
      return [a.top(sa.cut), b.top(sb.cut), sa.pooled, sb.pooled];
    });
    const diff = (p: tf.Tensor, q: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(p, q))).dataSync()[0]!);
    assert.ok(diff(topA!, topB!) < 1e-4, 'the same function up to the top output');
    // the first 224 pooled features (conv32/64/128 stages) agree; the last 256 are GAP(conv256_1) vs GAP(conv256_down)
    assert.ok(diff(tf.slice(pooledA!, [0, 0], [1, 224]), tf.slice(pooledB!, [0, 0], [1, 224])) < 1e-5);
    assert.ok(diff(tf.slice(pooledA!, [0, 224], [1, 256]), tf.slice(pooledB!, [0, 224], [1, 256])) > 1e-3);
    tf.dispose([topA!, topB!, pooledA!, pooledB!]);
    a.dispose();
    b.dispose();
  });

  it('the conv256-stage cut (conv128_2) trains conv256_down too and feeds the head the same 736 features, reordered', async () => {
    const b = new FaceRecEncoder(await loadFaceApiWeights(), { cutPoint: 'conv256_down' });
    const c = new FaceRecEncoder(await loadFaceApiWeights(), { trainableTop: true, cutPoint: 'conv128_2' });
    assert.deepEqual([...new Set([...c.vars.entries()].filter(([, v]) => v.trainable).map(([n]) => n.split('/')[0]!))], ['conv256_down', 'conv256_1', 'conv256_2', 'conv256_down_out']);
    const [chip] = pickChips(1);
    const raw = await decodeImage(readFileSync(chip!.source), chip!.source);
    const [featB, featC, cutC] = tf.tidy(() => {
      const x = b.preprocess(tf.tensor4d(raw.data, [1, raw.height, raw.width, 3], 'int32'));
      const sb = b.stem(x);
      const sc = c.stem(x);
      // b: [GAP last ‖ conv32_3, conv64_3, conv128_2, conv256_down]; c: [GAP last, conv256_down ‖ conv32_3, conv64_3, conv128_2]
      const tb = b.top(sb.cut);
      const tc = c.top(sc.cut);
      const reordered = tf.concat([tf.slice(tc, [0, 0], [1, 256]), sc.pooled, tf.slice(tc, [0, 256], [1, 256])], 1);
      return [tf.concat([tb, sb.pooled], 1), reordered, sc.cut];
    });
    assert.deepEqual(cutC!.shape, [1, 8, 8, 128]);
    assert.equal(featC!.shape[1], 736);
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(featB!, featC!))).dataSync()[0]!) < 1e-4, 'the same features, only in another order');
    tf.dispose([featB!, featC!, cutC!]);
    b.dispose();
    c.dispose();
  });

  it('a folder saved with conv256_down records it, and onnxruntime and tfjs both use it', async () => {
    const folder = join(dir, 'deep');
    await saveUntrained(folder, 'conv256_down', 5);
    const topology = (JSON.parse(await readFile(join(folder, 'model.json'), 'utf8')) as { modelTopology: Record<string, unknown> }).modelTopology;
    assert.equal(topology['cutPoint'], 'conv256_down');
    assert.deepEqual(topology['topBlocks'], ['conv256_1', 'conv256_2', 'conv256_down_out']);

    // the same weights read as a conv256_1 model: another head input, so other outputs
    const asDefault = join(dir, 'as-default');
    await cp(folder, asDefault, { recursive: true });
    const mj = JSON.parse(await readFile(join(asDefault, 'model.json'), 'utf8')) as { modelTopology: Record<string, unknown> };
    delete mj.modelTopology['cutPoint'];
    await writeFile(join(asDefault, 'model.json'), JSON.stringify(mj));

    const chips = pickChips(4).map((c) => c.source);
    const raws = await Promise.all(chips.map(async (s) => decodeImage(readFileSync(s), s)));
    const ort = await loadModel(folder, { runtime: 'onnxruntime', flipTta: false });
    const tfjs = await loadModel(folder, { runtime: 'tfjs', flipTta: false });
    const other = await loadModel(asDefault, { runtime: 'tfjs', flipTta: false });
    try {
      const [a, b, c] = [await ort.scoreRaw(raws), await tfjs.scoreRaw(raws), await other.scoreRaw(raws)];
      assertRuntimesAgree(chips, a, b);
      const apart = Math.max(...b.map((p, i) => Math.abs(p.age - c[i]!.age)));
      assert.ok(apart > 0.01, `the cut point changes the outputs (max ${apart})`);
    } finally {
      ort.dispose();
      tfjs.dispose();
      other.dispose();
    }
  });

  for (const [cutPoint, seed] of [['conv128_2', 6], ['conv128_1', 7]] as const) {
    it(`a ${cutPoint} folder runs identically on onnxruntime and tfjs`, async () => {
      const folder = join(dir, `stage-${cutPoint}`);
      await saveUntrained(folder, cutPoint, seed);
      const chips = pickChips(3).map((c) => c.source);
      const raws = await Promise.all(chips.map(async (s) => decodeImage(readFileSync(s), s)));
      const ort = await loadModel(folder, { runtime: 'onnxruntime' });
      const tfjs = await loadModel(folder, { runtime: 'tfjs', parallelTta: false });
      try {
        assertRuntimesAgree(chips, await ort.scoreRaw(raws), await tfjs.scoreRaw(raws));
      } finally {
        ort.dispose();
        tfjs.dispose();
      }
    });
  }

  it('an unknown cut point in model.json is MODEL_INCOMPATIBLE naming the file', async () => {
    const folder = join(dir, 'unknown');
    await cp(join(dir, 'deep'), folder, { recursive: true });
    const mj = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8')) as { modelTopology: Record<string, unknown> };
    mj.modelTopology['cutPoint'] = 'conv64_1';
    await writeFile(join(folder, 'model.json'), JSON.stringify(mj));
    await assert.rejects(loadModel(folder), (e: unknown) => {
      assert.ok(e instanceof AgeGenderError);
      assert.equal(e.code, 'MODEL_INCOMPATIBLE');
      assert.ok(e.message.includes(join(folder, 'model.json')) && e.message.includes('conv64_1'), e.message);
      return true;
    });
  });
});
