// Model building blocks: the wasm Conv2DBackpropFilter kernel, age bins, float16, the encoder's
// match with face-api's own FaceRecognitionNet.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ageInterval, ageLabelDistribution, AGE_BINS, expectedAge, labelSigmaAt } from '../../src/model/ageBins.js';
import { hasConvFilterGrad, initBackend } from '../../src/model/backend.js';
import { FaceRecEncoder, loadFaceApiWeights } from '../../src/model/encoder.js';
import { decodeHalfInto, encodeHalf } from '../../src/model/half.js';
import { decodeImage } from '../../src/io/decode.js';
import { pickChips } from '../helpers/train-fixtures.js';

describe('model basics', () => {
  it('picks wasm (no tfjs-node here) and registers Conv2DBackpropFilter', async () => {
    const info = await initBackend();
    assert.ok(['wasm', 'tensorflow'].includes(info.backend));
    assert.equal(hasConvFilterGrad(), true);
  });

  it('conv filter gradient on wasm equals the cpu backend for same/valid, stride 1/2', async () => {
    await initBackend();
    const xv = tf.randomNormal([2, 9, 9, 5], 0, 1, 'float32', 1);
    const wv = tf.randomNormal([3, 3, 5, 4], 0, 1, 'float32', 2);
    const xd = xv.dataSync().slice();
    const wd = wv.dataSync().slice();
    for (const [s, p] of [[1, 'same'], [2, 'valid'], [2, 'same'], [1, 'valid']] as const) {
      const gradOn = async (backend: string): Promise<Float32Array> => {
        await tf.setBackend(backend);
        const x = tf.tensor4d(xd, [2, 9, 9, 5]);
        const w = tf.tensor4d(wd, [3, 3, 5, 4]);
        const g = tf.grad((ww: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, ww as tf.Tensor4D, s, p))))(w);
        const out = (await g.data()) as Float32Array;
        tf.dispose([x, w, g]);
        return out;
      };
      const cpu = await gradOn('cpu');
      const wasm = await gradOn('wasm');
      let max = 0;
      for (let i = 0; i < cpu.length; i++) max = Math.max(max, Math.abs(cpu[i]! - wasm[i]!) / (1 + Math.abs(cpu[i]!)));
      assert.ok(max < 1e-3, `stride ${s} ${p}: max relative diff ${max}`);
    }
    await tf.setBackend('wasm');
    tf.dispose([xv, wv]);
  });

  it('age label distributions sum to 1 and read out their age', () => {
    for (const a of [0, 1, 35, 99, 100]) {
      const d = ageLabelDistribution(a);
      assert.equal(d.length, AGE_BINS);
      assert.ok(Math.abs(d.reduce((s, v) => s + v, 0) - 1) < 1e-5);
      if (a >= 10 && a <= 90) assert.ok(Math.abs(expectedAge(d) - a) < 1e-3);
      const [lo, hi] = ageInterval(d);
      assert.ok(lo <= a + 0.5 && hi >= a - 0.5 && lo < hi, `${a}: ${lo}–${hi}`);
    }
  });

  it('label width grows with age when asked (σ = sigma + slope · age, at least 0.5), and widens the target', () => {
    assert.equal(labelSigmaAt(30), 2.5, 'default: constant 2.5');
    assert.equal(labelSigmaAt(0, 1.5, 0.05), 1.5);
    assert.ok(Math.abs(labelSigmaAt(40, 1.5, 0.05) - 3.5) < 1e-12);
    assert.ok(Math.abs(labelSigmaAt(250, 1.5, 0.05) - 6.5) < 1e-12, 'ages past the last bin use the last bin');
    assert.equal(labelSigmaAt(10, 0.1, 0), 0.5, 'never narrower than half a year');
    const spread = (d: Float32Array): number => {
      const m = expectedAge(d);
      return Math.sqrt(d.reduce((s, v, k) => s + v * (k - m) ** 2, 0));
    };
    const narrow = ageLabelDistribution(60, labelSigmaAt(60));
    const wide = ageLabelDistribution(60, labelSigmaAt(60, 1.5, 0.05));
    assert.ok(Math.abs(spread(narrow) - 2.5) < 0.01 && Math.abs(spread(wide) - 4.5) < 0.01, `${spread(narrow)} / ${spread(wide)}`);
  });

  it('float16 round-trips within half precision', () => {
    const v = Float32Array.from([0, 1, -2.5, 1e-3, 123.456, 65504, 6e-5]);
    const back = new Float32Array(v.length);
    decodeHalfInto(encodeHalf(v), back);
    for (let i = 0; i < v.length; i++) assert.ok(Math.abs(back[i]! - v[i]!) <= Math.abs(v[i]!) * 1e-3 + 1e-7, `${v[i]} → ${back[i]}`);
  });

  it("rebuilt encoder reproduces face-api's 128-d descriptor", async () => {
    await initBackend();
    const [chip] = pickChips(1);
    const raw = await decodeImage(readFileSync(chip!.source), chip!.source);
    const weights = await loadFaceApiWeights();
    const fc = weights['fc']!.clone();
    const enc = new FaceRecEncoder(weights);
    const mine = tf.tidy(() => tf.matMul(enc.top(enc.stem(enc.preprocess(tf.tensor4d(raw.data, [1, raw.height, raw.width, 3], 'int32'))).cut), fc));
    const faceapi = (await import('@vladmandic/face-api/dist/face-api.node-wasm.js')) as unknown as {
      nets: { faceRecognitionNet: { loadFromDisk(dir: string): Promise<void>; computeFaceDescriptor(t: tf.Tensor3D): Promise<Float32Array> } };
    };
    await faceapi.nets.faceRecognitionNet.loadFromDisk('node_modules/@vladmandic/face-api/model');
    const input = tf.tensor3d(raw.data, [raw.height, raw.width, 3], 'int32');
    const ref = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(input);
    const got = (await mine.data()) as Float32Array;
    let max = 0;
    for (let i = 0; i < 128; i++) max = Math.max(max, Math.abs(got[i]! - ref[i]!));
    assert.ok(max < 1e-4, `max descriptor difference ${max}`);
    tf.dispose([mine, fc, input, ...Object.values(weights)]);
    enc.dispose();
  });
});
