/**
 * Face alignment: warps a detected face into a square chip laid out like UTKFace's "aligned &
 * cropped" 200×200 chips, with a similarity transform (rotation + scale + shift) that puts the
 * eyes where UTKFace chips have them — level, at the template positions below.
 *
 * The template was measured, not guessed: the same landmark net run over 34 UTKFace chips put the
 * image-left eye at (59.1, 56.7) ± 2.5 px and the image-right eye at (135.0, 57.9) ± 2.6 px, the
 * mouth at (97.4, 140.3). Eyes are made level at their mean height.
 *
 * @example
 *   const chip = alignFace(photo, detectedFace); // RawImage 200×200×3
 */
import { integerInRange } from '../core/validate.js';
import type { RawImage } from '../io/types.js';
import type { Point } from './detect.js';

/** Eye positions of a UTKFace chip, in a 200×200 frame. */
export const UTKFACE_TEMPLATE = Object.freeze({
  size: 200,
  leftEye: Object.freeze({ x: 59.1, y: 57.3 }),
  rightEye: Object.freeze({ x: 135.0, y: 57.3 }),
});

export interface AlignOptions {
  /** Output side in pixels (default 200, as UTKFace). The template scales with it. */
  size?: number;
}

/** The two eye centres; `leftEye` is the one on the image's left. */
export interface EyePair {
  leftEye: Point;
  rightEye: Point;
}

/**
 * Maps chip coordinates to source-image coordinates: `src = L + M · (dst − L')`,
 * with M the rotation-and-scale that carries the template eye vector onto the detected one.
 */
export function chipToImageTransform(eyes: EyePair, size: number = UTKFACE_TEMPLATE.size): (x: number, y: number) => Point {
  const k = size / UTKFACE_TEMPLATE.size;
  const tl = { x: UTKFACE_TEMPLATE.leftEye.x * k, y: UTKFACE_TEMPLATE.leftEye.y * k };
  const tr = { x: UTKFACE_TEMPLATE.rightEye.x * k, y: UTKFACE_TEMPLATE.rightEye.y * k };
  const vx = eyes.rightEye.x - eyes.leftEye.x;
  const vy = eyes.rightEye.y - eyes.leftEye.y;
  const wx = tr.x - tl.x;
  const wy = tr.y - tl.y;
  const w2 = wx * wx + wy * wy;
  // Complex division v / w: rotation + scale from template space to image space.
  const a = (vx * wx + vy * wy) / w2;
  const b = (vy * wx - vx * wy) / w2;
  return (x, y) => {
    const ox = x - tl.x;
    const oy = y - tl.y;
    return { x: eyes.leftEye.x + a * ox - b * oy, y: eyes.leftEye.y + b * ox + a * oy };
  };
}

/**
 * Warps the face into a `size`×`size` RGB chip (bilinear, supersampled when shrinking,
 * edges clamped). Pure: the input is not modified.
 */
export function alignFace(image: RawImage, eyes: EyePair, options: AlignOptions = {}): RawImage {
  const size = integerInRange(options.size ?? UTKFACE_TEMPLATE.size, 'size', 16, 2048);
  const map = chipToImageTransform(eyes, size);
  const origin = map(0, 0);
  const step = map(1, 0);
  const scale = Math.hypot(step.x - origin.x, step.y - origin.y); // source pixels per chip pixel
  const ss = Math.min(4, Math.max(1, Math.ceil(scale))); // samples per axis
  const { width, height, channels, data } = image;
  const out = new Uint8Array(size * size * 3);
  const acc = [0, 0, 0];
  const sample = (sx: number, sy: number): void => {
    const x = Math.min(width - 1, Math.max(0, sx));
    const y = Math.min(height - 1, Math.max(0, sy));
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const x1 = Math.min(width - 1, x0 + 1);
    const y1 = Math.min(height - 1, y0 + 1);
    const fx = x - x0;
    const fy = y - y0;
    for (let c = 0; c < 3; c++) {
      const ch = channels === 1 ? 0 : c;
      const p00 = data[(y0 * width + x0) * channels + ch] ?? 0;
      const p10 = data[(y0 * width + x1) * channels + ch] ?? 0;
      const p01 = data[(y1 * width + x0) * channels + ch] ?? 0;
      const p11 = data[(y1 * width + x1) * channels + ch] ?? 0;
      acc[c] = (acc[c] ?? 0) + (p00 * (1 - fx) + p10 * fx) * (1 - fy) + (p01 * (1 - fx) + p11 * fx) * fy;
    }
  };
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let sj = 0; sj < ss; sj++) {
        for (let si = 0; si < ss; si++) {
          const p = map(i + (si + 0.5) / ss - 0.5, j + (sj + 0.5) / ss - 0.5);
          sample(p.x, p.y);
        }
      }
      const o = (j * size + i) * 3;
      const n = ss * ss;
      out[o] = Math.round((acc[0] ?? 0) / n);
      out[o + 1] = Math.round((acc[1] ?? 0) / n);
      out[o + 2] = Math.round((acc[2] ?? 0) / n);
    }
  }
  return { data: out, width: size, height: size, channels: 3 };
}
