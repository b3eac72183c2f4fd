// Does a 68-point shape correction help where the photo path reads the landmarks: on the first,
// five-point chip cut from a photo? Photos made from UTKFace chips by a known similarity
// (scripts/chip-photos.ts: train chips seed 5, val chips seed 17), refinement pass as in
// src/pipeline/analyze.ts. The error is the RMS, over the chip's corners, between the true chip → photo
// map and the estimate, in chip pixels. Compared: the first chip, the plain fit of the committed
// points, the committed (or --template) file's corrected fit, a correction fitted on clean chips
// (--clean: a template file written by experiments/template-68-fit.ts --write), and ridge corrections
// fitted on the train photos for several λ.
//   node --conditions=agegender-source --import tsx experiments/shape-correction-photos.ts <workspace> [--train 3000] [--val 1000] [--cache tmp/shape-photos.json] [--template file] [--clean file]
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { dlibChipToImage, dlibTemplate, fitSimilarity, loadFaceDetector, loadLandmarks68, parseDlibTemplate, readManifest, rowsOfSplit, spreadSubset, type DlibTemplate, type Similarity } from 'agegender';
import { as68, chipPhotoSamples, cornerError, ridge, shapeAndError, type ChipPhotoSample, type Point } from '../scripts/chip-photos.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { train: { type: 'string', default: '3000' }, val: { type: 'string', default: '1000' }, cache: { type: 'string', default: 'tmp/shape-photos.json' }, template: { type: 'string' }, clean: { type: 'string' }, mirror: { type: 'boolean', default: false } } });
const size = 200;

async function collect(): Promise<{ train: ChipPhotoSample[]; val: ChipPhotoSample[] }> {
  if (existsSync(values.cache!)) return JSON.parse(await readFile(values.cache!, 'utf8')) as { train: ChipPhotoSample[]; val: ChipPhotoSample[] };
  const manifest = await readManifest(positionals[0] ?? 'workspace/utk');
  const detector = await loadFaceDetector({ detector: 'yunet' });
  const net = await loadLandmarks68();
  const one = (split: 'train' | 'val', n: number, seed: number) => chipPhotoSamples(spreadSubset(rowsOfSplit(manifest, split), n).map((r) => r.source), seed, detector, net, (i) => { if (i > 0 && i % 250 === 0) console.error(`${split}: ${i}/${n}`); }, values.mirror);
  const data = { train: await one('train', Number(values.train), 5), val: await one('val', Number(values.val), 17) };
  detector.dispose();
  net.dispose();
  await writeFile(`${values.cache!}.tmp`, JSON.stringify(data));
  await rename(`${values.cache!}.tmp`, values.cache!);
  return data;
}

const { train, val } = await collect();
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const file = async (path: string): Promise<DlibTemplate> => parseDlibTemplate(await readFile(path, 'utf8'), path);
const committed = values.template ? await file(values.template) : dlibTemplate()!;
const template = committed.points.map((q) => ({ x: q.x, y: q.y }));
const report = (name: string, estimate: (s: ChipPhotoSample) => Similarity): void => {
  const e = (set: ChipPhotoSample[]): string => { const v = set.map((s) => cornerError(estimate(s), s.truth)).sort((a, b) => a - b); return `${mean(v).toFixed(2)} px (median ${v[v.length >> 1]!.toFixed(2)})`; };
  console.log(`${name.padEnd(38)} train ${e(train)}  val ${e(val)}`);
};
console.log(`photos with a face and 68 landmarks: train ${train.length}, val ${val.length}`);
report('first (five-point) chip', () => ({ a: 1, b: 0, tx: 0, ty: 0 }));
report('plain fit of the points', (s) => fitSimilarity(template, s.points));
if (committed.correction) report('the template file, corrected', (s) => dlibChipToImage(committed, as68(s), size));
if (values.clean) { const clean = await file(values.clean); report('correction fitted on clean chips', (s) => dlibChipToImage(clean, as68(s), size)); }
const rows = train.map((s) => shapeAndError(template, s, fitSimilarity(template, s.points)));
for (const lambda of [0.0001, 0.001, 0.01, 0.1, 1]) {
  const t = { size, points: template, correction: ridge(rows.map((r) => r.x), rows.map((r) => r.y), lambda) };
  report(`correction fitted on photos, λ = ${lambda}`, (s) => dlibChipToImage(t, as68(s), size));
}
if (train[0]!.mirrored) {
  // --mirror: the landmarks averaged with those read on the mirrored chip, plain and corrected
  const averaged = (s: ChipPhotoSample): ChipPhotoSample => ({ ...s, points: s.points.map((p, i) => ({ x: (p.x + s.mirrored![i]!.x) / 2, y: (p.y + s.mirrored![i]!.y) / 2 })) });
  report('mirror-averaged, plain fit', (s) => fitSimilarity(template, averaged(s).points));
  const rowsM = train.map((s) => { const a = averaged(s); return shapeAndError(template, a, fitSimilarity(template, a.points)); });
  for (const lambda of [0.001, 0.01, 0.1, 1]) {
    const t = { size, points: template, correction: ridge(rowsM.map((r) => r.x), rowsM.map((r) => r.y), lambda) };
    report(`mirror-averaged, corrected, λ = ${lambda}`, (s) => dlibChipToImage(t, as68(averaged(s)), size));
  }
}
