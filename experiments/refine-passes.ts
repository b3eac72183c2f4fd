// Does a second dlib-style refinement pass, or averaging over small geometric jitter, bring the photo
// path closer to the direct chip prediction? Synthetic photos (bench/synthetic-photos.ts, seed 17) built
// from VAL chips of a prepared workspace (model choices are made on val; bench:photos uses test chips),
// each predicted several ways and compared with the chip's direct prediction (--no-detect; grey chip for
// a grey photo), the figure bench:photos reports (MAE of the difference, share within 0.5 y, gender
// agreement):
//   pass1     the photo path as shipped: detect → five-point chip → detect again → 68 landmarks → dlib cut;
//   pass2     one more pass on pass1's chip: detect → 68 landmarks → dlib cut, composed;
//   pass3     and once more;
//   mean12    mean of pass1's and pass2's predictions (age and P(female));
//   jitter    pass2's transform with the chip zoomed by 0.97, 1.00 and 1.03 about its centre, predictions averaged;
//   five      the plain five-point fit of the second detection (align: 'five-point').
//   node --conditions=agegender-source --import tsx experiments/refine-passes.ts \
//     --workspace /abs/workspace/utk [--count 300] [--split val] [--model <dir>] [--seed 17]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import {
  alignFace, analyzeImage, applySimilarity, composeSimilarity, dlibChipToImage, dlibTemplate, loadFaceDetector, loadImageInput, loadModel,
  readManifest, rowsOfSplit, sharedLandmarks68, spreadSubset, type AgeGenderModel, type FaceDetector, type RawImage, type Similarity,
} from 'agegender';
import { chipToImageSimilarity, type DetectedFace } from 'agegender/pipeline';
import { syntheticPhoto } from '../bench/synthetic-photos.js';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'workspace/utk' },
    count: { type: 'string', default: '300' },
    split: { type: 'string', default: 'val' },
    model: { type: 'string' },
    seed: { type: 'string', default: '17' },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
const split = values.split as 'val' | 'test' | 'train';
sharp.concurrency(1);

const VARIANTS = ['pass1', 'pass2', 'pass3', 'mean12', 'jitter', 'five'] as const;
type Variant = (typeof VARIANTS)[number];
type Pred = { age: number; female: number };

const model: AgeGenderModel = await loadModel(values.model, { threads: 1 });
const detector: FaceDetector = await loadFaceDetector();
const landmarks = await sharedLandmarks68();
const template = dlibTemplate();
if (!template) throw new Error('no 68-point template');

const predict = async (chips: RawImage[]): Promise<Pred[]> => (await model.predictBatch(chips)).map((p) => ({ age: p.age, female: p.femaleProbability }));
const central = (faces: DetectedFace[], side: number): DetectedFace | undefined =>
  faces.filter((f) => f.landmarks && Math.hypot(f.box.x + f.box.width / 2 - side / 2, f.box.y + f.box.height / 2 - side / 2) < side / 4)[0];

/** One dlib pass on the chip cut by `t` (chip → image): the refined chip → image similarity, or null. */
async function pass(image: RawImage, face: DetectedFace, t: Similarity): Promise<Similarity | null> {
  const chip = alignFace(image, face, { transform: t });
  const again = central(await detector.detect(chip), chip.width);
  if (!again) return null;
  const points = await landmarks.locate(chip, again.box);
  return points ? composeSimilarity(t, dlibChipToImage(template!, points, chip.width)) : null;
}

/** The chip → chip zoom by `k` about the centre of a `size` chip. */
const zoom = (k: number, size: number): Similarity => {
  const c = size / 2;
  return { a: k, b: 0, tx: c - k * c, ty: c - k * c };
};

const workspace = resolve(values.workspace!);
const rows = rowsOfSplit(await readManifest(workspace), split);
const chosen = spreadSubset(rows, count);
const faceFree = resolve('test/fixtures/photos/no-face.jpg');
const gray = async (path: string): Promise<Buffer> => sharp(path).grayscale().toColourspace('srgb').png().toBuffer();
const diffs: Record<Variant, { d: number; agree: boolean }[]> = Object.fromEntries(VARIANTS.map((v) => [v, []])) as never;
let found = 0;
const t0 = Date.now();
for (let i = 0; i < chosen.length; i++) {
  const row = chosen[i]!;
  const other = rows[(rows.indexOf(row) + Math.floor(rows.length / 2)) % rows.length]!;
  const { spec, jpeg } = await syntheticPhoto(seed, i, { chip: row.source, otherChip: other.source, faceFree });
  const direct = (await analyzeImage(model, null, await loadImageInput(spec.grayscale ? await gray(row.source) : row.source), { detect: false })).faces[0]!.prediction;
  const image = await loadImageInput(jpeg);
  const face = (await detector.detect(image)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0];
  if (!face?.landmarks) continue;
  found++;
  const t0s = chipToImageSimilarity(face, 200);
  const first = alignFace(image, face);
  const again = central(await detector.detect(first), first.width);
  const preds: Partial<Record<Variant, Pred>> = {};
  if (again) {
    const pts = await landmarks.locate(first, again.box);
    const t1 = pts ? composeSimilarity(t0s, dlibChipToImage(template, pts, 200)) : null;
    const t2 = t1 ? await pass(image, face, t1) : null;
    const t3 = t2 ? await pass(image, face, t2) : null;
    const [p1, p2, p3] = await predict([t1, t2 ?? t1, t3 ?? t2 ?? t1].map((t) => (t ? alignFace(image, face, { transform: t }) : first)));
    preds.pass1 = p1!;
    preds.pass2 = p2!;
    preds.pass3 = p3!;
    preds.mean12 = { age: (p1!.age + p2!.age) / 2, female: (p1!.female + p2!.female) / 2 };
    const tj = t2 ?? t1;
    if (tj) {
      const js = await predict([0.97, 1, 1.03].map((k) => alignFace(image, face, { transform: composeSimilarity(tj, zoom(k, 200)) })));
      preds.jitter = { age: js.reduce((s, p) => s + p.age, 0) / js.length, female: js.reduce((s, p) => s + p.female, 0) / js.length };
    }
    const lm = again.landmarks!.map((p) => applySimilarity(t0s, p));
    preds.five = (await predict([alignFace(image, { leftEye: lm[0]!, rightEye: lm[1]!, landmarks: lm })]))[0]!;
  }
  for (const v of VARIANTS) {
    const p = preds[v] ?? (await predict([first]))[0]!;
    diffs[v].push({ d: Math.abs(p.age - direct.age), agree: p.female >= 0.5 === direct.femaleProbability >= 0.5 });
  }
  if ((i + 1) % 50 === 0) process.stderr.write(`${i + 1}/${chosen.length} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
}
console.log(`synthetic photos from ${split} chips (seed ${seed}): ${chosen.length}, face found in ${found}\n`);
console.log('| variant | MAE of the difference | within 0.5 y | gender agreement |\n|---|---|---|---|');
for (const v of VARIANTS) {
  const r = diffs[v];
  const mae = r.reduce((s, x) => s + x.d, 0) / r.length;
  const within = r.filter((x) => x.d <= 0.5).length / r.length;
  const agree = r.filter((x) => x.agree).length / r.length;
  console.log(`| ${v} | ${mae.toFixed(3)} | ${(within * 100).toFixed(1)}% | ${(agree * 100).toFixed(1)}% |`);
}
detector.dispose();
model.dispose();
