/**
 * Cached photo-like copies of training chips (`train --photo-augment`): what a face looks like after
 * a camera, a scan or a messenger, and after the photo path's aligner rather than UTKFace's.
 *
 * Each copy is degraded like a photo — sometimes grayscale, a colour cast, blur, a low resolution
 * scaled back up, JPEG re-compression — and then warped by a geometric error drawn from the error the
 * photo path's aligner actually makes against UTKFace's alignment (ALIGNER_ERROR, measured by
 * `experiments/aligner-geometry.ts`), with a little lighting change; the second copy is mirrored.
 * The stem is frozen, so each copy is run through it once and cached beside the original
 * (featureCache.ts, variant set `photo`).
 *
 * A copy's parameters come from a seed derived from the image's content hash and the copy's index,
 * and sharp's operations are deterministic, so a cache entry is a function of the image bytes alone.
 *
 * @example
 *   const p = photoAugmentFor(hash, 0);
 *   const degraded = await degradeChip(chip, p);              // RawImage, same size
 *   const copy = jitterChips(tf.cast(tensorOf(degraded), 'float32'), [p.geometry]);
 */
import sharp, { type Sharp } from 'sharp';
import { deriveSeed, mulberry32 } from '../core/random.js';
import type { RawImage } from '../io/types.js';
import type { Jitter } from './jitter.js';

/** Bumped whenever a range or the recipe changes: it names the cache folder, so stale copies are never read. */
export const PHOTO_AUGMENT_VERSION = 1;
/** Photo-like copies cached per training chip (one cache entry holds two); copy k is mirrored when k is odd. */
export const PHOTO_AUGMENT_COPIES = 2;

/**
 * The aligner's geometric error against UTKFace's own alignment, in jitter.ts's parameters
 * (mean and standard deviation): the least-squares similarity from the chip template to the five
 * landmarks the shipped detector finds on 1,499 UTKFace training chips
 * (`experiments/aligner-geometry.ts`; docs/photos.md). Draws are clipped at 3 standard deviations.
 */
export const ALIGNER_ERROR = Object.freeze({
  degrees: Object.freeze({ mean: 0.03, sd: 3.38 }),
  zoom: Object.freeze({ mean: 1.0019, sd: 0.0509 }),
  dx: Object.freeze({ mean: -0.0001, sd: 0.0141 }),
  dy: Object.freeze({ mean: 0.0003, sd: 0.0148 }),
});

/** How often each photo degradation is applied, and its range (uniform). */
export const PHOTO_DEGRADATIONS = Object.freeze({
  grayscale: 0.2,
  /** per-channel gain 1 ± gain (a colour cast) */
  cast: Object.freeze({ p: 0.5, gain: 0.12 }),
  /** Gaussian blur σ in pixels of the 200-px chip */
  blur: Object.freeze({ p: 0.4, sigma: Object.freeze([0.5, 2] as const) }),
  /** the chip shrunk to this side, then scaled back up (a small face in a photo) */
  lowResolution: Object.freeze({ p: 0.4, side: Object.freeze([40, 140] as const) }),
  jpeg: Object.freeze({ p: 0.6, quality: Object.freeze([25, 85] as const) }),
  /** brightness offset (fraction of 255) and contrast factor − 1, either way */
  brightness: 0.1,
  contrast: 0.15,
});

/** Rec. 601 luma weights: a grayscale copy's three equal channels. */
const LUMA = Object.freeze([0.299, 0.587, 0.114] as const);

export interface PhotoAugment {
  grayscale: boolean;
  /** Per-channel gains (R, G, B), or null. */
  cast: [number, number, number] | null;
  /** Blur σ, or 0. */
  blurSigma: number;
  /** Side the chip is shrunk to before it is scaled back, or 0. */
  lowResolutionSide: number;
  /** JPEG quality of the re-compression, or 0. */
  jpegQuality: number;
  /** The aligner's error, the lighting change and the mirror, applied after the degradations. */
  geometry: Jitter;
}

/** Parameters of photo copy `k` of the image with content hash `hash` (deterministic). */
export function photoAugmentFor(hash: string, k: number): PhotoAugment {
  const rng = mulberry32(deriveSeed(PHOTO_AUGMENT_VERSION, `photo/${hash}/${k}`));
  const uniform = (lo: number, hi: number): number => lo + rng() * (hi - lo);
  const normal = (m: { mean: number; sd: number }): number => {
    const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()); // Box–Muller
    return m.mean + Math.max(-3, Math.min(3, z)) * m.sd;
  };
  const d = PHOTO_DEGRADATIONS;
  const grayscale = rng() < d.grayscale;
  const cast = rng() < d.cast.p ? ([0, 1, 2].map(() => uniform(1 - d.cast.gain, 1 + d.cast.gain)) as [number, number, number]) : null;
  const blurSigma = rng() < d.blur.p ? uniform(...d.blur.sigma) : 0;
  const lowResolutionSide = rng() < d.lowResolution.p ? Math.round(uniform(...d.lowResolution.side)) : 0;
  const jpegQuality = rng() < d.jpeg.p ? Math.round(uniform(...d.jpeg.quality)) : 0;
  const geometry: Jitter = {
    angle: (normal(ALIGNER_ERROR.degrees) * Math.PI) / 180,
    zoom: normal(ALIGNER_ERROR.zoom),
    dx: normal(ALIGNER_ERROR.dx),
    dy: normal(ALIGNER_ERROR.dy),
    brightness: uniform(-d.brightness, d.brightness),
    contrast: uniform(-d.contrast, d.contrast),
    flip: k % 2 === 1,
  };
  return { grayscale, cast, blurSigma, lowResolutionSide, jpegQuality, geometry };
}

/**
 * Applies the photo degradations of `p` to an RGB chip, in the order a photo meets them: colour
 * cast, grayscale, blur, low resolution, JPEG. Returns a new RGB image of the same size (the
 * geometry is applied later, on the batch, by jitterChips). The input is not modified.
 */
export async function degradeChip(chip: RawImage, p: PhotoAugment): Promise<RawImage> {
  if (chip.channels !== 3) throw new RangeError(`degradeChip: expected an RGB chip but received ${chip.channels} channels`);
  const { width, height } = chip;
  const rawIn = { raw: { width, height, channels: 3 as const } };
  let buf = Buffer.from(chip.data.buffer, chip.data.byteOffset, chip.data.byteLength);
  const step = async (f: (s: Sharp) => Sharp): Promise<void> => {
    buf = await f(sharp(buf, rawIn)).removeAlpha().raw().toBuffer();
  };
  if (p.cast) {
    const cast = p.cast;
    await step((s) => s.linear(cast, [0, 0, 0]));
  }
  if (p.grayscale) await step((s) => s.recomb([[...LUMA], [...LUMA], [...LUMA]])); // grey, still three channels
  if (p.blurSigma > 0) await step((s) => s.blur(p.blurSigma));
  if (p.lowResolutionSide > 0) {
    const side = p.lowResolutionSide;
    const small = await sharp(buf, rawIn).resize(side, Math.max(1, Math.round((side * height) / width))).raw().toBuffer({ resolveWithObject: true });
    buf = await sharp(small.data, { raw: { width: small.info.width, height: small.info.height, channels: 3 } }).resize(width, height, { kernel: 'cubic' }).raw().toBuffer();
  }
  if (p.jpegQuality > 0) {
    const jpeg = await sharp(buf, rawIn).jpeg({ quality: p.jpegQuality }).toBuffer();
    buf = await sharp(jpeg).removeAlpha().toColourspace('srgb').raw().toBuffer();
  }
  return { data: new Uint8Array(buf), width, height, channels: 3 }; // a copy: never the caller's memory
}
