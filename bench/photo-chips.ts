// How well the photo path (detect → align → predict) reproduces a UTKFace chip's own prediction.
//   node --conditions=agegender-source --import tsx bench/photo-chips.ts [--mode chips|synthetic] [--count 300] [--detector yunet|ssd]
//     [--eyes-only] [--seed 1] [--utkface dir]
// chips: each chip as it is, with detection on, against the same chip with --no-detect.
// synthetic: each chip pasted into a larger canvas (face 25–70% of the canvas side, random shift,
//   rotation within ±20°, 1 in 5 grey; background: another chip blurred beyond recognition and
//   stretched to the canvas), found again and aligned, against the chip's direct prediction.
// Chips: UTKFace file names ordered by the SHA-1 of the name, those whose hash starts with "0"
// (one in sixteen; never used by scripts/fit-chip-template.ts), the first --count of them.
// --eyes-only: alignment from the two eyes only (the landmarks beyond the eyes are dropped).
// --no-refine: one alignment pass (no second detection on the aligned chip).
// Figures are given for all pasted chips and for the colour ones alone (grey ones differ also
// because the model reads a grey face differently, whatever the alignment).
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { mulberry32 } from 'agegender/core';
import { analyzeImage, analyzeOrNoFaces, loadFaceDetector, loadImageInput, loadModel, type FaceDetector, type RawImage } from 'agegender';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'chips' },
    count: { type: 'string', default: '300' },
    detector: { type: 'string', default: 'yunet' },
    'eyes-only': { type: 'boolean', default: false },
    'no-refine': { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    utkface: { type: 'string', default: '../shared/datasets/utkface/UTKFace' },
  },
});
const count = Number(values.count);

async function checkChips(folder: string, n: number): Promise<string[]> {
  const keyed = (await readdir(folder)).filter((f) => f.endsWith('.jpg')).map((f) => ({ f, h: createHash('sha1').update(f).digest('hex') }));
  return keyed.filter((k) => k.h.startsWith('0')).sort((a, b) => (a.h < b.h ? -1 : 1)).slice(0, n).map((k) => join(folder, k.f));
}

interface Placed {
  image: RawImage;
  grey: boolean;
  centre: { x: number; y: number };
}

/** The chip pasted into a canvas as the header says; `centre` is where the chip's centre lands. */
async function synthesise(chip: RawImage, background: RawImage, rand: () => number): Promise<Placed> {
  const share = 0.25 + rand() * 0.45;
  const side = Math.round(200 / share);
  const angle = (rand() * 2 - 1) * 20;
  const raw = (im: RawImage): { raw: { width: number; height: number; channels: 3 } } => ({ raw: { width: im.width, height: im.height, channels: 3 } });
  const rotated = await sharp(chip.data, raw(chip)).ensureAlpha().rotate(angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } }).png().toBuffer({ resolveWithObject: true });
  const rw = rotated.info.width;
  const rh = rotated.info.height;
  const canvas = Math.max(side, rw + 2, rh + 2);
  const left = Math.floor(rand() * (canvas - rw));
  const top = Math.floor(rand() * (canvas - rh));
  const grey = rand() < 0.2;
  let pipeline = sharp(await sharp(background.data, raw(background)).resize(canvas, canvas, { fit: 'fill' }).blur(25).png().toBuffer()).composite([{ input: rotated.data, left, top }]);
  if (grey) pipeline = pipeline.grayscale();
  const out = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const image: RawImage = { data: new Uint8Array(out.data), width: out.info.width, height: out.info.height, channels: out.info.channels as 1 | 3 };
  return { image, grey, centre: { x: left + rw / 2, y: top + rh / 2 } };
}

function eyesOnly(detector: FaceDetector): FaceDetector {
  return {
    name: `${detector.name}, eyes only`,
    detect: async (image) => (await detector.detect(image)).map(({ landmarks: _l, ...rest }) => rest),
    dispose: () => detector.dispose(),
  };
}

const files = await checkChips(values.utkface!, count);
const model = await loadModel();
let detector = await loadFaceDetector({ detector: values.detector as 'yunet' | 'ssd' });
if (values['eyes-only']) detector = eyesOnly(detector);
const rand = mulberry32(Number(values.seed));
const all = { n: 0, found: 0, within: 0, agree: 0, absSum: 0 };
const colour = { ...all };
const ms: number[] = [];
for (const [i, file] of files.entries()) {
  const chip = await loadImageInput(file);
  const direct = (await analyzeImage(model, null, chip, { detect: false })).faces[0]!.prediction;
  const placed: Placed = values.mode === 'synthetic' ? await synthesise(chip, await loadImageInput(files[(i + 1) % files.length]!), rand) : { image: chip, grey: false, centre: { x: chip.width / 2, y: chip.height / 2 } };
  const t0 = performance.now();
  const result = await analyzeOrNoFaces(model, detector, placed.image, { detect: true, refine: !values['no-refine'] });
  ms.push(performance.now() - t0);
  const dist = (f: (typeof result.faces)[number]): number => Math.hypot(f.box.x + f.box.width / 2 - placed.centre.x, f.box.y + f.box.height / 2 - placed.centre.y);
  // the chip is pasted at its own 200 px: the face found must be centred within 60 px of it
  const face = [...result.faces].sort((a, b) => dist(a) - dist(b))[0];
  for (const tally of placed.grey ? [all] : [all, colour]) {
    tally.n++;
    if (!face || dist(face) > 60) continue;
    tally.found++;
    const d = Math.abs(face.prediction.age - direct.age);
    tally.absSum += d;
    if (d <= 0.5) tally.within++;
    if (face.prediction.gender === direct.gender) tally.agree++;
  }
}
detector.dispose();
model.dispose();
ms.sort((a, b) => a - b);
const pct = (k: number, n: number): string => `${((100 * k) / Math.max(1, n)).toFixed(1)}%`;
const figures = (t: typeof all): object => ({
  images: t.n,
  found: pct(t.found, t.n),
  meanAbsAgeDiff: Number((t.absSum / Math.max(1, t.found)).toFixed(3)),
  within05y: pct(t.within, t.found),
  genderAgreement: pct(t.agree, t.found),
});
const setting = `${values['eyes-only'] ? 'eyes only' : 'five points'}${values['no-refine'] ? '' : ', refined'}`;
console.log(JSON.stringify({ mode: values.mode, detector: detector.name, setting, all: figures(all), colour: figures(colour), medianMsPerImage: Number((ms[Math.floor(ms.length / 2)] ?? 0).toFixed(1)) }));
