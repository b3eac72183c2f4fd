// The shipped orientation rule (analyze.ts detectFaces, `turns`) on photos stored in every quarter
// turn: how often does it end at the upright orientation, and how many upright photos does it
// search? Also faces tilted by ±45°, where two orientations leave the face 45° off upright and either
// is right (+45°: kept or turned 270°; −45°: kept or turned 90°).
//   node --conditions=agegender-source --import tsx experiments/turn-rule.ts --workspace /abs/workspace/utk
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { detectFaces, loadFaceDetector, type RawImage } from 'agegender';
import { turnImage, type QuarterTurn } from 'agegender/pipeline';
import { aafSample, grey, syntheticSample } from '../bench/detectors-images.js';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'workspace/utk' },
    aaf: { type: 'string', default: '../shared/datasets/aaf/photos' },
  },
});
sharp.concurrency(1);
const detector = await loadFaceDetector();
const aaf = await aafSample(values.aaf!, 1000, 4);

async function tilt(im: RawImage, degrees: number): Promise<RawImage> {
  const raw = { width: im.width, height: im.height, channels: im.channels };
  const { channels } = await sharp(im.data, { raw }).stats();
  const background = { r: channels[0]!.mean, g: channels[1]!.mean, b: channels[2]!.mean };
  const { data, info } = await sharp(im.data, { raw }).rotate(degrees, { background }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels as RawImage['channels'] };
}

const TURNS: QuarterTurn[] = [0, 90, 180, 270];
const sets: Record<string, RawImage[]> = {
  'AAF (every 4th, 1,000)': aaf,
  'AAF grey (300)': aaf.slice(0, 300).map(grey),
  'synthetic photos, val chips (300)': (await syntheticSample(resolve(values.workspace!), 300, 'val')).map((s) => s.image),
};
console.log('| photos | upright photos searched | not ending upright, stored 0° / 90° / 180° / 270° | no face found, stored 0° / 90° / 180° / 270° |');
console.log('|---|---|---|---|');
for (const [name, images] of Object.entries(sets)) {
  const wrong = [0, 0, 0, 0];
  const none = [0, 0, 0, 0];
  let searched = 0;
  for (const im of images) {
    if ((await detector.detect(im)).reduce((m, f) => Math.max(m, f.score), 0) < (detector.uprightScore ?? 0)) searched++;
    for (const [k, stored] of TURNS.entries()) {
      const r = await detectFaces(detector, await turnImage(im, stored));
      if (r.faces.length === 0) none[k]!++;
      else if ((r.turned ?? 0) !== (360 - stored) % 360) wrong[k]!++;
    }
  }
  console.log(`| ${name} | ${((100 * searched) / images.length).toFixed(1)}% | ${wrong.join(' / ')} | ${none.join(' / ')} |`);
}
console.log('');
console.log('| AAF (300), tilted | photos | ending within 45° of upright | ending 135° off | no face |');
console.log('|---|---|---|---|---|');
for (const theta of [45, -45]) {
  let ok = 0, off = 0, none = 0;
  for (const im of aaf.slice(0, 300)) {
    const r = await detectFaces(detector, await tilt(im, theta));
    if (r.faces.length === 0) none++;
    else if ([0, theta > 0 ? 270 : 90].includes(r.turned ?? 0)) ok++;
    else off++;
  }
  console.log(`| ${theta > 0 ? '+' : '−'}45° | 300 | ${ok} | ${off} | ${none} |`);
}
detector.dispose();
