// How much of the synthetic-photo gap (issue 17: photo path vs direct chip prediction, target MAE of the
// difference ≤ 0.5 years) is the aligner's geometry, and how much is the resampling floor that no aligner
// can remove? For N synthetic photos (bench/synthetic-photos.ts, imported as it is: same seed, same chips
// as bench/synthetic.ts — photo i is chip spreadSubset(test split, N)[i]) each chip is predicted
//   direct        the chip itself, detection off (grey chip for a grey photo), as bench/synthetic.ts does;
//   photo         detect → align (+ refinement) → predict, largest face, as the bench does;
//   chip-lmk      the aligner fed the clean chip's own five landmarks (detected on the 200-px chip, carried
//                 into the photo through the exact paste transform): the template fit without landmark noise;
//   oracle        alignFace with the chip template's five points carried through the exact paste transform,
//                 i.e. the warp is the inverse of the paste: what a perfect aligner would give;
//   oracle-nojpeg the same on the photo before JPEG (the rotated chip composited again over the decoded
//                 photo; only its antialiased rim still touches JPEG'd background);
//   resample-bil  the chip resized to chipSide (sharp, as the paste does) and warped back to 200 by alignFace
//                 (bilinear, as the photo path does): resize only, no rotation, no JPEG;
//   resample      the chip resized to chipSide and back to 200 with sharp (lanczos3 both ways).
// Also per photo: how much of the chip-lmk chip lies outside the pasted chip (the template fit zooms out or
// shifts, so the synthetic background leaks into the chip: a penalty real photos, with real surroundings,
// do not pay), and the pixel difference of the oracle chip from the direct chip (sanity check).
// Paste transform: chip 200-px coordinates (pixel centres) → ×chipSide/200 (sharp's resize keeps pixel
// centres: x' = (x+½)s − ½) → rotation by spec.angle about the resized chip's centre, positive = clockwise
// on screen (libvips rotate) → into the rotated, enlarged canvas → + (left, top). libvips places the
// rotated image in its rounded bounding box with a sub-pixel offset (measured 0.0–0.7 px, not a simple
// formula), so every photo's offset is calibrated: six Gaussian marks on a black 200-px chip go through the
// identical resize + rotate, their centroids are found and the mean residual against the analytic map is
// added. The check is printed (residual after calibration must stay < 0.1 px; the other rotation sign is
// tens of pixels off).
//   node --conditions=agegender-source --import tsx experiments/synthetic-floor.ts \
//     --workspace /abs/workspace/utk [--count 300] [--model <dir>] [--seed 17] [--json out.json] [--sample out.png]
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import {
  alignFace, analyzeImage, analyzeOrNoFaces, applySimilarity, chipTemplate, fitSimilarity, largestFace, loadFaceDetector, loadImageInput, loadModel,
  readManifest, rowsOfSplit, spreadSubset, type RawImage,
} from 'agegender';
import { syntheticPhoto, type SyntheticSpec } from '../bench/synthetic-photos.js';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'workspace/utk' },
    count: { type: 'string', default: '300' },
    model: { type: 'string' },
    seed: { type: 'string', default: '17' },
    json: { type: 'string' },
    sample: { type: 'string', default: '/tmp/synthetic-floor-sample.png' },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
if (!Number.isInteger(count) || count < 1) throw new Error(`--count: expected a positive integer but received ${values.count}`);
sharp.concurrency(1);

type Pt = { x: number; y: number };
type Pred = { age: number; female: number };
const VARIANTS = ['photo', 'chip-lmk', 'oracle', 'oracle-nojpeg', 'resample-bil', 'resample'] as const;
type Variant = (typeof VARIANTS)[number];
interface Row {
  name: string;
  spec: SyntheticSpec;
  direct: Pred;
  preds: Record<Variant, Pred | null>;
  /** mean |oracle chip − direct chip| over all pixels and channels, and inside a 12-px margin */
  oraclePix: number;
  oraclePixInner: number;
  /** the same for the photo path's chip */
  photoPix: number | null;
  /** share of the chip-lmk chip's pixels sampled outside the pasted chip (synthetic background leaking in), or null */
  leak: number | null;
  /** calibration: |mean offset| libvips adds (px), and the largest mark residual after it (px) */
  offset: number;
  residual: number;
}

// ---------- the paste transform ----------
const MARKS: Pt[] = [{ x: 50, y: 60 }, { x: 150, y: 60 }, { x: 100, y: 120 }, { x: 70, y: 160 }, { x: 140, y: 150 }, { x: 30, y: 30 }];
const MARK_SIGMA = 3;
const markChip = await (async () => {
  const side = 200;
  const buf = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let v = 0;
      for (const p of MARKS) v += Math.exp(-((x - p.x) ** 2 + (y - p.y) ** 2) / (2 * MARK_SIGMA ** 2));
      buf.fill(Math.min(255, Math.round(255 * v)), (y * side + x) * 3, (y * side + x) * 3 + 3);
    }
  }
  return sharp(buf, { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
})();

/** The resize + rotate of bench/synthetic-photos.ts (kept identical). */
const pasteChip = (input: string | Buffer, spec: SyntheticSpec): Promise<Buffer> =>
  sharp(input).resize(spec.chipSide, spec.chipSide).ensureAlpha().rotate(spec.angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } }).png().toBuffer();

/** Analytic forward map chip(200) → rotated image (pixel centres), `sign` = +1: clockwise on screen. */
function analytic(spec: SyntheticSpec, rotW: number, rotH: number, sign = 1): (p: Pt) => Pt {
  const s = spec.chipSide / 200;
  const th = (spec.angle * Math.PI) / 180;
  const c = Math.cos(th);
  const sn = Math.sin(th) * sign;
  return (p) => {
    const u = (p.x + 0.5) * s - spec.chipSide / 2;
    const v = (p.y + 0.5) * s - spec.chipSide / 2;
    return { x: c * u - sn * v + rotW / 2 - 0.5, y: sn * u + c * v + rotH / 2 - 0.5 };
  };
}

function centroid(img: { data: Buffer; width: number; channels: number; height: number }, g: Pt, r: number): Pt {
  let sw = 0, sx = 0, sy = 0;
  for (let y = Math.max(0, Math.round(g.y) - r); y <= Math.min(img.height - 1, Math.round(g.y) + r); y++) {
    for (let x = Math.max(0, Math.round(g.x) - r); x <= Math.min(img.width - 1, Math.round(g.x) + r); x++) {
      const w = img.data[(y * img.width + x) * img.channels]!;
      sw += w; sx += w * x; sy += w * y;
    }
  }
  return { x: sx / sw, y: sy / sw };
}

/** The exact forward map chip(200) → photo for this spec, calibrated on the marks. */
async function pasteTransform(spec: SyntheticSpec, verbose = false): Promise<{ map: (p: Pt) => Pt; offset: number; residual: number }> {
  const { data, info } = await sharp(await pasteChip(markChip, spec)).raw().toBuffer({ resolveWithObject: true });
  const img = { data, width: info.width, height: info.height, channels: info.channels };
  const f = analytic(spec, info.width, info.height);
  const r = Math.ceil(4 * MARK_SIGMA * (spec.chipSide / 200)) + 2;
  const found = MARKS.map((p) => centroid(img, f(p), r));
  const dx = found.reduce((a, q, i) => a + q.x - f(MARKS[i]!).x, 0) / MARKS.length;
  const dy = found.reduce((a, q, i) => a + q.y - f(MARKS[i]!).y, 0) / MARKS.length;
  const residual = Math.max(...found.map((q, i) => Math.hypot(q.x - f(MARKS[i]!).x - dx, q.y - f(MARKS[i]!).y - dy)));
  if (verbose) {
    const g = analytic(spec, info.width, info.height, -1);
    const other = Math.max(...found.map((q, i) => Math.hypot(q.x - g(MARKS[i]!).x, q.y - g(MARKS[i]!).y)));
    console.log(`paste check (chipSide ${spec.chipSide}, angle ${spec.angle.toFixed(2)}°, rotated ${info.width}×${info.height}): libvips offset (${dx.toFixed(2)}, ${dy.toFixed(2)}) px, largest residual after it ${residual.toFixed(3)} px; with the other rotation sign the marks are ${other.toFixed(1)} px off`);
  }
  const map = (p: Pt): Pt => {
    const q = f(p);
    return { x: q.x + dx + spec.left, y: q.y + dy + spec.top };
  };
  return { map, offset: Math.hypot(dx, dy), residual };
}

// ---------- helpers ----------
const raw = async (input: Sharp): Promise<RawImage> => {
  const { data, info } = await input.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return loadImageInput({ data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels as 3 });
};
const pixDiff = (a: RawImage, b: RawImage, margin = 0): number => {
  let sum = 0, n = 0;
  for (let y = margin; y < a.height - margin; y++) {
    for (let x = margin; x < a.width - margin; x++) {
      for (let c = 0; c < 3; c++) {
        sum += Math.abs(a.data[(y * a.width + x) * a.channels + c]! - b.data[(y * b.width + x) * b.channels + c]!);
        n++;
      }
    }
  }
  return sum / n;
};

const workspace = values.workspace;
const test = rowsOfSplit(await readManifest(workspace), 'test');
const chosen = spreadSubset(test, count);
const faceFree = fileURLToPath(new URL('../test/fixtures/photos/no-face.jpg', import.meta.url));
const model = await loadModel(values.model, { threads: 1 });
const detector = await loadFaceDetector();
const t = chipTemplate();
const template200 = t.points.map((p) => ({ x: (p.x * 200) / t.size, y: (p.y * 200) / t.size }));

const predictChip = async (image: RawImage): Promise<Pred | null> => {
  const r = await analyzeOrNoFaces(model, null, image, { detect: false });
  const p = r.faces[0]?.prediction;
  return p ? { age: p.age, female: p.femaleProbability } : null;
};
/** Share of a chip's pixels that the template fit to `pts` (chip-200 frame of the original chip) samples outside it. */
const outside = (pts: Pt[]): number => {
  const m = fitSimilarity(template200, pts);
  let n = 0;
  for (let j = 0; j < 200; j++) {
    for (let i = 0; i < 200; i++) {
      const q = applySimilarity(m, { x: i, y: j });
      if (q.x < -0.5 || q.y < -0.5 || q.x > 199.5 || q.y > 199.5) n++;
    }
  }
  return n / 40000;
};
const alignWith = (photo: RawImage, pts: Pt[]): RawImage => alignFace(photo, { leftEye: pts[0]!, rightEye: pts[1]!, landmarks: pts });

const rows: Row[] = [];
const sample: RawImage[][] = [];
const started = Date.now();
try {
  for (let i = 0; i < chosen.length; i++) {
    const row = chosen[i]!;
    const other = test[(test.indexOf(row) + Math.floor(test.length / 2)) % test.length]!;
    const { spec, jpeg } = await syntheticPhoto(seed, i, { chip: row.source, otherChip: other.source, faceFree });
    const { map, offset, residual } = await pasteTransform(spec, i === 0);
    const chipBytes = spec.grayscale ? await sharp(row.source).grayscale().toColourspace('srgb').png().toBuffer() : await readFile(row.source);
    const chip = await loadImageInput(chipBytes);
    const photo = await loadImageInput(jpeg);

    const direct = (await analyzeImage(model, null, chip, { detect: false })).faces[0]!.prediction;
    const viaPhoto = largestFace((await analyzeOrNoFaces(model, detector, photo, { detect: true })).faces);

    const oracleChip = alignWith(photo, template200.map(map));
    // the photo before JPEG: the rotated chip composited again over the decoded photo (then grey if the photo is)
    let noJpeg = sharp(jpeg).composite([{ input: await pasteChip(row.source, spec), left: spec.left, top: spec.top }]);
    if (spec.grayscale) noJpeg = sharp(await noJpeg.png().toBuffer()).grayscale().toColourspace('srgb');
    const noJpegChip = alignWith(await raw(noJpeg), template200.map(map));
    // the aligner with the clean chip's own landmarks, carried into the photo
    const chipFaces = await detector.detect(chip);
    const own = chipFaces.find((f) => f.landmarks?.length === 5)?.landmarks;
    const ownChip = own ? alignWith(photo, own.map(map)) : null;
    // resize only
    const small = await sharp(chipBytes).resize(spec.chipSide, spec.chipSide).png().toBuffer();
    const s = spec.chipSide / 200;
    const resampleBil = alignWith(await loadImageInput(small), template200.map((p) => ({ x: (p.x + 0.5) * s - 0.5, y: (p.y + 0.5) * s - 0.5 })));
    const resample = await loadImageInput(await sharp(small).resize(200, 200).png().toBuffer());

    const preds: Row['preds'] = {
      photo: viaPhoto ? { age: viaPhoto.prediction.age, female: viaPhoto.prediction.femaleProbability } : null,
      'chip-lmk': ownChip ? await predictChip(ownChip) : null,
      oracle: await predictChip(oracleChip),
      'oracle-nojpeg': await predictChip(noJpegChip),
      'resample-bil': await predictChip(resampleBil),
      resample: await predictChip(resample),
    };
    rows.push({
      name: row.name, spec, direct: { age: direct.age, female: direct.femaleProbability }, preds,
      oraclePix: pixDiff(oracleChip, chip), oraclePixInner: pixDiff(oracleChip, chip, 12),
      photoPix: viaPhoto && viaPhoto.chip.width === 200 ? pixDiff(viaPhoto.chip, chip) : null,
      leak: own ? outside(own) : null, offset, residual,
    });
    if (sample.length < 6) sample.push([await raw(sharp(jpeg).resize(200, 200, { fit: 'contain', background: '#000' })), chip, resample, oracleChip, ...(viaPhoto ? [viaPhoto.chip] : [])]);
    if ((i + 1) % 25 === 0) console.log(`${i + 1}/${chosen.length}  ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
} finally {
  detector.dispose();
  model.dispose();
}

// ---------- summary ----------
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
function cell(rs: Row[], v: Variant): string {
  const ok = rs.filter((r) => r.preds[v] !== null);
  if (ok.length === 0) return '–';
  const d = ok.map((r) => r.preds[v]!.age - r.direct.age);
  const gender = ok.filter((r) => (r.preds[v]!.female >= 0.5) === (r.direct.female >= 0.5)).length / ok.length;
  const miss = rs.length - ok.length;
  return `${mean(d.map(Math.abs)).toFixed(2)} (${mean(d) >= 0 ? '+' : ''}${mean(d).toFixed(2)}) ${(100 * gender).toFixed(1)}%${miss ? ` [${miss} none]` : ''}`;
}
const groups: Array<[string, Row[]]> = [
  ['all', rows],
  ['colour', rows.filter((r) => !r.spec.grayscale)],
  ['grey', rows.filter((r) => r.spec.grayscale)],
  ['chipSide 120–159', rows.filter((r) => r.spec.chipSide < 160)],
  ['chipSide 160–209', rows.filter((r) => r.spec.chipSide >= 160 && r.spec.chipSide < 210)],
  ['chipSide 210–260', rows.filter((r) => r.spec.chipSide >= 210)],
  ['chip-lmk samples no background', rows.filter((r) => r.leak === 0)],
  ['chip-lmk: 0–5% background', rows.filter((r) => r.leak !== null && r.leak > 0 && r.leak <= 0.05)],
  ['chip-lmk: > 5% background', rows.filter((r) => r.leak !== null && r.leak > 0.05)],
];
console.log(`\n${rows.length} synthetic photos (seed ${seed}), ${workspace}, model ${values.model ?? '(default)'}, detector ${detector.name}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`calibration: libvips offset mean ${mean(rows.map((r) => r.offset)).toFixed(2)} px (max ${Math.max(...rows.map((r) => r.offset)).toFixed(2)}), mark residual after it max ${Math.max(...rows.map((r) => r.residual)).toFixed(3)} px`);
console.log(`oracle chip vs direct chip: mean |Δpixel| ${mean(rows.map((r) => r.oraclePix)).toFixed(2)} grey levels (inside a 12-px margin ${mean(rows.map((r) => r.oraclePixInner)).toFixed(2)}); photo-path chip vs direct chip ${mean(rows.filter((r) => r.photoPix !== null).map((r) => r.photoPix!)).toFixed(2)}`);
const leaks = rows.filter((r) => r.leak !== null).map((r) => r.leak!);
console.log(`chip-lmk chips sampling background: ${leaks.filter((l) => l > 0).length} of ${leaks.length}, mean share ${(100 * mean(leaks)).toFixed(1)}%`);
console.log('\ncell: MAE |variant − direct| (mean signed) gender agreement\n');
console.log(`| photos | n | ${VARIANTS.join(' | ')} |\n|---|---|${VARIANTS.map(() => '---|').join('')}`);
for (const [name, rs] of groups) console.log(`| ${name} | ${rs.length} | ${VARIANTS.map((v) => cell(rs, v)).join(' | ')} |`);

if (values.json) await writeFile(values.json, `${JSON.stringify({ seed, workspace, model: values.model ?? null, rows })}\n`);
if (values.sample && sample.length > 0) {
  const cols = Math.max(...sample.map((r) => r.length));
  const composites = sample.flatMap((r, j) => r.map((img, k) => ({ input: Buffer.from(img.data), raw: { width: img.width, height: img.height, channels: img.channels as 3 }, left: k * 204, top: j * 204 })));
  await sharp({ create: { width: cols * 204, height: sample.length * 204, channels: 3, background: '#fff' } }).composite(composites).png().toFile(values.sample);
  console.log(`\nsample (photo | direct chip | resample | oracle chip | photo-path chip): ${values.sample}`);
}
