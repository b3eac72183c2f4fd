/**
 * UTKFace's chips were cut by dlib's `get_face_chip` (default padding 0.2): a least-squares
 * similarity of iBUG landmarks 17–67 onto dlib's mean face. Measured on UTKFace train chips with
 * face-api's 68-point net (experiments/dlib-template.ts): the fit at padding 0.2 has a mean scale of
 * 0.999, i.e. the chips are that crop. face-api's landmarks are not dlib's, so the template the fit
 * uses is face-api's own (`models/detector/chip-template-68.json`, written by
 * `scripts/fit-chip-template-68.ts` from photos made from train chips by a known similarity), with an
 * optional shape correction; this module reads it and maps a face's 68 landmarks to the chip → image
 * similarity.
 *
 * @example
 *   const s = dlibChipToImage(dlibTemplate()!, points68, 200); // chip pixel → image pixel
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgeGenderError, fsErrorReason } from '../core/errors.js';
import { packageRoot } from '../model/folder.js';
import { applySimilarity, composeSimilarity, fitSimilarity, invertSimilarity, parseTemplateJson, pointTemplateOf, type ChipTemplate, type Similarity } from './align.js';
import type { Point } from './detect.js';

/** dlib/image_transforms/interpolation.h: mean positions of iBUG landmarks 17–67 (unit square). */
const MEAN_X = [0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127, 0.42689];
const MEAN_Y = [0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182];

/** The first iBUG landmark the fit uses (17: the jaw line 0–16 is left out, as dlib does). */
export const DLIB_FIRST_LANDMARK = 17;

/** dlib's mean face in a `size`-pixel chip at `padding` (get_face_chip_details). */
export function dlibMeanFace(size: number, padding: number): Point[] {
  return MEAN_X.map((x, i) => ({ x: ((x + padding) / (1 + 2 * padding)) * size, y: ((MEAN_Y[i]! + padding) / (1 + 2 * padding)) * size }));
}

/**
 * The committed template: landmarks 17–67 in a 200-px UTKFace chip as face-api's net places them
 * (read on the photo path's first chip in photos made from train chips, carried back into the chip's
 * frame by the known map and averaged), with an optional linear correction. The correction maps
 * the face's own shape (its landmarks after the fit, minus the template: 102 numbers that no
 * similarity changes) to the fit's error against the chip's frame (a − 1, b, tx, ty in template
 * pixels): face-api's landmarks and the dlib landmarks UTKFace was cut with differ in a way that
 * follows the face's shape, and a plain fit cannot undo that.
 */
export interface DlibTemplate extends ChipTemplate {
  /** 102 rows (x, y of each point's residual) of 4 weights (a − 1, b, tx, ty); absent: the plain fit. */
  correction?: ReadonlyArray<readonly number[]>;
}

export function chipTemplate68File(): string {
  return join(packageRoot(), 'models', 'detector', 'chip-template-68.json');
}

/** Parses and checks the 68-point template file's JSON (landmarks 17–67 and the optional correction). */
export function parseDlibTemplate(text: string, subject: string): DlibTemplate {
  const what = '68-point chip template';
  const raw = parseTemplateJson(text, subject, what);
  const t = pointTemplateOf(raw, subject, MEAN_X.length, what);
  const correction = (raw as { correction?: unknown }).correction;
  if (correction === undefined) return t;
  const rows = 2 * MEAN_X.length;
  const ok = Array.isArray(correction) && correction.length === rows && correction.every((r) => Array.isArray(r) && r.length === 4 && r.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!ok) throw new AgeGenderError('MODEL_INVALID', `68-point chip template's correction needs ${rows} rows of 4 numbers`, { subject });
  return { ...t, correction: (correction as number[][]).map((r) => Object.freeze([...r])) };
}

/**
 * Reads and checks a 68-point template file: null when there is no such file; MODEL_NOT_LOADED when
 * it is there but cannot be read, MODEL_INVALID when it is malformed (both naming the file).
 */
export function readDlibTemplate(file: string): DlibTemplate | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException | null)?.code === 'ENOENT') return null;
    throw new AgeGenderError('MODEL_NOT_LOADED', `cannot read the 68-point chip template: ${fsErrorReason(cause)}`, { subject: file, cause });
  }
  return parseDlibTemplate(text, file);
}

let template: DlibTemplate | null | undefined;

/** The shipped 68-point template, read once; null when the package has none. */
export function dlibTemplate(): DlibTemplate | null {
  if (template === undefined) template = readDlibTemplate(chipTemplate68File());
  return template;
}

/**
 * The face's shape in the template's frame: each of `face`'s points carried back by `fit` (template
 * → image, for a chip `k` times the template's size), minus the template's, as x, y pairs. No
 * similarity of the face changes it: what the correction reads, and what it is fitted on.
 */
export function shapeResidual(points: readonly Point[], face: readonly Point[], fit: Similarity, k = 1): number[] {
  const back = invertSimilarity(fit);
  return face.flatMap((p, i) => {
    const q = applySimilarity(back, p);
    return [q.x / k - points[i]!.x, q.y / k - points[i]!.y];
  });
}

/** Chip (`size`×`size`) → image similarity from a face's 68 landmarks (image pixels). */
export function dlibChipToImage(t: DlibTemplate, landmarks68: readonly Point[], size: number): Similarity {
  if (landmarks68.length !== 68) throw new AgeGenderError('INVALID_ARGUMENT', `Expected 68 landmarks but received ${landmarks68.length}`);
  const face = landmarks68.slice(DLIB_FIRST_LANDMARK);
  const k = size / t.size;
  const fit = fitSimilarity(t.points.map((p) => ({ x: p.x * k, y: p.y * k })), face);
  const correction = t.correction;
  if (!correction) return fit;
  if (correction.length !== 2 * face.length || correction.some((r) => r.length !== 4)) throw new AgeGenderError('INVALID_ARGUMENT', `Expected a correction of ${2 * face.length} rows of 4 numbers but received ${correction.length} rows`);
  // the fit's error that the face's shape predicts (template pixels)
  const error = [0, 0, 0, 0];
  shapeResidual(t.points, face, fit, k).forEach((r, m) => {
    for (let j = 0; j < 4; j++) error[j]! += r * correction[m]![j]!;
  });
  // a face shaped like none the correction was fitted on (the largest seen on photos: 21% of scale) keeps the plain fit
  if (!plausibleError(error, t.size)) return fit;
  // in chip pixels (a shift scales with the chip), then undone: fit ∘ error⁻¹
  return composeSimilarity(fit, invertSimilarity({ a: 1 + error[0]!, b: error[1]!, tx: error[2]! * k, ty: error[3]! * k }));
}

/** A predicted error within 30% of scale, 0.3 rad of rotation and a quarter of the chip's side of shift. */
function plausibleError([a1, b, tx, ty]: readonly number[], side: number): boolean {
  const scale = Math.hypot(1 + a1!, b!);
  return scale > 0.7 && scale < 1.3 && Math.abs(Math.atan2(b!, 1 + a1!)) < 0.3 && Math.hypot(tx!, ty!) < side / 4;
}
