/**
 * Cached geometric + photometric augmentation ("jitter") of training chips: a small rotation, zoom,
 * shift, brightness and contrast change, optionally mirrored — fastai's `aug_transforms` family,
 * which the reference notebook trained with. The stem is frozen, so each jittered copy is run
 * through it once and cached like the original (featureCache.ts, variant set `jitter`).
 *
 * A copy's parameters are drawn from a seed derived from the image's content hash and the copy's
 * index, so a cache entry is a function of the image bytes alone (any process, any order).
 *
 * @example
 *   const params = [jitterFor(hash, 0), jitterFor(hash, 1)];
 *   const copies = jitterChips(tf.cast(chips, 'float32'), params); // same shape as the chips
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, mulberry32 } from '../core/random.js';

/** Bumped whenever the ranges or the transform change: it names the cache folder, so stale copies are never read. */
export const JITTER_VERSION = 1;
/** Jittered copies cached per training chip (the cache entry layout holds exactly two); copy k is mirrored when k is odd. */
export const JITTER_COPIES = 2;

/** The ranges the parameters are drawn from (uniformly). */
export const JITTER_RANGES = Object.freeze({
  /** rotation, degrees either way */
  degrees: 10,
  /** zoom factor (> 1 magnifies: the chip shows less than the original) */
  zoom: Object.freeze([0.95, 1.15] as const),
  /** shift, as a fraction of the side, either way, per axis */
  shift: 0.05,
  /** brightness offset as a fraction of 255, either way */
  brightness: 0.12,
  /** contrast factor − 1, either way */
  contrast: 0.15,
});

export interface Jitter {
  /** Rotation in radians (counter-clockwise in image coordinates: y down). */
  angle: number;
  zoom: number;
  /** Shift of the content in pixels of a chip of side 1 (multiplied by the side when applied). */
  dx: number;
  dy: number;
  brightness: number;
  contrast: number;
  flip: boolean;
}

/** The identity jitter (no change). */
export const NO_JITTER: Readonly<Jitter> = Object.freeze({ angle: 0, zoom: 1, dx: 0, dy: 0, brightness: 0, contrast: 0, flip: false });

/** Parameters of copy `k` of the image with content hash `hash` (deterministic). */
export function jitterFor(hash: string, k: number): Jitter {
  const rng = mulberry32(deriveSeed(JITTER_VERSION, `${hash}/${k}`));
  const sym = (r: number): number => (2 * rng() - 1) * r;
  const [z0, z1] = JITTER_RANGES.zoom;
  return {
    angle: (sym(JITTER_RANGES.degrees) * Math.PI) / 180,
    zoom: z0 + rng() * (z1 - z0),
    dx: sym(JITTER_RANGES.shift),
    dy: sym(JITTER_RANGES.shift),
    brightness: sym(JITTER_RANGES.brightness),
    contrast: sym(JITTER_RANGES.contrast),
    flip: k % 2 === 1,
  };
}

/**
 * The 8 projective-transform coefficients `tf.image.transform` takes, which map an output pixel
 * (x, y) to the input point it samples: rotation and zoom about the centre, then the shift.
 */
export function transformRow(j: Jitter, width: number, height: number): number[] {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const c = Math.cos(j.angle) / j.zoom;
  const s = Math.sin(j.angle) / j.zoom;
  // input = R(angle)/zoom · (output − centre) + centre − shift  (the content moves by +shift)
  const a0 = c;
  const a1 = -s;
  const b0 = s;
  const b1 = c;
  const a2 = cx - a0 * cx - a1 * cy - j.dx * width;
  const b2 = cy - b0 * cx - b1 * cy - j.dy * height;
  return [a0, a1, a2, b0, b1, b2, 0, 0];
}

/**
 * Applies one jitter per image to a float batch of chips (N×H×W×3, values 0…255); returns a new
 * batch of the same shape, values clipped to 0…255. Pixels that come from outside the chip repeat
 * its edge (fill `nearest`), so no black corners appear.
 */
export function jitterChips(batch: tf.Tensor4D, jitters: readonly Jitter[]): tf.Tensor4D {
  const [n, h, w] = batch.shape;
  if (jitters.length !== n) throw new RangeError(`jitterChips: ${jitters.length} jitters for a batch of ${n}`);
  return tf.tidy(() => {
    const rows = tf.tensor2d(jitters.flatMap((j) => transformRow(j, w, h)), [n, 8]);
    let x = tf.image.transform(batch, rows, 'bilinear', 'nearest');
    const contrast = tf.tensor4d(jitters.map((j) => 1 + j.contrast), [n, 1, 1, 1]);
    const offset = tf.tensor4d(jitters.map((j) => j.brightness * 255), [n, 1, 1, 1]);
    x = tf.clipByValue(tf.add(tf.add(tf.mul(tf.sub(x, 127.5), contrast), 127.5), offset), 0, 255) as tf.Tensor4D;
    const flips = jitters.map((j) => j.flip);
    if (flips.some(Boolean)) {
      const mirrored = tf.reverse(x, 2);
      const mask = tf.tensor4d(flips.map((f) => (f ? 1 : 0)), [n, 1, 1, 1], 'bool');
      x = tf.where(tf.broadcastTo(mask, x.shape), mirrored, x) as tf.Tensor4D;
    }
    return x as tf.Tensor4D;
  });
}
