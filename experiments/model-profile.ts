// Latency profile of a model folder (default: the shipped one) on this backend: parts of the forward pass, then predict().
//   node --conditions=agegender-source --import tsx experiments/model-profile.ts [modelDir]
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { initBackend } from 'agegender/model';
import { loadModel } from 'agegender/model';
import { decodeImage } from 'agegender/io';
import { AgeGenderNet } from 'agegender/model';
import { readModelFolder } from 'agegender/model';
const modelDir = process.argv[2] ?? 'models/default';
await initBackend();
const raw = await decodeImage(readFileSync('test/fixtures/photos/chip-35-male.jpg'), 'x');
const { weights, cutPoint } = await readModelFolder(modelDir);
const net = new AgeGenderNet(weights, { cutPoint });
const img = tf.tensor4d(raw.data, [1, raw.height, raw.width, 3], 'int32');
const time = async (name: string, f: () => tf.Tensor | tf.Tensor[]) => {
  const ts: number[] = [];
  for (let i = 0; i < 25; i++) { const t0 = performance.now(); const r = f(); const arr = Array.isArray(r) ? r : [r]; for (const x of arr) await x.data(); tf.dispose(arr); ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b); console.log(name, ts[12]!.toFixed(1));
};
const x = net.encoder.preprocess(img);
await time('preprocess', () => net.encoder.preprocess(img));
await time('stem', () => { const s = net.encoder.stem(x); return [s.cut, s.pooled]; });
const s = net.encoder.stem(x);
await time('top+head', () => { const o = net.forwardFromCut(s.cut, s.pooled); return [o.ageLogits, o.genderLogits]; });
await time('conv32_down only', () => tf.tidy(() => tf.fused.conv2d({ x, filter: net.encoder.vars.get('conv32_down/conv/filters')! as unknown as tf.Tensor4D, strides: 2, pad: 'valid' })));
// predict() end to end (decode included for the path case) on each inference runtime
const variants = [
  { runtime: 'onnxruntime', flipTta: false }, { runtime: 'onnxruntime', flipTta: true },
  { runtime: 'tfjs', flipTta: false }, { runtime: 'tfjs', flipTta: true, parallelTta: false }, { runtime: 'tfjs', flipTta: true, parallelTta: true },
] as const;
for (const options of variants) {
  const m = await loadModel(modelDir, options);
  const ts: number[] = [];
  for (let i = 0; i < 105; i++) { const t0 = performance.now(); await m.predict(raw); if (i >= 5) ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b); console.log(`[${m.runtime}] predict(raw 200×200) median of 100`, ts[50]!.toFixed(1), 'p10', ts[10]!.toFixed(1), 'p90', ts[90]!.toFixed(1));
  const tp: number[] = [];
  for (let i = 0; i < 105; i++) { const t0 = performance.now(); await m.predict('test/fixtures/photos/chip-35-male.jpg'); if (i >= 5) tp.push(performance.now() - t0); }
  tp.sort((a, b) => a - b); console.log(`[${m.runtime}] predict(jpeg path) median of 100`, tp[50]!.toFixed(1), 'p10', tp[10]!.toFixed(1), 'p90', tp[90]!.toFixed(1));
  m.dispose();
}
