// How close to UTKFace's own chip frame must the photo path cut for the synthetic-photo gap (issue 17:
// MAE of |photo path − direct chip| ≤ 0.5 years) to be reachable? Photos made from chips by an exact,
// known similarity G (scripts/chip-photos.ts), so every cut can be placed anywhere between the perfect
// one (G) and the photo path's own (T = G ∘ E, E its error in the chip's frame):
//   direct     the chip itself, detection off (the grey chip for a grey photo);
//   photo      the photo path (analyzeOrNoFaces, largest face), as bench:photos scores it;
//   f × E      the cut G ∘ E^f, E's parameters (a − 1, b, tx, ty) scaled by f: f = 0 is the perfect
//              cut (the resampling floor), f = 1 the photo path's own cut;
//   random X   the perfect cut moved by a similarity of random direction whose corner error is X px.
// Reported per variant: the mean corner error (RMS over the 200-px chip's corners), the MAE of the
// difference from direct, the share within 0.5 years, gender agreement.
//   node --conditions=agegender-source --import tsx experiments/cut-error-curve.ts <workspace> k/n [--split val] [--count 600] [--seed 17] [--out tmp/cut-curve]
//   node --conditions=agegender-source --import tsx experiments/cut-error-curve.ts summary [--shards n] [--out tmp/cut-curve]
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  alignFace, analyzeImage, analyzeOrNoFaces, composeSimilarity, dlibChipToImage, dlibTemplate, invertSimilarity, largestFace, loadFaceDetector,
  loadImageInput, loadLandmarks68, loadModel, readManifest, rowsOfSplit, spreadSubset, type FaceDetector, type RawImage, type Similarity,
} from 'agegender';
import { mulberry32 } from 'agegender/core';
import { chipToImageSimilarity } from 'agegender/pipeline';
import { chipPhoto, cornerError, refinementPass } from '../scripts/chip-photos.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { split: { type: 'string', default: 'val' }, count: { type: 'string', default: '600' }, seed: { type: 'string', default: '17' }, out: { type: 'string', default: 'tmp/cut-curve' }, shards: { type: 'string', default: '2' } },
});
const FRACTIONS = [0, 0.25, 0.5, 0.75, 1];
const RANDOM_PX = [1, 2, 3, 4, 6];
interface Pred { age: number; female: number }
interface Row { name: string; grey: boolean; direct: Pred; photo: Pred | null; error: number; cuts: Record<string, { px: number; pred: Pred }> }

const isGrey = (img: RawImage): boolean => {
  for (let k = 0; k < img.data.length; k += img.channels) if (img.data[k] !== img.data[k + 1] || img.data[k] !== img.data[k + 2]) return false;
  return true;
};
const greyOf = (img: RawImage): RawImage => {
  const out = new Uint8Array(img.width * img.height * 3);
  for (let k = 0, o = 0; o < out.length; k += img.channels, o += 3) {
    const g = Math.round(0.299 * img.data[k]! + 0.587 * img.data[k + 1]! + 0.114 * img.data[k + 2]!);
    out[o] = out[o + 1] = out[o + 2] = g;
  }
  return { width: img.width, height: img.height, channels: 3, data: out };
};
const scaled = (E: Similarity, f: number): Similarity => ({ a: 1 + f * (E.a - 1), b: f * E.b, tx: f * E.tx, ty: f * E.ty });

async function collect(workspace: string, shard: string): Promise<void> {
  const [k, n] = shard.split('/').map(Number) as [number, number];
  const rows0 = rowsOfSplit(await readManifest(workspace), values.split as 'val' | 'test');
  const sources = spreadSubset(rows0, Number(values.count)).map((r) => r.source);
  const model = await loadModel(undefined, { threads: 1 });
  const detector: FaceDetector = await loadFaceDetector({ detector: 'yunet' });
  const net = await loadLandmarks68();
  const template = dlibTemplate()!;
  const predict = async (chip: RawImage): Promise<Pred> => {
    const p = (await analyzeImage(model, null, chip, { detect: false })).faces[0]!.prediction;
    return { age: p.age, female: p.femaleProbability };
  };
  const rows: Row[] = [];
  for (let i = k; i < sources.length; i += n) {
    if (i % 50 < n) console.error(`${i}/${sources.length}`);
    const { photo, G } = await chipPhoto(sources, i, Number(values.seed));
    const grey = isGrey(photo);
    const chip = await loadImageInput(sources[i]!);
    const direct = await predict(grey ? greyOf(chip) : chip);
    const found = largestFace((await analyzeOrNoFaces(model, detector, photo, { detect: true })).faces);
    // the photo path's cut, step by step as src/pipeline/analyze.ts alignRefined makes it
    const pass = await refinementPass(photo, detector, net);
    if (!pass) continue;
    const { face, first, points } = pass;
    const T = composeSimilarity(chipToImageSimilarity(face, first.width), dlibChipToImage(template, points, first.width));
    const E = composeSimilarity(invertSimilarity(G), T);
    const cuts: Row['cuts'] = {};
    for (const f of FRACTIONS) {
      const t = composeSimilarity(G, scaled(E, f));
      cuts[`f${f}`] = { px: cornerError(t, G), pred: await predict(alignFace(photo, face, { transform: t })) };
    }
    const rng = mulberry32(1000 + i);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const dir: Similarity = { a: 1 + gauss() / 100, b: gauss() / 100, tx: gauss(), ty: gauss() };
    const unit = cornerError(dir, { a: 1, b: 0, tx: 0, ty: 0 });
    for (const x of RANDOM_PX) {
      const t = composeSimilarity(G, scaled(dir, x / unit));
      cuts[`r${x}`] = { px: cornerError(t, G), pred: await predict(alignFace(photo, face, { transform: t })) };
    }
    rows.push({ name: sources[i]!, grey, direct, photo: found ? { age: found.prediction.age, female: found.prediction.femaleProbability } : null, error: cornerError(T, G), cuts });
  }
  model.dispose();
  detector.dispose();
  net.dispose();
  const file = `${values.out!}-${k}of${n}.json`;
  await writeFile(`${file}.tmp`, JSON.stringify(rows));
  await rename(`${file}.tmp`, file);
  console.error(`wrote ${file}: ${rows.length} photos`);
}

async function summary(): Promise<void> {
  const n = Number(values.shards);
  const rows: Row[] = [];
  for (let k = 0; k < n; k++) {
    const file = `${values.out!}-${k}of${n}.json`;
    if (!existsSync(file)) throw new Error(`${file} is missing`);
    rows.push(...(JSON.parse(await readFile(file, 'utf8')) as Row[]));
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const line = (name: string, px: number[], preds: Array<Pred | null>): string => {
    const pairs = rows.map((r, i) => [r.direct, preds[i]] as const).filter((p): p is readonly [Pred, Pred] => p[1] !== null);
    const d = pairs.map(([a, b]) => Math.abs(a.age - b.age));
    const agree = mean(pairs.map(([a, b]) => ((a.female >= 0.5) === (b.female >= 0.5) ? 1 : 0)));
    return `| ${name} | ${pairs.length} | ${px.length ? mean(px).toFixed(2) : '–'} | ${mean(d).toFixed(3)} | ${(100 * mean(d.map((v) => (v <= 0.5 ? 1 : 0)))).toFixed(1)}% | ${(100 * agree).toFixed(1)}% |`;
  };
  console.log(`${rows.length} photos (${rows.filter((r) => r.grey).length} grey); photo path cut: corner error ${mean(rows.map((r) => r.error)).toFixed(2)} px`);
  console.log('| cut | photos | corner error px | MAE of difference | within 0.5 y | gender agrees |\n|---|---|---|---|---|---|');
  console.log(line('photo path (analyzeOrNoFaces)', [], rows.map((r) => r.photo)));
  for (const f of FRACTIONS) console.log(line(`${f} × the photo path's error`, rows.map((r) => r.cuts[`f${f}`]!.px), rows.map((r) => r.cuts[`f${f}`]!.pred)));
  for (const x of RANDOM_PX) console.log(line(`perfect cut moved ${x} px, random direction`, rows.map((r) => r.cuts[`r${x}`]!.px), rows.map((r) => r.cuts[`r${x}`]!.pred)));
  const same = rows.filter((r) => r.photo && Math.abs(r.photo.age - r.cuts.f1!.pred.age) < 1e-6).length;
  console.log(`sanity: the replicated cut (f = 1) equals the photo path's prediction on ${same} of ${rows.filter((r) => r.photo).length} photos`);
}

if (positionals[0] === 'summary') await summary();
else await collect(positionals[0] ?? 'workspace/utk', positionals[1] ?? '0/1');
