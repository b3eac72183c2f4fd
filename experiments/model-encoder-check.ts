// Checks the rebuilt encoder against face-api's own FaceRecognitionNet descriptor, and measures speed.
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from 'agegender/model';
import { FaceRecEncoder, loadFaceApiWeights } from 'agegender/model';

const info = await initBackend();
console.log(info);
const dir = '/work/shared/datasets/utkface/UTKFace';
const files = readdirSync(dir).slice(0, 64);
const imgs: Uint8Array[] = [];
for (const f of files) {
  const { data } = await sharp(join(dir, f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  imgs.push(data);
}
const w = await loadFaceApiWeights();
const fc = w['fc']!.clone();
const enc = new FaceRecEncoder(w, { trainableTop: true });
const batch = tf.tensor4d(Buffer.concat(imgs.slice(0, 4)), [4, 200, 200, 3], 'int32');
const x = enc.preprocess(batch);
const { cut, pooled } = enc.stem(x);
const top = enc.top(cut);
const desc = tf.matMul(top, fc);
console.log('cut', cut.shape, 'pooled', pooled.shape, 'top', top.shape);
// face-api reference
const faceapi: any = await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
await faceapi.nets.faceRecognitionNet.loadFromDisk('node_modules/@vladmandic/face-api/model');
const mine = await desc.data();
let maxd = 0;
for (let i = 0; i < 4; i++) {
  const ref = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(tf.tensor3d(imgs[i]!, [200, 200, 3], 'int32')) as Float32Array;
  for (let j = 0; j < 128; j++) maxd = Math.max(maxd, Math.abs(ref[j]! - mine[i * 128 + j]!));
  if (i === 0) console.log('ref', Array.from(ref.slice(0, 4)), 'mine', Array.from(mine.slice(0, 4)));
}
console.log('max |descriptor diff| vs face-api', maxd);
// timing: single image full model
const one = tf.tensor4d(imgs[0]!, [1, 200, 200, 3], 'int32');
const times: number[] = [];
for (let i = 0; i < 15; i++) {
  const t0 = performance.now();
  const r = tf.tidy(() => enc.top(enc.stem(enc.preprocess(one)).cut));
  await r.data(); r.dispose();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log('single ms median', times[7]);
// batch 32 stem throughput
const b32 = tf.tensor4d(Buffer.concat(imgs.slice(0, 32)), [32, 200, 200, 3], 'int32');
for (let i = 0; i < 2; i++) {
  const t0 = performance.now();
  const r = tf.tidy(() => { const s = enc.stem(enc.preprocess(b32)); return tf.concat([tf.reshape(s.cut, [32, -1]), s.pooled], 1); });
  await r.data(); r.dispose();
  console.log('stem b32 ms/img', (performance.now() - t0) / 32);
}
// top train step speed
const cutB = tf.randomUniform([64, 4, 4, 256], 0, 1);
const vars = enc.trainableVariables();
const opt = tf.train.adam(1e-4);
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const l = opt.minimize(() => tf.mean(tf.square(enc.top(cutB as tf.Tensor4D))), true, vars);
  await l!.data(); l!.dispose();
  console.log('top train b64 ms/img', (performance.now() - t0) / 64);
}
