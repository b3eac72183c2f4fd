// How the age is read out of the softmax over one-year bins. The product reports the expected value;
// a broad distribution (an unfamiliar face) pulls it towards the middle of the training ages, which is
// the shape of the AAF dev set's error by decade (teens read older, adults of 30–59 younger). Does a
// readout chosen on UTKFace val — the median, a sharpened softmax (p^T renormalised) or a linear stretch
// of the expected age — reduce it, without losing on val?
//
// Val chips (every labelled val row, --no-detect with the folder's inference settings) and the AAF dev
// photos (the photo path, largest face) are predicted once; the 101 probabilities of each are captured
// and every readout is computed from them. T and the stretch are fitted on the even val rows and
// reported on the odd ones; AAF is only measured (never fitted on).
//   node --conditions=agegender-source --import tsx experiments/age-readout.ts \
//     --workspace /abs/workspace/utk --aaf ../shared/datasets/aaf [--aaf-limit 1000] [--model <dir>] [--probs out.json]
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { AGE_BINS, expectedAge } from 'agegender/model';
import {
  analyzeOrNoFaces, largestFace, loadFaceDetector, loadImageInput, loadModel, parsePhotoLabels, readManifest, rowsOfSplit, spreadSubset,
  type AgeGenderModel, type RawImage,
} from 'agegender';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'workspace/utk' },
    aaf: { type: 'string', default: '../shared/datasets/aaf' },
    'aaf-limit': { type: 'string' },
    model: { type: 'string' },
    probs: { type: 'string' },
  },
});
sharp.concurrency(1);

type Row = { age: number; probs: Float32Array };
const model: AgeGenderModel = await loadModel(values.model, { threads: 1 });
// Experiment-only: the model's private batch runner returns the softmax rows; keep each call's rows.
const captured: Float32Array[] = [];
const inner = model as unknown as { run(images: readonly RawImage[]): Promise<Array<{ probs: Float32Array; female: number }>> };
const run = inner.run.bind(model);
inner.run = async (images) => {
  const r = await run(images);
  captured.length = 0;
  captured.push(...r.map((x) => x.probs));
  return r;
};

async function loadProbs(): Promise<{ val: Row[]; aaf: Row[] }> {
  if (values.probs) {
    try {
      const saved = JSON.parse(await readFile(values.probs, 'utf8')) as { val: Array<{ age: number; probs: number[] }>; aaf: Array<{ age: number; probs: number[] }> };
      const back = (rows: Array<{ age: number; probs: number[] }>): Row[] => rows.map((r) => ({ age: r.age, probs: Float32Array.from(r.probs) }));
      return { val: back(saved.val), aaf: back(saved.aaf) };
    } catch {
      // not there yet: predict and save
    }
  }
  const val: Row[] = [];
  const valRows = rowsOfSplit(await readManifest(resolve(values.workspace!)), 'val');
  for (let i = 0; i < valRows.length; i += 32) {
    const batch = valRows.slice(i, i + 32);
    const images = await Promise.all(batch.map((r) => loadImageInput(r.source)));
    await model.predictBatch(images);
    batch.forEach((r, k) => val.push({ age: r.age, probs: captured[k]! }));
  }
  process.stderr.write(`val: ${val.length} chips\n`);
  const aafDir = resolve(values.aaf!);
  const labels = parsePhotoLabels(await readFile(join(aafDir, 'labels.csv'), 'utf8'), 'labels.csv');
  const chosen = spreadSubset(labels, values['aaf-limit'] === undefined ? undefined : Number(values['aaf-limit']));
  const detector = await loadFaceDetector();
  const aaf: Row[] = [];
  for (const [i, label] of chosen.entries()) {
    captured.length = 0;
    const image = await loadImageInput(join(aafDir, 'photos', label.file), label.file);
    const { faces } = await analyzeOrNoFaces(model, detector, image, { detect: true });
    const face = largestFace(faces);
    if (face) aaf.push({ age: label.age, probs: captured[faces.indexOf(face)]! });
    if ((i + 1) % 500 === 0) process.stderr.write(`aaf: ${i + 1}/${chosen.length}\n`);
  }
  detector.dispose();
  if (values.probs) {
    const plain = (rows: Row[]): Array<{ age: number; probs: number[] }> => rows.map((r) => ({ age: r.age, probs: Array.from(r.probs, (p) => Math.round(p * 1e7) / 1e7) }));
    await writeFile(values.probs, JSON.stringify({ val: plain(val), aaf: plain(aaf) }));
  }
  return { val, aaf };
}

const median = (p: Float32Array): number => {
  let c = 0;
  for (let k = 0; k < AGE_BINS; k++) {
    const pk = p[k]!;
    if (c + pk >= 0.5 && pk > 0) return Math.max(0, k - 0.5 + (0.5 - c) / pk);
    c += pk;
  }
  return AGE_BINS - 0.5;
};
const sharpened = (p: Float32Array, t: number): number => {
  let s = 0;
  let e = 0;
  for (let k = 0; k < AGE_BINS; k++) {
    const q = Math.pow(p[k]!, t);
    s += q;
    e += k * q;
  }
  return e / s;
};
const maeOf = (rows: Row[], read: (p: Float32Array) => number): number => rows.reduce((s, r) => s + Math.abs(read(r.probs) - r.age), 0) / rows.length;
const cs5 = (rows: Row[], read: (p: Float32Array) => number): number => rows.filter((r) => Math.abs(read(r.probs) - r.age) <= 5).length / rows.length;
const decades = (rows: Row[], read: (p: Float32Array) => number): string =>
  Array.from({ length: 9 }, (_, d) => {
    const inD = rows.filter((r) => (d === 8 ? r.age >= 80 : Math.floor(r.age / 10) === d));
    if (inD.length === 0) return '–';
    const m = inD.reduce((s, r) => s + read(r.probs) - r.age, 0) / inD.length;
    return `${m >= 0 ? '+' : ''}${m.toFixed(1)}`;
  }).join(' / ');

const { val, aaf } = await loadProbs();
model.dispose();
const fit = val.filter((_, i) => i % 2 === 0);
const held = val.filter((_, i) => i % 2 === 1);
// T on a grid, chosen by MAE on the fitting half
const grid = [0.8, 1, 1.1, 1.2, 1.35, 1.5, 1.75, 2, 2.5, 3];
const bestT = grid.reduce((b, t) => (maeOf(fit, (p) => sharpened(p, t)) < maeOf(fit, (p) => sharpened(p, b)) ? t : b), 1);
// linear stretch about the fitting half's mean label: age' = m + b·(E − m), b on a grid
const m = fit.reduce((s, r) => s + r.age, 0) / fit.length;
const slopes = [0.95, 1, 1.03, 1.06, 1.1, 1.15, 1.2, 1.3];
const stretch = (b: number) => (p: Float32Array): number => Math.max(0, m + b * (expectedAge(p) - m));
const bestB = slopes.reduce((best, b) => (maeOf(fit, stretch(b)) < maeOf(fit, stretch(best)) ? b : best), 1);

const readouts: Array<[string, (p: Float32Array) => number]> = [
  ['expected value (shipped)', expectedAge],
  ['median', median],
  ...grid.filter((t) => t !== 1).map((t): [string, (p: Float32Array) => number] => [`sharpened T=${t}${t === bestT ? ' (val choice)' : ''}`, (p) => sharpened(p, t)]),
  [`stretch b=${bestB} about ${m.toFixed(1)} (val choice)`, stretch(bestB)],
  ['stretch b=1.1', stretch(1.1)],
];
console.log(`val ${val.length} chips (fit on ${fit.length}, held out ${held.length}); AAF ${aaf.length} faces found\n`);
console.log('| readout | val (held-out half) MAE | val CS@5 | AAF MAE | AAF CS@5 | AAF signed error by decade (0s … 80+) |\n|---|---|---|---|---|---|');
for (const [name, read] of readouts) {
  console.log(`| ${name} | ${maeOf(held, read).toFixed(3)} | ${(cs5(held, read) * 100).toFixed(1)}% | ${maeOf(aaf, read).toFixed(3)} | ${(cs5(aaf, read) * 100).toFixed(1)}% | ${decades(aaf, read)} |`);
}
