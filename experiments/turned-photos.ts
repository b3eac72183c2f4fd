// Photos stored sideways or upside down, without an EXIF tag to say so (a scan fed in sideways, a
// phone photo whose tag was stripped): does the photo path find the face, and is the answer the one
// the upright photo gets? Also: does looking at the turned copies invent faces in face-free images,
// and what does it cost?
//
// AAF dev photos (every `--every`-th in name order, at most `--count`; colour, a grey copy, and a copy
// enlarged to 1,200 px, where the orientations are compared on a shrunk copy), turned 90°, 180° and
// 270° clockwise in their pixels (sharp, lossless), analysed
// with `turns: false` and `turns: true` (analyze.ts), largest face. |Δage| and gender agreement are
// against the upright photo's own answer. Face-free: the 41 images of bench/detectors.ts, upright
// and turned.
//   node --conditions=agegender-source --import tsx experiments/turned-photos.ts [--count 200] [--every 20]
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { analyzeOrNoFaces, largestFace, loadFaceDetector, loadModel, type AnalyzedFace, type AnalyzeResult, type RawImage } from 'agegender';
import { turnImage, type QuarterTurn } from 'agegender/pipeline';
import { aafSample, faceFreeImages, grey } from '../bench/detectors-images.js';

const { values } = parseArgs({
  options: {
    aaf: { type: 'string', default: '../shared/datasets/aaf/photos' },
    count: { type: 'string', default: '200' },
    every: { type: 'string', default: '20' },
    model: { type: 'string' },
  },
});
sharp.concurrency(1);
const model = await loadModel(values.model, { threads: 1 });
const detector = await loadFaceDetector();
const photos = await aafSample(values.aaf!, Number(values.count), Number(values.every));

async function timed(image: RawImage, turns: boolean): Promise<{ result: AnalyzeResult; ms: number }> {
  const t0 = performance.now();
  const result = await analyzeOrNoFaces(model, detector, image, { detect: true, turns });
  return { result, ms: performance.now() - t0 };
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const pct = (k: number, n: number): string => `${((100 * k) / n).toFixed(1)}%`;

const upright: Array<AnalyzedFace | null> = [];
for (const p of photos) upright.push(largestFace((await timed(p, false)).result.faces));
const refs = photos.map((p, i) => ({ photo: p, ref: upright[i] })).filter((x) => x.ref);
console.log(`${photos.length} AAF photos (every ${values.every}th), ${refs.length} with an upright face; model ${model.metadata.name}, ${detector.name}`);
console.log('');
console.log('| stored as | photos | turns off: found | mean \\|Δage\\| | gender agrees | turns on: found | right turn | mean \\|Δage\\| | gender agrees | median ms, off / on |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
const sets: Array<{ name: string; turn: QuarterTurn; grey?: boolean; large?: boolean }> = [
  { name: 'upright', turn: 0 },
  { name: 'turned 90°', turn: 90 },
  { name: 'turned 180°', turn: 180 },
  { name: 'turned 270°', turn: 270 },
  { name: 'upright, grey', turn: 0, grey: true },
  { name: 'turned 90°, grey', turn: 90, grey: true },
  { name: 'upright, enlarged to 1,200 px', turn: 0, large: true },
  { name: 'turned 90°, enlarged to 1,200 px', turn: 90, large: true },
];
/** The photo enlarged to 1,200 px on its longer side (a large photo: the turns are compared on a shrunk copy). */
async function enlarged(im: RawImage): Promise<RawImage> {
  const k = 1200 / Math.max(im.width, im.height);
  const { data, info } = await sharp(im.data, { raw: { width: im.width, height: im.height, channels: im.channels } })
    .resize(Math.round(im.width * k), Math.round(im.height * k))
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels as RawImage['channels'] };
}
type Tally = { found: number; right: number; agree: number; sumAbs: number; ms: number[] };
const tally = (): Tally => ({ found: 0, right: 0, agree: 0, sumAbs: 0, ms: [] });
for (const s of sets) {
  const off = tally();
  const on = tally();
  for (const { photo, ref } of refs) {
    const stored = await turnImage(s.grey ? grey(photo) : s.large ? await enlarged(photo) : photo, s.turn);
    for (const [t, turns] of [[off, false], [on, true]] as const) {
      const { result, ms } = await timed(stored, turns);
      t.ms.push(ms);
      const face = largestFace(result.faces);
      if (!face) continue;
      t.found++;
      if ((result.turned ?? 0) === (360 - s.turn) % 360) t.right++;
      t.sumAbs += Math.abs(face.prediction.age - ref!.prediction.age);
      if ((face.prediction.femaleProbability > 0.5) === (ref!.prediction.femaleProbability > 0.5)) t.agree++;
    }
  }
  const cells = (t: Tally): string => `${pct(t.found, refs.length)} | ${(t.sumAbs / t.found).toFixed(2)} | ${pct(t.agree, t.found)}`;
  console.log(`| ${s.name} | ${refs.length} | ${cells(off)} | ${pct(on.found, refs.length)} | ${pct(on.right, on.found)} | ${(on.sumAbs / on.found).toFixed(2)} | ${pct(on.agree, on.found)} | ${median(off.ms).toFixed(0)} / ${median(on.ms).toFixed(0)} |`);
}

const empty = await faceFreeImages();
console.log('');
console.log('| face-free images | images | with a face, turns off | with a face, turns on | median ms, turns off / on |');
console.log('|---|---|---|---|---|');
for (const turn of [0, 90] as const) {
  let off = 0, on = 0;
  const msOff: number[] = [], msOn: number[] = [];
  for (const im of empty) {
    const stored = await turnImage(im, turn);
    const a = await timed(stored, false);
    const b = await timed(stored, true);
    if (a.result.faces.length) off++;
    if (b.result.faces.length) on++;
    msOff.push(a.ms);
    msOn.push(b.ms);
  }
  console.log(`| ${turn === 0 ? 'as they are' : 'turned 90°'} | ${empty.length} | ${off} | ${on} | ${median(msOff).toFixed(0)} / ${median(msOn).toFixed(0)} |`);
}
detector.dispose();
