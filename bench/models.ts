// Side by side on the project's test split: the shipped model vs face-api's AgeGenderNet vs Human's
// age/gender models (faceres = Human's default "description" model, gear, ssrnet age + gender), each
// with the preprocessing its own source applies to a face crop. Same metrics (MAE, CS@8, gender
// accuracy, from src/eval/metrics) and each model's median single-image latency on this backend.
//
//   npm run bench:models -- [--workspace workspace/utk] [--limit N] [--latency 50] [--out file.json]
//                           [--models ours,ours-tfjs,faceapi,faceres,gear,ssrnet] [--model <our model dir>]
//
// Note: face-api's AgeGenderNet lists UTKFace among its training sets and Human's gear was trained on
// UTKFace, so their scores on UTKFace test images are optimistic (they may have seen these faces).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { mulberry32, shuffleInPlace, writeFileAtomic } from 'agegender/core';
import { readManifest, rowsOfSplit } from 'agegender/workspace';
import { ageMetrics, genderMetrics } from 'agegender/eval';
import { decodeImage } from 'agegender/io';
import type { RawImage } from 'agegender/io';
import { initBackend } from 'agegender/model';
import { loadModel } from 'agegender/model';
import { benchOptions, countOption, existingPath } from './args.js';
import { graphModel } from './graph-model.js';

interface Contender {
  name: string;
  note: string;
  predict(img: RawImage): Promise<{ age: number; female: number }>;
  dispose(): void;
}

const usage = `Usage: npm run bench:models -- [options]

  --workspace <dir>   prepared UTKFace workspace (default workspace/utk; agegender prepare makes it)
  --limit <n>         a seeded sample of n test chips (default: the whole test split)
  --latency <n>       single-image calls for the median latency (default 50)
  --models <list>     ours,ours-tfjs,faceapi,faceres,gear,ssrnet (default: all)
  --model <dir>       our model folder (default: the shipped model)
  --out <file.json>   also write the rows as JSON there
  -h, --help          this text`;
const { values, limit: limitOption, latency } = benchOptions('bench:models', usage, process.argv.slice(2), () => {
  const { values } = parseArgs({ options: { workspace: { type: 'string', default: 'workspace/utk' }, limit: { type: 'string' }, latency: { type: 'string', default: '50' }, out: { type: 'string' }, model: { type: 'string' }, models: { type: 'string', default: 'ours,ours-tfjs,faceapi,faceres,gear,ssrnet' } } });
  existingPath(join(values.workspace, 'manifest.jsonl'), 'prepared UTKFace workspace (--workspace)', 'file');
  return { values, limit: countOption(values.limit, '--limit'), latency: countOption(values.latency, '--latency')! };
});
const wanted = new Set(values.models!.split(','));
const require = createRequire(import.meta.url);
/** A package's folder (some packages do not export package.json). */
function pkgDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!dir.endsWith(name) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** A face crop as Human passes it to its models: float 0..1, batch of one. */
const unit = (img: RawImage): tf.Tensor4D => tf.tidy(() => tf.div(tf.tensor4d(img.data, [1, img.height, img.width, 3], 'float32'), 255));

/**
 * Each contender is loaded just before its row and disposed after it, so a row is measured with only
 * its own model resident (no other runtime's threads, memory or worker alongside) and unrequested
 * models are never loaded.
 */
const loaders: Record<string, () => Promise<Contender>> = {};
// Ours twice: on the default runtime (onnxruntime when installed) and on tfjs wasm, the same weights.
for (const [key, runtime] of [['ours', 'auto'], ['ours-tfjs', 'tfjs']] as const) {
  loaders[key] = async () => {
    const ours = await loadModel(values.model, { runtime });
    return {
      name: `agegender (${values.model ?? 'models/default'}) on ${ours.runtime}`,
      note: 'this project; one forward pass',
      predict: async (img) => {
        const [s] = await ours.scoreRaw([img]);
        return { age: s!.age, female: s!.femaleProbability };
      },
      dispose: () => ours.dispose(),
    };
  };
}

loaders['faceapi'] = async () => {
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as {
    nets: { ageGenderNet: { loadFromDisk(d: string): Promise<void>; dispose(): void; predictAgeAndGender(t: tf.Tensor3D): Promise<{ age: number; gender: string; genderProbability: number }> } };
  };
  const faceApiDir = join(pkgDir('@vladmandic/face-api'), 'model');
  await faceapi.nets.ageGenderNet.loadFromDisk(faceApiDir);
  return {
    name: 'face-api AgeGenderNet',
    note: 'trained partly on UTKFace (optimistic here)',
    predict: async (img) => {
      const t = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
      const r = await faceapi.nets.ageGenderNet.predictAgeAndGender(t);
      t.dispose();
      return { age: r.age, female: r.gender === 'female' ? r.genderProbability : 1 - r.genderProbability };
    },
    dispose: () => faceapi.nets.ageGenderNet.dispose(),
  };
};

const humanDir = join(pkgDir('@vladmandic/human'), 'models');
const extraDir = join(dirname(pkgDir('@vladmandic/face-api')), 'human-models', 'models');
loaders['faceres'] = async () => {
  const faceres = await graphModel(join(humanDir, 'faceres.json'));
  return {
    name: 'Human faceres (default)',
    note: 'resize to 224, ×255 (human/src/face/faceres.ts)',
    predict: async (img) => {
      const input = tf.tidy(() => tf.mul(tf.image.resizeBilinear(unit(img), [224, 224], false), 255));
      const res = faceres.execute(input) as tf.Tensor[];
      const g = (await res.find((t) => t.shape[1] === 1)!.data())[0]!;
      const ageT = res.find((t) => t.shape[1] === 100)!;
      const all = await ageT.data();
      const idx = (await tf.argMax(ageT, 1).data())[0]!;
      const age = Math.round((all[idx - 1] ?? 0) > (all[idx + 1] ?? 0) ? 10 * idx - 100 * (all[idx - 1] ?? 0) : 10 * idx + 100 * (all[idx + 1] ?? 0)) / 10;
      tf.dispose([input, ...res]);
      return { age, female: 1 - g }; // source: gender <= 0.5 → female
    },
    dispose: () => faceres.dispose(),
  };
};

loaders['gear'] = async () => {
  const gear = await graphModel(join(extraDir, 'gear.json'));
  const ageWeights = [15, 23, 28, 35.5, 45.5, 55.5, 65];
  return {
    name: 'Human gear',
    note: 'trained on UTKFace (optimistic here); crop box [0,.1,.9,.9] → 198 (human/src/gear/gear.ts)',
    predict: async (img) => {
      const input = tf.tidy(() => tf.image.cropAndResize(unit(img), [[0, 0.1, 0.9, 0.9]], [0], [198, 198]));
      const [a, g] = gear.execute(input, ['Identity:0', 'Identity_1:0']) as tf.Tensor[]; // signature names: age_output, gender_output
      const gd = await g!.data();
      const dist = Array.from(await a!.data());
      const sorted = dist.map((p, i) => [ageWeights[i]!, p] as const).sort((x, y) => y[1] - x[1]);
      let age = sorted[0]![0];
      for (let i = 1; i < sorted.length; i++) age += sorted[i]![1] * (sorted[i]![0] - age);
      tf.dispose([input, a!, g!]);
      return { age, female: gd[1]! / (gd[0]! + gd[1]!) };
    },
    dispose: () => gear.dispose(),
  };
};

loaders['ssrnet'] = async () => {
  const ssrAge = await graphModel(join(extraDir, 'age.json'));
  const ssrGender = await graphModel(join(extraDir, 'gender.json'));
  const ageSize = ssrAge.inputs[0]!.shape!.slice(1, 3) as [number, number];
  const genSize = ssrGender.inputs[0]!.shape!.slice(1, 3) as [number, number];
  const genGray = ssrGender.inputs[0]!.shape![3] === 1;
  return {
    name: 'Human ssrnet age + gender',
    note: 'age: resize ×255; gender: resize, (x−.5)·2 (human/src/gear/ssrnet-*.ts)',
    predict: async (img) => {
      const u = unit(img);
      const ai = tf.tidy(() => tf.mul(tf.image.resizeBilinear(u, ageSize, false), 255));
      const gi = tf.tidy(() => {
        const r = tf.image.resizeBilinear(u, genSize, false);
        if (!genGray) return tf.mul(tf.sub(r, 0.5), 2);
        const [red, green, blue] = tf.split(r, 3, 3);
        const gray = tf.addN([tf.mul(red!, 0.2989), tf.mul(green!, 0.587), tf.mul(blue!, 0.114)]);
        return tf.mul(tf.sub(gray, 0.5), 2);
      });
      const a = ssrAge.execute(ai) as tf.Tensor;
      const g = ssrGender.execute(gi) as tf.Tensor;
      const age = (await a.data())[0]!;
      const gd = await g.data();
      tf.dispose([u, ai, gi, a, g]);
      return { age, female: gd[0]! / (gd[0]! + gd[1]!) }; // source: data[0] > data[1] → female
    },
    dispose: () => {
      ssrAge.dispose();
      ssrGender.dispose();
    },
  };
};
const unknown = [...wanted].filter((k) => !(k in loaders));
if (unknown.length > 0) {
  console.error(`bench:models: --models names unknown model(s) ${unknown.join(', ')}; known: ${Object.keys(loaders).join(', ')}`);
  process.exit(2);
}

const backend = await initBackend();
const rows = rowsOfSplit(await readManifest(resolve(values.workspace!)), 'test').filter((r) => r.age !== null && r.gender !== null);
// --limit N: a seeded random sample of N test rows (the manifest is sorted by name, i.e. by age)
const limit = limitOption ?? rows.length;
const test = limit >= rows.length ? rows : shuffleInPlace([...rows], mulberry32(1)).slice(0, limit);
const images: RawImage[] = [];
for (const r of test) images.push(await decodeImage(await readFile(r.source), r.source));
const ages = test.map((r) => r.age!);
const isFemale = test.map((r) => r.gender === 'female');
const results: Array<Record<string, unknown>> = [];
for (const key of Object.keys(loaders).filter((k) => wanted.has(k))) {
  const c = await loaders[key]!();
  const t0 = Date.now();
  const predAge: number[] = [];
  const predFemale: number[] = [];
  for (const img of images) {
    const p = await c.predict(img);
    predAge.push(p.age);
    predFemale.push(p.female);
  }
  const lat: number[] = [];
  for (let i = 0; i < Math.min(latency, images.length) + 3; i++) {
    const s = performance.now();
    await c.predict(images[i % images.length]!);
    if (i >= 3) lat.push(performance.now() - s);
  }
  lat.sort((a, b) => a - b);
  const am = ageMetrics(ages, predAge);
  const gm = genderMetrics(isFemale, predFemale);
  const row = { model: c.name, note: c.note, n: images.length, mae: am.mae, cs8: am.within8, genderAccuracy: gm.accuracy, medianMs: lat[Math.floor(lat.length / 2)] ?? null, seconds: (Date.now() - t0) / 1000 };
  results.push(row);
  console.error(JSON.stringify(row));
  c.dispose();
}
const fmt = (v: unknown, d: number, pct = false): string => (typeof v === 'number' ? (pct ? `${(v * 100).toFixed(d)}%` : v.toFixed(d)) : '–');
console.log(`backend: ${backend.backend}; test split of ${values.workspace}: ${images.length} images${limit < rows.length ? ` (seeded sample of ${rows.length})` : ''}\n`);
console.log('| model | MAE | CS@8 | gender acc | median ms/image | note |\n|---|---|---|---|---|---|');
for (const r of results) console.log(`| ${String(r['model'])} | ${fmt(r['mae'], 2)} | ${fmt(r['cs8'], 1, true)} | ${fmt(r['genderAccuracy'], 1, true)} | ${fmt(r['medianMs'], 1)} | ${String(r['note'])} |`);
if (values.out) await writeFileAtomic(values.out, `${JSON.stringify({ backend, workspace: values.workspace, n: images.length, results }, null, 2)}\n`);
