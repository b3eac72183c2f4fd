// Inference runtimes: onnxruntime (the exported graph) and tfjs give the same numbers; the choice
// is validated; onnxruntime is never started where it would crash (long command lines).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AgeGenderError } from '../../src/core/errors.js';
import { defaultModelDir, loadModel } from '../../src/model/index.js';
import { exportOnnx } from '../../src/model/onnx-export.js';
import { createEngine, ORT_MAX_CMDLINE_BYTES, ortStartProblem, runtimePreference } from '../../src/model/runtime.js';
import * as tf from '@tensorflow/tfjs';
import { loadImageInput } from '../../src/io/decode.js';
import { preprocessChips } from '../../src/model/encoder.js';
import { readModelFolder } from '../../src/model/io.js';
import { AgeGenderNet } from '../../src/model/net.js';
import { initBackend } from '../../src/model/backend.js';
import { utkfaceChipDir } from '../helpers/data.js';

const run = promisify(execFile);
// 12 UTKFace chips spread over the sorted listing (so over ages), from the shared data
const all = readdirSync(utkfaceChipDir()).filter((f) => f.endsWith('.jpg')).sort();
const chips = Array.from({ length: 12 }, (_, i) => join(utkfaceChipDir(), all[Math.floor((i * all.length) / 12)]!));

describe('inference runtimes', () => {
  it('onnxruntime and tfjs agree on every output, single and batched', async () => {
    assert.equal(chips.length, 12);
    const ort = await loadModel(undefined, { runtime: 'onnxruntime' });
    const tfjs = await loadModel(undefined, { runtime: 'tfjs' });
    try {
      assert.match(ort.runtime, /^onnxruntime \d+\.\d+/);
      assert.match(tfjs.runtime, /^tfjs (wasm|cpu|tensorflow)/);
      const a = await ort.predictBatch(chips);
      const b = await tfjs.predictBatch(chips);
      for (let i = 0; i < chips.length; i++) {
        assert.ok(Math.abs(a[i]!.age - b[i]!.age) < 0.01, `${chips[i]}: age ${a[i]!.age} vs ${b[i]!.age}`);
        assert.ok(Math.abs(a[i]!.femaleProbability - b[i]!.femaleProbability) < 1e-4, `${chips[i]}: female probability`);
        assert.ok(Math.abs(a[i]!.ageInterval[0] - b[i]!.ageInterval[0]) < 0.01 && Math.abs(a[i]!.ageInterval[1] - b[i]!.ageInterval[1]) < 0.01, 'age interval');
        assert.equal(a[i]!.gender, b[i]!.gender);
      }
      const single = await ort.predict(chips[3]!);
      assert.ok(Math.abs(single.age - a[3]!.age) < 1e-3, 'batch and single agree');
      // ages spread: the comparison is not between constant outputs
      assert.ok(Math.max(...a.map((p) => p.age)) - Math.min(...a.map((p) => p.age)) > 5);
    } finally {
      ort.dispose();
      tfjs.dispose();
    }
  });

  it('flip test-time augmentation averages a chip and its mirror image', async () => {
    const sharp = (await import('sharp')).default;
    const plain = await loadModel(undefined, { flipTta: false });
    const tta = await loadModel(undefined, { flipTta: true });
    try {
      assert.match(tta.runtime, /flip test-time augmentation/);
      // a 150×150 chip: at the network's input size no resize happens, so mirroring commutes with preprocessing
      const { data, info } = await sharp(chips[5]!).resize(150, 150).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const img = { width: info.width, height: info.height, channels: 3 as const, data: new Uint8Array(data) };
      const mirrored = { ...img, data: new Uint8Array(img.data.length) };
      for (let y = 0; y < img.height; y++)
        for (let x = 0; x < img.width; x++)
          for (let c = 0; c < 3; c++) mirrored.data[(y * img.width + x) * 3 + c] = img.data[(y * img.width + (img.width - 1 - x)) * 3 + c]!;
      const [a, b] = await plain.scoreRaw([img, mirrored]);
      const [t] = await tta.scoreRaw([img]);
      // E[age] is linear in the probabilities, so the TTA age is the mean of the two ages
      assert.ok(Math.abs(t!.age - (a!.age + b!.age) / 2) < 1e-3, `${t!.age} vs mean of ${a!.age}, ${b!.age}`);
      assert.ok(Math.abs(t!.femaleProbability - (a!.femaleProbability + b!.femaleProbability) / 2) < 1e-5);
      assert.ok(Math.abs(a!.age - b!.age) > 1e-3, 'a chip and its mirror image give different ages (the test can fail)');
      // the mirror image's TTA result is the same as the original's (the pair is the same)
      const [tm] = await tta.scoreRaw([mirrored]);
      assert.ok(Math.abs(tm!.age - t!.age) < 1e-3);
    } finally {
      plain.dispose();
      tta.dispose();
    }
  });

  it('TF.js flip TTA with the mirror images on a worker thread gives the one-batch outputs, and survives the worker dying', async () => {
    await initBackend();
    const { weights, cutPoint } = await readModelFolder(defaultModelDir());
    const netFor = (): AgeGenderNet => new AgeGenderNet(weights, { cutPoint });
    const parallel = await createEngine(netFor(), { runtime: 'tfjs', flipTta: true, parallelTta: true });
    const oneBatch = await createEngine(netFor(), { runtime: 'tfjs', flipTta: true, parallelTta: false });
    const plain = await createEngine(netFor(), { runtime: 'tfjs', flipTta: false });
    tf.dispose(Object.values(weights));
    const raws = await Promise.all(chips.slice(0, 5).map((c) => loadImageInput(c)));
    const x = tf.concat(raws.map((r) => preprocessChips(tf.tensor4d(r.data, [1, r.height, r.width, 3], 'int32'))));
    try {
      assert.match(parallel.description, /\+ mirror worker thread/);
      assert.doesNotMatch(oneBatch.description, /worker/);
      const a = await parallel.run(x);
      const b = await oneBatch.run(x);
      const c = await plain.run(x);
      const maxDiff = (u: Float32Array, v: Float32Array): number => u.reduce((m, value, i) => Math.max(m, Math.abs(value - v[i]!)), 0);
      assert.ok(maxDiff(a.ageProbs, b.ageProbs) < 1e-6 && maxDiff(a.femaleProbs, b.femaleProbs) < 1e-6, 'same as the one-batch TTA');
      assert.ok(maxDiff(a.ageProbs, c.ageProbs) > 1e-4, 'and not the outputs without TTA (the test can fail)');
      // the worker goes away: the next run computes the mirrors in this thread, with the same result
      await (parallel as unknown as { mirror: { dispose(): Promise<void> } }).mirror.dispose();
      const after = await parallel.run(x);
      assert.ok(maxDiff(after.ageProbs, b.ageProbs) < 1e-6);
    } finally {
      x.dispose();
      await Promise.all([parallel.dispose(), oneBatch.dispose(), plain.dispose()]);
    }
  });

  it('validates the runtime asked for (option and AGEGENDER_RUNTIME)', () => {
    const saved = process.env['AGEGENDER_RUNTIME'];
    try {
      delete process.env['AGEGENDER_RUNTIME'];
      assert.equal(runtimePreference({}), 'auto');
      assert.equal(runtimePreference({ runtime: 'tfjs' }), 'tfjs');
      assert.throws(() => runtimePreference({ runtime: 'gpu' as never }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /auto, onnxruntime, tfjs/.test(e.message));
      process.env['AGEGENDER_RUNTIME'] = 'tfjs';
      assert.equal(runtimePreference({}), 'tfjs', 'the environment is the default');
      assert.equal(runtimePreference({ runtime: 'onnxruntime' }), 'onnxruntime', 'an explicit option wins over the environment');
      process.env['AGEGENDER_RUNTIME'] = 'onnx';
      assert.throws(() => runtimePreference({}), /AGEGENDER_RUNTIME|"onnx"/);
    } finally {
      if (saved === undefined) delete process.env['AGEGENDER_RUNTIME'];
      else process.env['AGEGENDER_RUNTIME'] = saved;
    }
  });

  it('the exporter names a missing weight', () => {
    assert.throws(() => exportOnnx([]), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_INVALID' && /conv32_down/.test(e.message));
  });

  it('a process with a long command line falls back to tfjs instead of crashing onnxruntime', async () => {
    assert.equal(ortStartProblem(), null, 'this test process has a short command line');
    const script = `import { loadModel } from ${JSON.stringify(resolve('src/model/index.ts'))}; const m = await loadModel(); const p = await m.predict(${JSON.stringify(resolve(chips[0]!))}); console.log(JSON.stringify({ runtime: m.runtime, age: p.age })); m.dispose();`;
    const long = 'x'.repeat(ORT_MAX_CMDLINE_BYTES * 10); // ≈ 40 KB: onnxruntime-node 1.30 segfaults here
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, long], { maxBuffer: 1 << 20 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { runtime: string; age: number };
    assert.match(out.runtime, /^tfjs .*command line is \d+ bytes/);
    assert.ok(out.age > 0 && out.age < 100);
  });
});
