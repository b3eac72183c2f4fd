/**
 * Explain one face and write the [input | LIME | occlusion] PNG: the library side of
 * `agegender explain`. A photo goes through the photo path first (detect → align, as `predict`
 * does; a UTKFace-style chip is recognised and kept as it is) and one of its faces is explained, the
 * first by default, in `predict`'s order; with `detect: false` the image is one chip (padded to a
 * square and resized to 200×200). With `workers` > 1 the perturbed images are scored on worker threads.
 *
 * @example
 *   const { result, face } = await explainFile('family.jpg', { task: 'age', face: 2, out: 'face2.age.png' });
 */
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { checkNotInput, checkOutputFile } from '../core/output-path.js';
import { writeFileAtomic } from '../core/atomic.js';
import { explainImage, type ExplainResult } from '../explain/explain.js';
import { prepareChip } from '../explain/input.js';
import { EXPLAIN_TASKS, FILL_MODES, type ExplainTask, type FillMode } from '../explain/lime.js';
import { integerInRange, oneOf } from '../core/validate.js';
import { withModel, type ModelSource } from '../model/load.js';
import { AgeGenderError } from '../core/errors.js';
import { decodeImageWithHeader, firstFrameNoteField, readImageFile } from '../io/decode.js';
import type { RawImage } from '../io/types.js';
import type { AgeGenderModel } from '../model/api.js';
import { analyzeImage, PHOTO_MAX_SIDE, scaleBox } from '../pipeline/analyze.js';
import { loadFaceDetector, type FaceBox } from '../pipeline/detect.js';
import { checkShrunkSize, gateChip } from '../pipeline/quality.js';

export interface ExplainFileOptions extends ModelSource {
  task: ExplainTask;
  samples: number;
  seed: number;
  fill: FillMode;
  /** Also compute occlusion sensitivity. */
  occlusion: boolean;
  /** PNG file to write, or a folder to write `<image name>.<task>.explain.png` in (`<image name>.face<N>.<task>.explain.png` for face N > 1; default: that name in the working folder). */
  out?: string;
  /** Worker threads scoring the perturbed images, each loading `modelDir` (default 1: in-process). */
  workers?: number;
  /** Find the faces first, as `predict` does (default true); false: the image is one aligned chip. */
  detect?: boolean;
  /** With `detect`: which face to explain, 1-based in `predict`'s order (default 1). */
  face?: number;
  /** Images scored so far of the total (LIME's samples over the stability seeds, then occlusion), after each batch. */
  onProgress?: (done: number, total: number) => void;
}

/** The face explained, when the faces were detected. */
export interface ExplainedFace {
  /** 1-based, in `predict`'s order. */
  index: number;
  /** Faces found in the image. */
  of: number;
  /** In the upright image's pixels, as `predict` reports it. */
  box: FaceBox;
  /** Clockwise degrees the photo was turned to find its faces (0 when upright). */
  turned: number;
}

export interface ExplainedFile {
  result: ExplainResult;
  /** The PNG written. */
  out: string;
  /** Seconds spent explaining and writing (model loading excluded). */
  seconds: number;
  /** The face explained; null with `detect: false`. */
  face: ExplainedFace | null;
  /** Present when the file holds several frames or pages and only the first was explained (`firstFrameNote`), as in `predict`'s result. */
  note?: string;
}

/**
 * The PNG's path: `out` itself, or the default name inside `out` when it is a folder (an existing one, or a
 * path ending in a slash). The default name is `<image>.<task>.explain.png` for the first face and
 * `<image>.face<N>.<task>.explain.png` for face N > 1, so explaining several faces of one photo keeps each.
 */
export async function explainOutPath(image: string, task: ExplainTask, out?: string, face = 1): Promise<string> {
  const name = `${basename(image)}${face > 1 ? `.face${face}` : ''}.${task}.explain.png`;
  if (out === undefined) return resolve(name);
  const isFolder = /[/\\]$/.test(out) || (await stat(out).then((s) => s.isDirectory(), () => false));
  return resolve(isFolder ? join(out, name) : out);
}

/** An image decoded for the photo path (shrunk past {@link PHOTO_MAX_SIDE}), with its upright size and, for a file of several frames or pages, the note saying only the first is used. */
async function decodePhoto(image: string): Promise<{ photo: RawImage; width: number; height: number; note?: string }> {
  const bytes = await readImageFile(image);
  const { image: photo, header } = await decodeImageWithHeader(bytes, image, { maxSide: PHOTO_MAX_SIDE });
  return { photo, width: header.width, height: header.height, ...firstFrameNoteField(header) };
}

/** Detects and aligns the faces of `photo` and picks face `index` (1-based); INVALID_ARGUMENT when there is no such face. */
async function pickFace(model: AgeGenderModel, decoded: { photo: RawImage; width: number; height: number }, image: string, index: number): Promise<{ chip: RawImage; face: ExplainedFace }> {
  checkShrunkSize(decoded.photo, decoded, image);
  const detector = await loadFaceDetector();
  try {
    const res = await analyzeImage(model, detector, decoded.photo, { detect: true, subject: image });
    const face = res.faces[index - 1];
    if (!face) throw new AgeGenderError('INVALID_ARGUMENT', `face ${index} was asked for (--face), but ${res.faces.length === 1 ? 'one face was' : `${res.faces.length} faces were`} found`, { subject: image });
    const box = scaleBox(face.box, decoded.width / decoded.photo.width, decoded.height / decoded.photo.height);
    return { chip: face.chip, face: { index, of: res.faces.length, box, turned: res.turned ?? 0 } };
  } finally {
    detector.dispose();
  }
}

/**
 * `chip` when the whole image passes the quality gate `predict --no-detect` runs (statistics, and the
 * face detector confirming a face that fills it); NO_USABLE_FACE otherwise: what predict refuses to
 * answer is not explained either.
 */
async function gatedChip(chip: RawImage, whole: RawImage, image: string): Promise<RawImage> {
  const detector = await loadFaceDetector();
  try {
    await gateChip(whole, detector, image);
    return chip;
  } finally {
    detector.dispose();
  }
}

/** Checks the settings (INVALID_ARGUMENT: task, fill, samples 10–100,000, seed, workers 1–64) and where the PNG goes (INVALID_ARGUMENT: a folder in its way, an unwritable folder, the input image itself) and decodes and checks the image before loading any model; finds the face (unless `detect: false`), explains it, and writes the PNG atomically. */
export async function explainFile(image: string, options: ExplainFileOptions): Promise<ExplainedFile> {
  const detect = options.detect ?? true;
  const index = options.face ?? 1;
  if (!Number.isInteger(index) || index < 1) throw new AgeGenderError('INVALID_ARGUMENT', `face must be a positive integer (got ${String(options.face)})`, { subject: image });
  // the settings are checked before any work, as the command checks its flags (explainImage would check most only after the model and the faces)
  oneOf(options.task, 'task', EXPLAIN_TASKS);
  oneOf(options.fill, 'fill', FILL_MODES);
  integerInRange(options.samples, 'samples', 10, 100_000);
  integerInRange(options.seed, 'seed', 0, 2 ** 32 - 1);
  const workers = integerInRange(options.workers ?? 1, 'workers', 1, 64);
  const out = await checkOutputFile(await explainOutPath(image, options.task, options.out, index));
  await checkNotInput(out, image);
  if (!detect && options.face !== undefined) throw new AgeGenderError('INVALID_ARGUMENT', 'face picks one of the faces found: it needs detection (leave out --no-detect)', { subject: image });
  const decoded = await decodePhoto(image);
  const given = detect ? null : await prepareChip(decoded.photo, image);
  return withModel(options, async (local) => {
    const picked = given ? { chip: await gatedChip(given, decoded.photo, image), face: null } : await pickFace(local, decoded, image, index);
    const chip = picked.chip;
    const { createPredictPool } = await import('../pipeline/predict-pool.js');
    const { pooledModel } = await import('../pipeline/pooled-model.js');
    const pool = workers > 1 ? await createPredictPool({ modelDir: options.modelDir, workers }) : null;
    const model = pool ? pooledModel(local, pool) : local;
    try {
      const started = performance.now();
      const result = await explainImage(model, chip, { task: options.task, samples: options.samples, seed: options.seed, fill: options.fill, occlusion: options.occlusion, subject: image, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
      await writeFileAtomic(out, result.png);
      return { result, out, seconds: (performance.now() - started) / 1000, face: picked.face, ...(decoded.note === undefined ? {} : { note: decoded.note }) };
    } finally {
      await pool?.close();
    }
  });
}
