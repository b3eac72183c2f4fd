// Faces tilted in the picture plane (a camera held at an angle, a head on a shoulder): up to what
// angle does the photo path find the face and give the upright photo's answer? The quarter-turn
// search (analyze.ts `turns`) covers 90° steps; this measures what lies between.
//
// AAF dev photos (every `--every`-th, at most `--count`), each rotated by ±θ (sharp, bilinear, the
// canvas enlarged and filled with the photo's mean colour), analysed as the CLI does (turns on),
// largest face; |Δage| and gender agreement against the upright photo's own answer.
//   node --conditions=agegender-source --import tsx experiments/tilted-photos.ts [--count 100] [--every 40]
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { analyzeOrNoFaces, largestFace, loadFaceDetector, loadModel, type AnalyzedFace, type RawImage } from 'agegender';
import { aafSample } from '../bench/detectors-images.js';

const { values } = parseArgs({
  options: {
    aaf: { type: 'string', default: '../shared/datasets/aaf/photos' },
    count: { type: 'string', default: '100' },
    every: { type: 'string', default: '40' },
  },
});
sharp.concurrency(1);
const model = await loadModel(undefined, { threads: 1 });
const detector = await loadFaceDetector();
const photos = await aafSample(values.aaf!, Number(values.count), Number(values.every));

async function tilt(im: RawImage, degrees: number): Promise<RawImage> {
  const raw = { width: im.width, height: im.height, channels: im.channels };
  const { channels } = await sharp(im.data, { raw }).stats();
  const background = { r: channels[0]!.mean, g: channels[1]!.mean, b: channels[2]!.mean };
  const { data, info } = await sharp(im.data, { raw }).rotate(degrees, { background }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels as RawImage['channels'] };
}

const upright: Array<AnalyzedFace | null> = [];
for (const p of photos) upright.push(largestFace((await analyzeOrNoFaces(model, detector, p, { detect: true })).faces));
console.log(`${photos.length} AAF photos (every ${values.every}th); model ${model.metadata.name}, ${detector.name}\n`);
console.log('| tilt | faces found | found turned | mean \\|Δage\\| vs upright | within 1 y | gender agrees |');
console.log('|---|---|---|---|---|---|');
for (const theta of [0, 10, 20, 30, 40, 45, 50, 60]) {
  let found = 0, turned = 0, agree = 0, within = 0, sum = 0, n = 0;
  for (const [i, p] of photos.entries()) {
    const ref = upright[i];
    if (!ref) continue;
    for (const sign of theta === 0 ? [1] : [1, -1]) {
      n++;
      const res = await analyzeOrNoFaces(model, detector, await tilt(p, sign * theta), { detect: true });
      const face = largestFace(res.faces);
      if (!face) continue;
      found++;
      if (res.turned) turned++;
      const d = Math.abs(face.prediction.age - ref.prediction.age);
      sum += d;
      if (d <= 1) within++;
      if ((face.prediction.femaleProbability > 0.5) === (ref.prediction.femaleProbability > 0.5)) agree++;
    }
  }
  const pct = (k: number, m: number): string => `${((100 * k) / m).toFixed(1)}%`;
  console.log(`| ±${theta}° | ${pct(found, n)} | ${turned} | ${(sum / found).toFixed(2)} | ${pct(within, found)} | ${pct(agree, found)} |`);
}
detector.dispose();
