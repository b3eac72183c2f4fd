// Small faces in large photos (group shots): how many does the photo path's detection find, by face
// size, with the shipped settings and with a larger detector input or a smaller margin?
//
// Photos: a 3000×2250 canvas (a 6.75 MP phone photo) over a face-free background (the fixture photo,
// enlarged and blurred), 12 UTKFace test chips pasted on a 4×3 grid with a seeded shift inside each
// cell, all at one chip side s (the detector's box around a UTKFace chip's face is about 0.85 of its side: experiments/face-size.ts). `--per-size` photos
// per size. A face counts as found when a box at the detector's threshold holds the pasted chip's
// centre; a box that holds none is a false positive. Detection as the photo path runs it: the photo
// shrunk to `detectMaxSide` (analyze.ts), then YuNet's own padding and scaling (one pass, or two with
// `largeInputSide`). False positives are also counted on the 41 face-free images of bench/detectors.ts
// enlarged to the canvas size.
//   node --conditions=agegender-source --import tsx experiments/small-faces.ts --workspace /abs/workspace/utk [--per-size 8]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type OverlayOptions } from 'sharp';
import { detectFaces, loadImageInput, loadYunetDetector, readManifest, rowsOfSplit, spreadSubset, type FaceDetector, type RawImage } from 'agegender';
import { mulberry32 } from 'agegender/core';
import { faceFreeImages } from '../bench/detectors-images.js';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'workspace/utk' },
    'per-size': { type: 'string', default: '8' },
  },
});
sharp.concurrency(1);
const perSize = Number(values['per-size']);
const W = 3000;
const H = 2250;
const SIZES = [48, 64, 96, 128, 192, 256];
const rows = rowsOfSplit(await readManifest(resolve(values.workspace!)), 'test');
const chips = spreadSubset(rows, SIZES.length * perSize * 12);

const background = await sharp('test/fixtures/photos/no-face.jpg').resize(W, H, { fit: 'cover' }).blur(8).removeAlpha().png().toBuffer();

interface GroupPhoto {
  image: RawImage;
  centres: Array<{ x: number; y: number }>;
}

async function groupPhoto(size: number, k: number): Promise<GroupPhoto> {
  const rng = mulberry32(1000 * size + k);
  const cellW = W / 4;
  const cellH = H / 3;
  const layers: OverlayOptions[] = [];
  const centres: Array<{ x: number; y: number }> = [];
  for (let c = 0; c < 12; c++) {
    const row = chips[(SIZES.indexOf(size) * perSize + k) * 12 + c]!;
    const left = Math.round((c % 4) * cellW + rng() * (cellW - size));
    const top = Math.round(Math.floor(c / 4) * cellH + rng() * (cellH - size));
    layers.push({ input: await sharp(row.source).resize(size, size).png().toBuffer(), left, top });
    centres.push({ x: left + size / 2, y: top + size / 2 });
  }
  const jpeg = await sharp(background).composite(layers).jpeg({ quality: 90 }).toBuffer();
  return { image: await loadImageInput(jpeg), centres };
}

/** The photo path's detection step (analyze.ts detectFaces, without the turn search), boxes in photo pixels. */
async function detectAt(detector: FaceDetector, image: RawImage, maxSide: number): Promise<Array<{ x: number; y: number; width: number; height: number }>> {
  return (await detectFaces(detector, image, { detectMaxSide: maxSide, turns: false })).faces.map((d) => d.box);
}

const configs = [
  { name: 'one pass (before): detectMaxSide 1280, YuNet maxInputSide 640, margin 0.25', detectMaxSide: 1280, maxInputSide: 640, margin: 0.25, largeInputSide: 0 },
  { name: 'one pass, YuNet maxInputSide 1280, margin 0.25', detectMaxSide: 1280, maxInputSide: 1280, margin: 0.25, largeInputSide: 0 },
  { name: 'one pass, YuNet maxInputSide 1280, margin 0.05', detectMaxSide: 1280, maxInputSide: 1280, margin: 0.05, largeInputSide: 0 },
  { name: 'one pass, detectMaxSide 2048, YuNet maxInputSide 2048, margin 0.05', detectMaxSide: 2048, maxInputSide: 2048, margin: 0.05, largeInputSide: 0 },
  { name: 'two passes: 640 with margin 0.25, then 1280 without', detectMaxSide: 1280, maxInputSide: 640, margin: 0.25, largeInputSide: 1280 },
  { name: 'two passes: 640 with margin 0.25, then 1600 without', detectMaxSide: 1600, maxInputSide: 640, margin: 0.25, largeInputSide: 1600 },
  { name: 'two passes: 640 with margin 0.25, then 2048 without', detectMaxSide: 2048, maxInputSide: 640, margin: 0.25, largeInputSide: 2048 },
];
const photos = new Map<number, GroupPhoto[]>();
for (const s of SIZES) photos.set(s, await Promise.all(Array.from({ length: perSize }, (_, k) => groupPhoto(s, k))));
// face-free large images: the 41 face-free images of bench/detectors.ts, enlarged to the canvas size
const empty: RawImage[] = [];
for (const im of await faceFreeImages()) {
  const data = await sharp(im.data, { raw: { width: im.width, height: im.height, channels: im.channels } }).resize(W, H, { fit: 'fill' }).raw().toBuffer();
  empty.push({ data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: W, height: H, channels: im.channels });
}
console.log(`${perSize} photos of ${W}×${H} per chip side, 12 faces each (face box ≈ half the chip side)\n`);
console.log(`| detection | ${SIZES.map((s) => `chip ${s} px`).join(' | ')} | false positives in them | false positives in ${empty.length} face-free ${W}×${H} images | ms / photo (median) |\n|---|${SIZES.map(() => '---|').join('')}---|---|---|`);
for (const c of configs) {
  const detector = await loadYunetDetector({ maxInputSide: c.maxInputSide, margin: c.margin, largeInputSide: c.largeInputSide });
  const cells: string[] = [];
  let fp = 0;
  const ms: number[] = [];
  for (const s of SIZES) {
    let found = 0;
    for (const p of photos.get(s)!) {
      const t0 = performance.now();
      const boxes = await detectAt(detector, p.image, c.detectMaxSide);
      ms.push(performance.now() - t0);
      const holds = (b: (typeof boxes)[number], q: { x: number; y: number }): boolean => q.x >= b.x && q.x <= b.x + b.width && q.y >= b.y && q.y <= b.y + b.height;
      found += p.centres.filter((q) => boxes.some((b) => holds(b, q))).length;
      fp += boxes.filter((b) => !p.centres.some((q) => holds(b, q))).length;
    }
    cells.push(`${((100 * found) / (12 * perSize)).toFixed(0)}%`);
  }
  let emptyFp = 0;
  for (const im of empty) emptyFp += (await detectAt(detector, im, c.detectMaxSide)).length;
  detector.dispose();
  ms.sort((a, b) => a - b);
  console.log(`| ${c.name} | ${cells.join(' | ')} | ${fp} | ${emptyFp} | ${ms[Math.floor(ms.length / 2)]!.toFixed(0)} |`);
}
