/**
 * Shape-aware alignment: the five-point least-squares fit puts a face where the template's mean
 * landmarks are, but UTKFace's chips were aligned per face by another method, so the fit misses each
 * chip's frame by a few degrees and a few percent of scale and shift — an error that depends on the
 * face's own shape. A linear (ridge) map, fitted on UTKFace training chips by
 * `scripts/fit-align-correction.ts`, predicts that miss from what the fit leaves over: the five
 * landmarks' residuals and the detector box's centre and size, all in the template's frame (so the
 * same in a photo as in the chip). The box's axis-aligned shape is not used: it tells the axes of the
 * image the detector ran on, which in a photo are not the chip's.
 *
 * The features are only like the training chips' when the detector ran on a near-upright face, so
 * the photo path applies the correction on the refinement pass (the second detection, on the first
 * aligned chip); see `alignRefined` in analyze.ts.
 *
 * @example
 *   const c = alignCorrection(); // null when models/detector/align-correction.json is absent
 *   const templateToChip = c ? predictTemplateToChip(c, chipTemplate(), face) : null;
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgeGenderError } from '../core/errors.js';
import { predictRidge, type RidgeWeights } from '../core/ridge.js';
import { packageRoot } from '../model/folder.js';
import { applySimilarity, composeSimilarity, fitSimilarity, invertSimilarity, type ChipTemplate, type Similarity } from './align.js';
import type { FaceBox, Point } from './detect.js';

/** Number of features: 5 landmarks × (x, y) residual, box centre (x, y), box width and height. */
export const ALIGN_CORRECTION_FEATURES = 14;

export interface AlignCorrection {
  /** Ridge weights, {@link ALIGN_CORRECTION_FEATURES} rows and an intercept row, four columns: a − 1, b, tx, ty of the template → chip similarity. */
  weights: RidgeWeights;
}

/** A face as the correction reads it: five landmarks and the detector's box. */
export interface ShapedFace {
  landmarks?: readonly Point[];
  box: FaceBox;
}

/** Path of the committed correction (written by `scripts/fit-align-correction.ts`). */
export function alignCorrectionFile(): string {
  return join(packageRoot(), 'models', 'detector', 'align-correction.json');
}

/** Parses and checks a correction file's JSON. */
export function parseAlignCorrection(text: string, subject: string): AlignCorrection {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new AgeGenderError('MODEL_INVALID', 'alignment correction is not valid JSON', { subject, cause });
  }
  const w = (raw as { weights?: unknown }).weights;
  const ok = Array.isArray(w) && w.length === ALIGN_CORRECTION_FEATURES + 1 && w.every((r) => Array.isArray(r) && r.length === 4 && r.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!ok) throw new AgeGenderError('MODEL_INVALID', `alignment correction needs ${ALIGN_CORRECTION_FEATURES + 1} rows of 4 finite weights`, { subject });
  return { weights: w as number[][] };
}

let loaded: AlignCorrection | null | undefined;

/** The shipped correction, read once; null when the package has none (alignment is then the plain fit). */
export function alignCorrection(): AlignCorrection | null {
  if (loaded === undefined) {
    const file = alignCorrectionFile();
    let text: string | null = null;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = null;
    }
    loaded = text === null ? null : parseAlignCorrection(text, file);
  }
  return loaded;
}

/**
 * The features of one face: the five-point fit `m` (template → image) is undone, and what is left
 * (landmark residuals, box centre, box size over the fit's scale) is measured in the template frame.
 * Returns null without five landmarks.
 */
export function correctionFeatures(t: ChipTemplate, face: ShapedFace): { features: number[]; fit: Similarity } | null {
  if (!face.landmarks || face.landmarks.length !== 5) return null;
  const fit = fitSimilarity(t.points, face.landmarks);
  const back = invertSimilarity(fit);
  const features = face.landmarks.flatMap((p, i) => {
    const q = applySimilarity(back, p);
    return [q.x - t.points[i]!.x, q.y - t.points[i]!.y];
  });
  const half = t.size / 2;
  const centre = applySimilarity(back, { x: face.box.x + face.box.width / 2, y: face.box.y + face.box.height / 2 });
  const k = Math.hypot(back.a, back.b);
  features.push(centre.x - half, centre.y - half, face.box.width * k - half, face.box.height * k - half);
  return { features, fit };
}

/** The similarity from the template frame to where UTKFace's alignment would put this face's chip, as the correction predicts it; the training target is exactly the five-point fit on a chip. */
export function predictTemplateToChip(c: AlignCorrection, features: readonly number[]): Similarity {
  const [da, b, tx, ty] = predictRidge(c.weights, features) as [number, number, number, number];
  return { a: 1 + da, b, tx, ty };
}

/**
 * The chip (`size`×`size`) → image similarity with the correction: the five-point fit composed with
 * the inverse of the predicted template → chip miss. Null without five landmarks.
 */
export function correctedChipToImage(c: AlignCorrection, t: ChipTemplate, face: ShapedFace, size: number): Similarity | null {
  const f = correctionFeatures(t, face);
  if (!f) return null;
  const k = t.size / size;
  const chipToTemplate: Similarity = { a: k, b: 0, tx: 0, ty: 0 };
  return composeSimilarity(f.fit, composeSimilarity(invertSimilarity(predictTemplateToChip(c, f.features)), chipToTemplate));
}
