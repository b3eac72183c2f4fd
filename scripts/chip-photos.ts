// Photos made from UTKFace chips by a known similarity, and the 68 landmarks the photo path's
// refinement pass reads in them: the training data of the 68-point template's shape correction
// (scripts/fit-chip-template-68.ts) and of experiments/shape-correction-photos.ts.
//
// Each chip is warped into a square canvas by G (chip → photo): side 120–260 px, rotation ±20°, a
// random place in a canvas 1.4–4× the side, over another chip blurred beyond recognition; 1 in 5
// grey; bilinear with 2×2 supersampling. G is exact (unlike sharp's resize + rotate, whose sub-pixel
// offset bench/synthetic-photos.ts cannot state), so the chip's frame in the photo is known to the
// pixel. Then, as src/pipeline/analyze.ts does: detect → first (five-point) chip → detect again →
// 68 landmarks inside the second box, on the first chip.
import { applySimilarity, alignFace, composeSimilarity, DLIB_FIRST_LANDMARK, invertSimilarity, loadImageInput, shapeResidual, type FaceDetector, type Landmarks68, type RawImage, type Similarity } from 'agegender';
import { mulberry32 } from 'agegender/core';
import { centredFace, chipToImageSimilarity } from 'agegender/pipeline';

export type Point = { x: number; y: number };

/** Landmarks 17–67 in the first chip's pixels, and the true chip → first-chip similarity. */
export interface ChipPhotoSample {
  points: Point[];
  truth: Similarity;
  /** With `mirror`: landmarks 17–67 read on the mirrored first chip, carried back (left and right swapped back). */
  mirrored?: Point[];
}

/** iBUG 68: the landmark each one becomes in a mirror image. */
const IBUG_MIRROR = [
  ...Array.from({ length: 17 }, (_, i) => 16 - i), 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 27, 28, 29, 30, 35, 34, 33, 32, 31,
  45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, 54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65,
];

/** The 68 landmarks read on the mirror image of `image` (inside the mirrored `box`), carried back. */
export async function mirroredLandmarks(net: Landmarks68, image: RawImage, box: { x: number; y: number; width: number; height: number }): Promise<Point[] | null> {
  const { width, height, channels, data } = image;
  const flipped = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) flipped[(y * width + x) * channels + c] = data[(y * width + (width - 1 - x)) * channels + c]!;
  const points = await net.locate({ width, height, channels, data: flipped }, { ...box, x: width - box.x - box.width });
  return points ? IBUG_MIRROR.map((j) => ({ x: width - points[j]!.x, y: points[j]!.y })) : null;
}

const pixel = (img: RawImage, x: number, y: number, c: number): number =>
  img.data[(Math.min(img.height - 1, Math.max(0, y)) * img.width + Math.min(img.width - 1, Math.max(0, x))) * img.channels + (img.channels === 1 ? 0 : c)]!;

function bilinear(img: RawImage, x: number, y: number, c: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  return (pixel(img, x0, y0, c) * (1 - fx) + pixel(img, x0 + 1, y0, c) * fx) * (1 - fy) + (pixel(img, x0, y0 + 1, c) * (1 - fx) + pixel(img, x0 + 1, y0 + 1, c) * fx) * fy;
}

/** photo(p) = chip(G⁻¹ p) inside the chip, else the background stretched over the canvas. */
export function warpIntoPhoto(chip: RawImage, background: RawImage, G: Similarity, canvas: number, grey: boolean): RawImage {
  const inv = invertSimilarity(G);
  const out = new Uint8Array(canvas * canvas * 3);
  const kb = background.width / canvas;
  const rgb = [0, 0, 0];
  for (let j = 0; j < canvas; j++) {
    for (let i = 0; i < canvas; i++) {
      rgb[0] = rgb[1] = rgb[2] = 0;
      for (const [dx, dy] of [[-0.25, -0.25], [0.25, -0.25], [-0.25, 0.25], [0.25, 0.25]] as const) {
        const q = applySimilarity(inv, { x: i + dx, y: j + dy });
        const inside = q.x >= -0.5 && q.y >= -0.5 && q.x <= chip.width - 0.5 && q.y <= chip.height - 0.5;
        for (let c = 0; c < 3; c++) rgb[c]! += (inside ? bilinear(chip, q.x, q.y, c) : bilinear(background, (i + dx) * kb, (j + dy) * kb, c)) / 4;
      }
      const g = 0.299 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!;
      for (let c = 0; c < 3; c++) out[(j * canvas + i) * 3 + c] = Math.round(grey ? g : rgb[c]!);
    }
  }
  return { width: canvas, height: canvas, channels: 3, data: out };
}

/** The image box-blurred with radius 12, twice each way: a face no detector finds. */
export function blurredBeyondRecognition(img: RawImage): RawImage {
  let cur = Float32Array.from({ length: img.width * img.height * 3 }, (_, k) => pixel(img, Math.floor(k / 3) % img.width, Math.floor(k / 3 / img.width), k % 3));
  for (let pass = 0; pass < 4; pass++) {
    const next = new Float32Array(cur.length);
    const horizontal = pass % 2 === 0;
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          let n = 0;
          for (let d = -12; d <= 12; d++) {
            const xx = horizontal ? x + d : x;
            const yy = horizontal ? y : y + d;
            if (xx < 0 || yy < 0 || xx >= img.width || yy >= img.height) continue;
            sum += cur[(yy * img.width + xx) * 3 + c]!;
            n++;
          }
          next[(y * img.width + x) * 3 + c] = sum / n;
        }
      }
    }
    cur = next;
  }
  return { width: img.width, height: img.height, channels: 3, data: Uint8Array.from(cur, (v) => Math.round(v)) };
}

/** The photo made from chip `i` of `sources` for `seed`, and G (chip → photo). */
export async function chipPhoto(sources: readonly string[], i: number, seed: number): Promise<{ photo: RawImage; G: Similarity }> {
  const rng = mulberry32((seed * 1_000_003 + i * 7919) >>> 0);
  const chip = await loadImageInput(sources[i]!);
  const background = blurredBeyondRecognition(await loadImageInput(sources[(i + 1 + Math.floor(rng() * (sources.length - 1))) % sources.length]!));
  const side = 120 + rng() * 140;
  const angle = ((rng() * 2 - 1) * 20 * Math.PI) / 180;
  const canvas = Math.round(side * (1.4 + rng() * 2.6));
  const k = side / chip.width;
  const turn: Similarity = { a: k * Math.cos(angle), b: k * Math.sin(angle), tx: 0, ty: 0 };
  // the chip's centre at a random place that keeps the turned chip inside the canvas
  const half = (side * (Math.abs(Math.cos(angle)) + Math.abs(Math.sin(angle)))) / 2;
  const cx = half + rng() * Math.max(0, canvas - 2 * half);
  const cy = half + rng() * Math.max(0, canvas - 2 * half);
  const c0 = applySimilarity(turn, { x: (chip.width - 1) / 2, y: (chip.height - 1) / 2 });
  const G: Similarity = { ...turn, tx: cx - c0.x, ty: cy - c0.y };
  return { photo: warpIntoPhoto(chip, background, G, canvas, rng() < 0.2), G };
}

type Detected = Awaited<ReturnType<FaceDetector['detect']>>[number];

/** The refinement pass as src/pipeline/analyze.ts runs it on a photo's best face: its detection, the first (five-point) chip, the second detection's box and all 68 landmarks on that chip; null where a step finds nothing. */
export async function refinementPass(photo: RawImage, detector: FaceDetector, net: Landmarks68): Promise<{ face: Detected; first: RawImage; box: Detected['box']; points: Point[] } | null> {
  const face = (await detector.detect(photo)).reduce<Detected | undefined>((b, f) => (!b || f.score > b.score ? f : b), undefined);
  if (!face?.landmarks) return null;
  const first = alignFace(photo, face);
  const again = centredFace(await detector.detect(first), first.width);
  if (!again) return null;
  const points = await net.locate(first, again.box);
  return points ? { face, first, box: again.box, points } : null;
}

/** The refinement pass's landmarks on the photos made from `sources` (skipping photos where a step finds nothing). */
export async function chipPhotoSamples(sources: readonly string[], seed: number, detector: FaceDetector, net: Landmarks68, progress?: (done: number) => void, mirror = false): Promise<ChipPhotoSample[]> {
  const out: ChipPhotoSample[] = [];
  for (let i = 0; i < sources.length; i++) {
    progress?.(i);
    const { photo, G } = await chipPhoto(sources, i, seed);
    const pass = await refinementPass(photo, detector, net);
    if (!pass) continue;
    const { face, first, box, points } = pass;
    const truth = composeSimilarity(invertSimilarity(chipToImageSimilarity(face, first.width)), G);
    if (!mirror) {
      out.push({ points: points.slice(DLIB_FIRST_LANDMARK), truth });
      continue;
    }
    const mirrored = await mirroredLandmarks(net, first, box);
    if (mirrored) out.push({ points: points.slice(DLIB_FIRST_LANDMARK), truth, mirrored: mirrored.slice(DLIB_FIRST_LANDMARK) });
  }
  return out;
}

/** Ridge regression without intercept: W = (XᵀX + λnI)⁻¹ XᵀY (Gauss–Jordan with partial pivoting). */
export function ridge(X: readonly number[][], Y: readonly number[][], lambda: number): number[][] {
  const p = X[0]!.length;
  const q = Y[0]!.length;
  const m = Array.from({ length: p }, (_, i) => [...Array.from({ length: p }, (_, j) => (i === j ? lambda * X.length : 0)), ...new Array<number>(q).fill(0)]);
  X.forEach((x, n) => {
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) m[i]![j]! += x[i]! * x[j]!;
      for (let k = 0; k < q; k++) m[i]![p + k]! += x[i]! * Y[n]![k]!;
    }
  });
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    const d = m[c]![c]!;
    for (let k = 0; k < p + q; k++) m[c]![k]! /= d;
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let k = 0; k < p + q; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row) => row.slice(p));
}

/** The face's shape after the fit (align-dlib's `shapeResidual`, what the correction reads) and the fit's error against the truth, E = truth⁻¹ ∘ fit, as (a − 1, b, tx, ty). */
export function shapeAndError(template: readonly Point[], s: ChipPhotoSample, fit: Similarity): { x: number[]; y: number[] } {
  const E = composeSimilarity(invertSimilarity(s.truth), fit);
  return { x: shapeResidual(template, s.points, fit), y: [E.a - 1, E.b, E.tx, E.ty] };
}

/** The sample's landmarks 17–67 as the 68 that `dlibChipToImage` takes (the jaw line, which it ignores, as zeros). */
export function as68(s: ChipPhotoSample): Point[] {
  return [...new Array<Point>(DLIB_FIRST_LANDMARK).fill({ x: 0, y: 0 }), ...s.points];
}

const CORNERS = [{ x: 0, y: 0 }, { x: 199, y: 0 }, { x: 0, y: 199 }, { x: 199, y: 199 }];
/** RMS over the corners of a 200-px chip between an estimated chip → image map and the truth, in chip pixels. */
export function cornerError(estimate: Similarity, truth: Similarity): number {
  const d = composeSimilarity(invertSimilarity(truth), estimate);
  return Math.sqrt(CORNERS.reduce((acc, c) => { const q = applySimilarity(d, c); return acc + (q.x - c.x) ** 2 + (q.y - c.y) ** 2; }, 0) / CORNERS.length);
}
