/**
 * The face-quality gate: every analysed face carries a quality score, and an input that is not a
 * usable face (blank, one colour, noise, a few pixels, no face in it) is refused with
 * NO_USABLE_FACE instead of getting an age and a gender.
 *
 * Components (each 0–1; null when not measured):
 * - `detector`: the face detector's confidence. With detection off (`--no-detect`, `?detect=false`)
 *   a detector that finds faces in tight chips (YuNet; it pads the chip by a margin itself) is still
 *   run on the chip to confirm a face there; with face-api's SSD (the fallback without onnxruntime)
 *   the gate has the image statistics only, noise included.
 * - `landmarkFit`: how well the five landmarks fit the UTKFace chip template after a least-squares
 *   similarity (1 = exactly the template's shape; a profile or a false detection fits badly).
 * - `sharpness`: variance of the Laplacian of the 128-px grey face, v / (v + 100).
 * - `exposure`: 1 at mid-grey with ordinary contrast, falling towards black, white or flat.
 * `score` = detector × mean of the others measured (detector missing: the mean alone).
 *
 * @example
 *   const stats = await imageStats(chip);            // { mean, std, sharpness }
 *   const why = unusableReason(chip, stats);         // null, or 'image is one flat colour …'
 */
import sharp from 'sharp';
import { AgeGenderError } from '../core/errors.js';
import type { RawImage } from '../io/types.js';
import { chipTemplate, fitSimilarity, applySimilarity } from './align.js';
import type { DetectedFace, FaceDetector } from './detect.js';

export interface FaceQuality {
  /** Overall 0–1 (see the module comment). */
  score: number;
  detector: number | null;
  landmarkFit: number | null;
  sharpness: number;
  exposure: number;
}

/** Grey-level statistics of an image (or a face chip) at ≤ 128 px. */
export interface ImageStats {
  /** Mean luminance, 0–255. */
  mean: number;
  /** Standard deviation of luminance (contrast), 0–128. */
  std: number;
  /** Variance of the 4-neighbour Laplacian. */
  laplacianVariance: number;
}

/** Thresholds of the gate; measured on UTKFace val chips and bad inputs (docs/serving.md). */
export const QUALITY_GATE = Object.freeze({
  /** Smaller than this on either side is no face. */
  minSide: 24,
  /** Luminance std below this: one flat colour (UTKFace chips: ≥ 20 in practice). */
  minStd: 6,
  /** Mean luminance outside [minMean, maxMean]: blank black or white. */
  minMean: 8,
  maxMean: 247,
  /** With detection off, the confirming face must be centred in the middle half and this wide. */
  minChipFaceShare: 0.3,
  /**
   * Laplacian variance over luminance variance above this: noise, not a photo (UTKFace val chips:
   * median 0.04, max 0.57 of 381; uniform noise ≈ 16).
   */
  maxNoiseRatio: 4,
});

/** Luminance mean, contrast and Laplacian variance, computed on a ≤ 128-px grey copy. */
export async function imageStats(image: RawImage): Promise<ImageStats> {
  const side = Math.max(image.width, image.height);
  const k = Math.min(1, 128 / side);
  const w = Math.max(1, Math.round(image.width * k));
  const h = Math.max(1, Math.round(image.height * k));
  const grey = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .resize(w, h, { fit: 'fill' })
    .greyscale()
    .raw()
    .toBuffer();
  const n = w * h;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const v = grey[i * (grey.length / n)]!;
    sum += v;
    sq += v * v;
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, sq / n - mean * mean));
  return { mean, std, laplacianVariance: laplacianVariance(grey, w, h, grey.length / n) };
}

function laplacianVariance(g: Uint8Array, w: number, h: number, c: number): number {
  if (w < 3 || h < 3) return 0;
  let sum = 0;
  let sq = 0;
  let n = 0;
  const at = (x: number, y: number): number => g[(y * w + x) * c]!;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const l = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4 * at(x, y);
      sum += l;
      sq += l * l;
      n++;
    }
  }
  return sq / n - (sum / n) ** 2;
}

/** Why the image cannot hold a usable face from its size and statistics alone, or null. */
export function unusableReason(image: { width: number; height: number }, stats: ImageStats | null): string | null {
  const g = QUALITY_GATE;
  if (image.width < g.minSide || image.height < g.minSide) return `image is ${image.width}×${image.height} pixels: too small to hold a face (at least ${g.minSide}×${g.minSide})`;
  if (!stats) return null;
  if (stats.mean < g.minMean) return `image is blank (almost black: mean level ${stats.mean.toFixed(0)} of 255)`;
  if (stats.mean > g.maxMean) return `image is blank (almost white: mean level ${stats.mean.toFixed(0)} of 255)`;
  // Rounded down, so a refused contrast of 5.97 never reads as the 6.0 it falls short of.
  if (stats.std < g.minStd) return `image is one flat colour (contrast ${(Math.floor(stats.std * 10) / 10).toFixed(1)}, a face needs at least ${g.minStd})`;
  const ratio = stats.laplacianVariance / (stats.std * stats.std);
  if (ratio > g.maxNoiseRatio) return `image looks like noise (pixel-to-pixel variation ${ratio.toFixed(1)}× its contrast; photos of faces stay under 1)`;
  return null;
}

/** How well five landmarks fit the chip template's shape: 1 − RMS residual / (10% of the chip), clipped to 0–1. */
export function landmarkFit(face: DetectedFace): number | null {
  if (!face.landmarks || face.landmarks.length !== 5) return null;
  const t = chipTemplate();
  const s = fitSimilarity(face.landmarks, t.points);
  let sum = 0;
  face.landmarks.forEach((p, i) => {
    const q = applySimilarity(s, p);
    sum += (q.x - t.points[i]!.x) ** 2 + (q.y - t.points[i]!.y) ** 2;
  });
  const rms = Math.sqrt(sum / 5);
  return Math.max(0, Math.min(1, 1 - rms / (0.1 * t.size)));
}

/** The quality record of one face from its detection (or null) and its chip's statistics. */
export function faceQuality(detection: DetectedFace | null, chipStats: ImageStats): FaceQuality {
  const sharpness = chipStats.laplacianVariance / (chipStats.laplacianVariance + 100);
  const exposure = Math.max(0, 1 - Math.abs(chipStats.mean - 128) / 128) * Math.min(1, chipStats.std / 40);
  const fit = detection ? landmarkFit(detection) : null;
  const others = [sharpness, exposure, ...(fit === null ? [] : [fit])];
  const mean = others.reduce((a, b) => a + b, 0) / others.length;
  const detector = detection ? detection.score : null;
  return { score: detector === null ? mean : detector * mean, detector, landmarkFit: fit, sharpness, exposure };
}

/** The error an unusable input gets. */
export function noUsableFace(reason: string, subject?: string): AgeGenderError {
  return new AgeGenderError('NO_USABLE_FACE', `no usable face: ${reason}`, subject === undefined ? {} : { subject });
}

/**
 * NO_USABLE_FACE when `image`, decoded shrunk from a file of `source` size (its upright size), is too
 * small to hold a face; the message names the file's own size first (a 1×10000 strip analysed at
 * 1×4096 is "1×10000 pixels", not "1×4096"). Nothing when it is large enough.
 */
export function checkShrunkSize(image: { width: number; height: number }, source: { width: number; height: number }, subject?: string): void {
  const reason = unusableReason(image, null);
  if (reason === null) return;
  if (image.width === source.width && image.height === source.height) throw noUsableFace(reason, subject);
  const shrunk = reason.replace(/^image is \d+×\d+ pixels: /, '');
  throw noUsableFace(`image is ${source.width}×${source.height} pixels (${image.width}×${image.height} once shrunk for analysis): ${shrunk}`, subject);
}

/**
 * The gate for an image taken as one chip (detection off): size and statistics (blank, flat,
 * noise), then — when the detector can confirm chips (`confirmsChips`: YuNet) — a face centred in the chip and at least {@link QUALITY_GATE}.minChipFaceShare
 * of its width. Returns the confirming detection (null without a detector) and the quality; throws
 * NO_USABLE_FACE.
 */
export async function gateChip(image: RawImage, detector: FaceDetector | null, subject?: string): Promise<{ detection: DetectedFace | null; quality: FaceQuality }> {
  const early = unusableReason(image, null);
  if (early) throw noUsableFace(early, subject);
  const stats = await imageStats(image);
  const reason = unusableReason(image, stats);
  if (reason) throw noUsableFace(reason, subject);
  let detection: DetectedFace | null = null;
  if (detector?.confirmsChips) {
    const g = QUALITY_GATE;
    const centred = (d: DetectedFace): boolean => {
      const cx = (d.box.x + d.box.width / 2) / image.width;
      const cy = (d.box.y + d.box.height / 2) / image.height;
      return cx > 0.25 && cx < 0.75 && cy > 0.25 && cy < 0.75 && d.box.width >= g.minChipFaceShare * image.width;
    };
    detection = (await detector.detect(image)).find(centred) ?? null;
    if (!detection) throw noUsableFace(`the face detector (${detector.name}) finds no face filling the image`, subject);
  }
  return { detection, quality: faceQuality(detection, stats) };
}
