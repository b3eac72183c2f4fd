// Were UTKFace's chips cut by dlib's get_face_chip (a similarity fit of 51 of the 68 iBUG landmarks
// to dlib's mean face, with padding)? For UTKFace train chips: YuNet finds the face, face-api's
// 68-point landmark net reads its landmarks inside YuNet's box (as the photo path would on its
// refinement pass), and the least-squares similarity from dlib's mean face (padding p, 200 px) to
// those 51 points is measured against the identity (the chip's own frame): the chip-corner RMS error
// in pixels, to compare with 10.3 px for the five-point YuNet template fit.
//   node --conditions=agegender-source --import tsx experiments/dlib-template.ts [workspace] [--count 500]
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { applySimilarity, fitSimilarity, initBackend, loadFaceDetector, loadImageInput, readManifest, rowsOfSplit, spreadSubset, type Similarity } from 'agegender';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { count: { type: 'string', default: '500' } } });
const manifest = await readManifest(positionals[0] ?? 'workspace/utk');
await initBackend();
const require = createRequire(import.meta.url);
const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const net = new api.FaceLandmark68Net();
await net.loadFromDisk(require.resolve('@vladmandic/face-api/package.json').replace('package.json', 'model'));
const yunet = await loadFaceDetector({ detector: 'yunet' });
// dlib/image_transforms/interpolation.h: mean positions of iBUG points 17–67
const MX = [0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127, 0.42689];
const MY = [0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182];
const unit = MX.map((x, i) => ({ x, y: MY[i]! }));
const sets: Array<Array<{ x: number; y: number }>> = [];
for (const row of spreadSubset(rowsOfSplit(manifest, 'train'), Number(values.count))) {
  const image = await loadImageInput(row.source);
  if (image.width !== 200 || image.height !== 200) continue;
  const faces = await yunet.detect(image);
  if (faces.length !== 1) continue;
  const b = faces[0]!.box;
  const x0 = Math.max(0, Math.floor(b.x)), y0 = Math.max(0, Math.floor(b.y));
  const x1 = Math.min(200, Math.ceil(b.x + b.width)), y1 = Math.min(200, Math.ceil(b.y + b.height));
  const t = tf.tensor3d(image.data, [200, 200, image.channels], 'int32');
  const crop = tf.slice(t, [y0, x0, 0], [y1 - y0, x1 - x0, 3]);
  const lm = await net.detectLandmarks(crop);
  tf.dispose([t, crop]);
  const pos = (Array.isArray(lm) ? lm[0] : lm).positions as Array<{ x: number; y: number }>;
  sets.push(pos.slice(17).map((p) => ({ x: p.x + x0, y: p.y + y0 })));
}
const corners = [{ x: 0, y: 0 }, { x: 199, y: 0 }, { x: 0, y: 199 }, { x: 199, y: 199 }];
const err = (s: Similarity): number => Math.sqrt(corners.reduce((a, c) => { const q = applySimilarity(s, c); return a + (q.x - c.x) ** 2 + (q.y - c.y) ** 2; }, 0) / 4);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const p of [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]) {
  const tpl = unit.map((u) => ({ x: ((u.x + p) / (1 + 2 * p)) * 200, y: ((u.y + p) / (1 + 2 * p)) * 200 }));
  const fits = sets.map((s) => fitSimilarity(tpl, s));
  // the best fixed template at this padding also absorbs a constant offset: remove the mean fit
  const m = { a: mean(fits.map((f) => f.a)), b: mean(fits.map((f) => f.b)), tx: mean(fits.map((f) => f.tx)), ty: mean(fits.map((f) => f.ty)) };
  const rel = fits.map((f) => ({ a: 1 + f.a - m.a, b: f.b - m.b, tx: f.tx - m.tx, ty: f.ty - m.ty }));
  console.log(`padding ${p}: ${sets.length} chips, mean scale ${Math.hypot(m.a, m.b).toFixed(3)}, shift (${m.tx.toFixed(1)}, ${m.ty.toFixed(1)}); corner error ${mean(fits.map(err)).toFixed(2)} px as it is, ${mean(rel.map(err)).toFixed(2)} px after the mean offset`);
}
