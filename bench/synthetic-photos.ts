// Deterministic synthetic photos: a UTKFace chip pasted into a larger canvas, so the photo path
// (detect → align → predict) can be compared with the chip's direct prediction (--no-detect).
//
// For photo i (seeded by `seed` and i): the chip is resized to 120–260 px and takes 25–70% of the
// canvas side, rotated by up to ±20° (transparent corners), shifted to a random place that keeps it
// inside the canvas, over a background made from another image (even i: another chip, blurred beyond
// recognition and hue-shifted; odd i: a random crop of a face-free photo); 1 photo in 5 is grayscale;
// the result is JPEG-encoded (quality 90) like a real photo.
import sharp from 'sharp';
import { mulberry32 } from 'agegender/core';
import { spreadSubset } from 'agegender';

export interface SyntheticSpec {
  /** Canvas side in pixels (square canvas). */
  canvas: number;
  /** Side of the pasted chip before rotation. */
  chipSide: number;
  /** chipSide / canvas, 0.25–0.70. */
  faceShare: number;
  /** Rotation in degrees, −20…20. */
  angle: number;
  left: number;
  top: number;
  grayscale: boolean;
  background: 'blurred-chip' | 'face-free-crop';
}

export interface SyntheticPhoto {
  spec: SyntheticSpec;
  /** The photo, JPEG bytes. */
  jpeg: Buffer;
}

export interface SyntheticSources {
  /** The chip to paste (path or encoded bytes). */
  chip: string | Buffer;
  /** Another chip, blurred into a background. */
  otherChip: string | Buffer;
  /** A photo without faces, cropped into a background. */
  faceFree: string | Buffer;
}

/** The spec of photo `index` for `seed`: pure, so the whole set is reproducible. */
export function syntheticSpec(seed: number, index: number): SyntheticSpec {
  const rng = mulberry32((seed * 1_000_003 + index * 7919) >>> 0);
  const faceShare = 0.25 + rng() * 0.45;
  const chipSide = Math.round(120 + rng() * 140);
  const canvas = Math.round(chipSide / faceShare);
  const angle = (rng() * 2 - 1) * 20;
  const rad = (Math.abs(angle) * Math.PI) / 180;
  const rotated = Math.ceil(chipSide * (Math.cos(rad) + Math.sin(rad))); // ≤ 1.28 × chipSide < canvas
  const left = Math.floor(rng() * Math.max(0, canvas - rotated));
  const top = Math.floor(rng() * Math.max(0, canvas - rotated));
  const grayscale = rng() < 0.2;
  return { canvas, chipSide, faceShare, angle, left, top, grayscale, background: index % 2 === 0 ? 'blurred-chip' : 'face-free-crop' };
}

async function background(spec: SyntheticSpec, sources: SyntheticSources, rng: () => number): Promise<Buffer> {
  const side = spec.canvas;
  if (spec.background === 'blurred-chip') {
    return sharp(sources.otherChip).resize(side, side).blur(Math.max(1, side / 12)).modulate({ hue: Math.floor(rng() * 360) }).removeAlpha().png().toBuffer();
  }
  const meta = await sharp(sources.faceFree).metadata();
  const w = meta.width ?? side;
  const h = meta.height ?? side;
  const crop = Math.max(16, Math.floor(Math.min(w, h) * (0.3 + rng() * 0.7)));
  const left = Math.floor(rng() * (w - crop + 1));
  const top = Math.floor(rng() * (h - crop + 1));
  return sharp(sources.faceFree).extract({ left, top, width: crop, height: crop }).resize(side, side).removeAlpha().png().toBuffer();
}

/** Builds synthetic photo `index` from its sources. */
export async function syntheticPhoto(seed: number, index: number, sources: SyntheticSources): Promise<SyntheticPhoto> {
  const spec = syntheticSpec(seed, index);
  const rng = mulberry32((seed * 31 + index) >>> 0);
  const chip = await sharp(sources.chip)
    .resize(spec.chipSide, spec.chipSide)
    .ensureAlpha()
    .rotate(spec.angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .png()
    .toBuffer();
  let photo = sharp(await background(spec, sources, rng)).composite([{ input: chip, left: spec.left, top: spec.top }]);
  if (spec.grayscale) photo = sharp(await photo.png().toBuffer()).grayscale().toColourspace('srgb');
  return { spec, jpeg: await photo.jpeg({ quality: 90 }).toBuffer() };
}

/**
 * The synthetic photos of a list of chips as the benches draw them: `count` chips spread over `rows`,
 * photo i pasting chip i over a background blurred from the chip half the list away (or a crop of
 * `faceFree`), in order.
 */
export async function* syntheticPhotosOf<R extends { source: string }>(rows: readonly R[], count: number, seed: number, faceFree: string): AsyncGenerator<SyntheticPhoto & { row: R; index: number }> {
  const chosen = spreadSubset(rows, count);
  for (let i = 0; i < chosen.length; i++) {
    const row = chosen[i]!;
    const other = rows[(rows.indexOf(row) + Math.floor(rows.length / 2)) % rows.length]!;
    yield { ...(await syntheticPhoto(seed, i, { chip: row.source, otherChip: other.source, faceFree })), row, index: i };
  }
}

/** The pasted chip's bounding box in the photo (the rotated chip's, where sharp puts it). */
export function pastedBounds(spec: SyntheticSpec): { x: number; y: number; width: number; height: number } {
  const rad = (Math.abs(spec.angle) * Math.PI) / 180;
  const side = spec.chipSide * (Math.cos(rad) + Math.sin(rad));
  return { x: spec.left, y: spec.top, width: side, height: side };
}

/** Where the pasted chip's centre lies in the photo (the centre of {@link pastedBounds}). */
export function pastedCentre(spec: SyntheticSpec): { x: number; y: number } {
  const b = pastedBounds(spec);
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/**
 * The face found on the pasted chip: of the faces whose box holds the chip's centre and is no wider
 * than the chip's bounding box (a face on the chip cannot be larger than the chip), the largest; the
 * others are faces found elsewhere (a background the detector took for a face).
 */
export function pastedFace<F extends { box: { x: number; y: number; width: number; height: number } }>(faces: readonly F[], spec: SyntheticSpec): { face: F | null; elsewhere: number } {
  const c = pastedCentre(spec);
  const limit = pastedBounds(spec).width;
  const on = faces.filter((f) => f.box.x <= c.x && c.x <= f.box.x + f.box.width && f.box.y <= c.y && c.y <= f.box.y + f.box.height && f.box.width <= limit);
  const face = on.reduce<F | null>((b, f) => (!b || f.box.width * f.box.height > b.box.width * b.box.height ? f : b), null);
  return { face, elsewhere: faces.length - (face ? 1 : 0) };
}
