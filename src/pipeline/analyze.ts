/**
 * detect → align → predict for one decoded image.
 *
 * With `detect: true` every face the detector finds is aligned to a UTKFace-like chip and predicted
 * (one batched forward pass for all faces); an image that already is such a chip (square, landmarks
 * where the template has them: `isAlignedChip`) is predicted as it is. With `detect: false` the whole image is taken as one
 * chip (UTKFace-style inputs), boxed as the full frame with a null score.
 *
 * @example
 *   const result = await analyzeImage(model, detector, rgb, { detect: true });
 *   for (const face of result.faces) console.log(face.box, face.prediction.age);
 */
import sharp from 'sharp';
import { AgeGenderError } from '../core/errors.js';
import { genderAnswer } from '../core/gender.js';
import type { AgeGenderPrediction, GenderAnswer } from '../core/types.js';
import type { RawImage } from '../io/types.js';
import type { AgeGenderModel } from '../model/api.js';
import { dlibChipToImage, dlibTemplate } from './align-dlib.js';
import { sharedLandmarks68 } from './landmarks68.js';
import { alignFace, chipToImageSimilarity, chipToImageTransform, composeSimilarity, isAlignedChip, type Similarity } from './align.js';
import { detectCounted, type CountedFaces, type DetectedFace, type FaceBox, type FaceDetector } from './detect.js';
import { TURN_ORDER, TURN_PROBE_SIDE, turnImage, unturnFace, type QuarterTurn } from './turn.js';
import { faceQuality, gateChip, imageStats, noUsableFace, unusableReason, type FaceQuality } from './quality.js';

export interface AnalyzeOptions {
  /** Run face detection (ordinary photos) or take the image as one chip (aligned crops). */
  detect: boolean;
  /**
   * Photos larger than this on their longer side are shrunk for detection only (faces are still
   * aligned from the full-resolution pixels). Default {@link ANALYZE_DEFAULTS}.detectMaxSide, the
   * side YuNet's second pass looks for small faces at (yunet.ts `largeInputSide`).
   */
  detectMaxSide?: number;
  /**
   * Refine each alignment with a second detection on the aligned chip (landmarks of an upright,
   * chip-sized face are steadier than those of a tilted face in a photo). Default true.
   */
  refine?: boolean;
  /**
   * How the refinement pass cuts the chip: `dlib68` (default) fits face-api's 68 landmarks to dlib's
   * mean face, as UTKFace's chips were cut (align-dlib.ts); `five-point` is the plain five-point
   * template fit of the second detection's landmarks (no 68-point net).
   */
  align?: AlignMethod;
  /**
   * Find faces in photos stored sideways or upside down (scans fed in sideways, photos whose EXIF
   * orientation was lost): when the upright photo shows no face, or none scoring at least the
   * detector's `uprightScore`, the photo is also searched turned a quarter either way and upside down
   * (turn.ts). Each orientation's best face is cut into a chip and looked at again, and the
   * orientation whose chip looks most like an upright face is used. Boxes stay in the photo's own
   * coordinates; chips are cut upright. Costs three detections on a ≤ 426-px copy and up to four on
   * 200-px chips, on the photos searched only. Default true.
   */
  turns?: boolean;
  /** Names the input in a NO_USABLE_FACE error (a file name; default none). */
  subject?: string;
}

export const ANALYZE_DEFAULTS = Object.freeze({ detectMaxSide: 1600, refine: true, align: 'dlib68' as AlignMethod, turns: true });

export type AlignMethod = 'dlib68' | 'five-point';

/** The chip → first-chip similarity of the refinement pass, or null for the plain five-point fit. */
async function refinedChipToFirst(detector: FaceDetector, first: RawImage, again: DetectedFace, method: AlignMethod): Promise<Similarity | null> {
  if (method === 'dlib68') {
    const template = dlibTemplate();
    if (!template) return null;
    // the detector's own net (freed by its dispose); the thread's shared one for a detector without it
    const net = await (detector.landmarks68 ? detector.landmarks68() : sharedLandmarks68());
    const points = await net.locate(first, again.box);
    return points ? dlibChipToImage(template, points, first.width) : null;
  }
  return null;
}

/** One face and what the model says about it. */
export interface AnalyzedFace {
  /** Where the face is in the input image, in pixels. */
  box: FaceBox;
  /** Detector confidence (0–1), or null when detection was skipped. */
  score: number | null;
  prediction: AgeGenderPrediction;
  /** The aligned chip the model saw (for explanations); the input itself when detection was skipped. */
  chip: RawImage;
  /** Detection details (eyes, mouth), or null when detection was skipped. */
  detection: DetectedFace | null;
  /** Face quality (detector, landmark fit, sharpness, exposure; `quality.ts`). */
  quality: FaceQuality;
}

export interface AnalyzeResult {
  width: number;
  height: number;
  faces: AnalyzedFace[];
  /** Present when the faces were found only with the photo turned (clockwise degrees; `turns`). */
  turned?: QuarterTurn;
  /**
   * Present when the detector found more faces than it keeps (its `maxFaces`): how many it found.
   * `faces` then holds the highest-scoring `maxFaces`.
   */
  facesFound?: number;
}

/** Runs the pipeline on one decoded image. Throws INVALID_ARGUMENT when `detect` is asked without a detector. */
export async function analyzeImage(
  model: AgeGenderModel,
  detector: FaceDetector | null,
  image: RawImage,
  options: AnalyzeOptions,
): Promise<AnalyzeResult> {
  const { width, height } = image;
  if (!options.detect) {
    // the quality gate still runs: statistics, and the detector (when there is one) confirms a face
    const { quality } = await gateChip(image, detector, options.subject);
    const [prediction] = await model.predictBatch([image]);
    if (!prediction) throw new AgeGenderError('MODEL_INVALID', 'model returned no prediction');
    return { width, height, faces: [{ box: { x: 0, y: 0, width, height }, score: null, prediction, chip: image, detection: null, quality }] };
  }
  if (!detector) throw new AgeGenderError('INVALID_ARGUMENT', 'face detection was asked for but no detector was given');
  const tooSmall = unusableReason(image, null);
  if (tooSmall) throw noUsableFace(tooSmall, options.subject);
  const { faces: detections, turned = 0, found } = await detectFaces(detector, image, options);
  if (detections.length === 0) throw noUsableFace(`the face detector (${detector.name}) finds no face`, options.subject);
  // an image that already is an aligned chip of the face is predicted as it is (as with detection off)
  const refine = options.refine ?? ANALYZE_DEFAULTS.refine;
  const chips: RawImage[] = [];
  for (const d of detections) chips.push(isAlignedChip(image, d) ? image : refine ? await alignRefined(detector, image, d, options.align ?? ANALYZE_DEFAULTS.align) : alignFace(image, d));
  const predictions = await model.predictBatch(chips);
  const stats = await Promise.all(chips.map((c) => imageStats(c)));
  return {
    width,
    height,
    ...(turned === 0 ? {} : { turned }),
    ...(found > detections.length ? { facesFound: found } : {}),
    faces: detections.map((d, i) => {
      const prediction = predictions[i];
      const chip = chips[i];
      if (!prediction || !chip) throw new AgeGenderError('MODEL_INVALID', `model returned ${predictions.length} predictions for ${chips.length} faces`);
      return { box: d.box, score: d.score, prediction, chip, detection: d, quality: faceQuality(d, stats[i]!) };
    }),
  };
}

/** The photo path's detection step, as {@link analyzeImage} runs it. */
export interface DetectFacesOptions {
  /** Photos larger than this on their longer side are shrunk for detection (see AnalyzeOptions). */
  detectMaxSide?: number;
  /** Search the photo turned when it shows no clear upright face (see AnalyzeOptions). */
  turns?: boolean;
}

/**
 * Finds the faces of a photo as the photo path does: on a copy shrunk to `detectMaxSide`, and turned
 * when no face scores the detector's `uprightScore` upright (`turns`). Boxes and landmarks are in
 * `image`'s pixels; `turned` is present when the faces were found turned; `found` counts the faces
 * before the detector's cut to its `maxFaces` (FaceDetector.detectCounted).
 */
export async function detectFaces(detector: FaceDetector, image: RawImage, options: DetectFacesOptions = {}): Promise<CountedFaces & { turned?: QuarterTurn }> {
  const maxSide = options.detectMaxSide ?? ANALYZE_DEFAULTS.detectMaxSide;
  const upright = await detectScaled(detector, image, maxSide);
  const best = bestScore(upright.faces);
  if ((options.turns ?? ANALYZE_DEFAULTS.turns) && (upright.faces.length === 0 || best < (detector.uprightScore ?? 0))) {
    const found = await detectTurned(detector, image, maxSide, upright.faces);
    if (found) return { ...found.counted, turned: found.turned };
  }
  return upright;
}

/**
 * {@link analyzeImage} for scoring loops that count misses: an input refused as NO_USABLE_FACE gives
 * no faces instead of an error (benchmarks and photo evaluation measure detection recall this way).
 */
export async function analyzeOrNoFaces(model: AgeGenderModel, detector: FaceDetector | null, image: RawImage, options: AnalyzeOptions): Promise<AnalyzeResult> {
  try {
    return await analyzeImage(model, detector, image, options);
  } catch (error) {
    if (error instanceof AgeGenderError && error.code === 'NO_USABLE_FACE') return { width: image.width, height: image.height, faces: [] };
    throw error;
  }
}

/**
 * The refinement pass's second detection on a `side`-px first chip: the first face with landmarks
 * whose box centre lies within a quarter of the side from the chip's centre; undefined when none does.
 */
export function centredFace(faces: readonly DetectedFace[], side: number): DetectedFace | undefined {
  const centre = side / 2;
  return faces.find((f) => f.landmarks && Math.hypot(f.box.x + f.box.width / 2 - centre, f.box.y + f.box.height / 2 - centre) < side / 4);
}

/**
 * Aligns, detects again on the chip, and aligns once more from the second landmarks carried back
 * into the image (the least-squares fit commutes with similarities, so this composes both fits).
 * Keeps the first chip when the second detection finds no face with five landmarks near its centre.
 */
async function alignRefined(detector: FaceDetector, image: RawImage, face: DetectedFace, method: AlignMethod): Promise<RawImage> {
  const first = alignFace(image, face);
  if (!face.landmarks) return first;
  const again = centredFace(await detector.detect(first), first.width);
  if (!again?.landmarks) return first;
  // the second detection ran on a near-upright chip, as on the training chips the templates were fitted on
  const inFirst = await refinedChipToFirst(detector, first, again, method);
  if (inFirst) return alignFace(image, face, { transform: composeSimilarity(chipToImageSimilarity(face, first.width), inFirst) });
  const map = chipToImageTransform(face, first.width);
  const landmarks = again.landmarks.map((p) => map(p.x, p.y));
  return alignFace(image, { leftEye: landmarks[0]!, rightEye: landmarks[1]!, landmarks });
}

/** A copy of `image` shrunk to `maxSide` on its longer side (sharp; the input when it is no larger). */
async function shrink(image: RawImage, maxSide: number): Promise<RawImage> {
  const longest = Math.max(image.width, image.height);
  if (longest <= maxSide) return image;
  const k = maxSide / longest;
  const width = Math.max(1, Math.round(image.width * k));
  const height = Math.max(1, Math.round(image.height * k));
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  // sharp widens one grey channel to three: take its channel count, not the input's
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels: info.channels as RawImage['channels'] };
}

/** Detects on a shrunk copy when the image is large, then maps boxes and landmarks back. */
async function detectScaled(detector: FaceDetector, image: RawImage, maxSide: number): Promise<CountedFaces> {
  const small = await shrink(image, maxSide);
  if (small === image) return detectCounted(detector, image);
  const sx = image.width / small.width;
  const sy = image.height / small.height;
  const up = (p: { x: number; y: number }): { x: number; y: number } => ({ x: p.x * sx, y: p.y * sy });
  const { faces, found } = await detectCounted(detector, small);
  const scaled = faces.map((d) => ({
    box: { x: d.box.x * sx, y: d.box.y * sy, width: d.box.width * sx, height: d.box.height * sy },
    score: d.score,
    leftEye: up(d.leftEye),
    rightEye: up(d.rightEye),
    mouth: up(d.mouth),
    ...(d.landmarks ? { landmarks: d.landmarks.map(up) } : {}),
  }));
  return { faces: scaled, found };
}

const bestScore = (faces: readonly DetectedFace[]): number => faces.reduce((m, f) => Math.max(m, f.score), 0);

/**
 * How upright a face's five-point chip looks: the best score of a face the detector finds near the
 * chip's centre (0 when none). A face cut from the right orientation comes out upright and scores
 * high; one cut from a wrong orientation (landmarks read as if the face were upright) does not.
 */
async function chipScore(detector: FaceDetector, image: RawImage, face: DetectedFace): Promise<number> {
  const chip = alignFace(image, face);
  const c = chip.width / 2;
  return bestScore((await detector.detect(chip)).filter((f) => Math.hypot(f.box.x + f.box.width / 2 - c, f.box.y + f.box.height / 2 - c) < chip.width / 4));
}

/**
 * The turn (TURN_ORDER) to find the faces at, with its faces (full detection on the turned photo) in
 * the photo's coordinates; null to keep the upright photo. On a copy of at most TURN_PROBE_SIDE px,
 * each orientation's best face (the upright one: any; a turned one: scoring at least the detector's
 * `turnedScore`) is cut into a chip with the five-point fit and looked at again ({@link chipScore});
 * the orientation whose chip scores highest wins, the upright one on a tie. Comparing the chips,
 * not the faces' own scores, keeps a face tilted by about 45° from being taken upside down.
 */
async function detectTurned(detector: FaceDetector, image: RawImage, maxSide: number, upright: readonly DetectedFace[]): Promise<{ counted: CountedFaces; turned: QuarterTurn } | null> {
  const probeSide = Math.min(TURN_PROBE_SIDE, maxSide);
  const small = Math.max(image.width, image.height) <= probeSide;
  const probe = small ? image : await shrink(image, probeSide);
  const first = (faces: readonly DetectedFace[]): DetectedFace | undefined => faces.reduce<DetectedFace | undefined>((b, f) => (!b || f.score > b.score ? f : b), undefined);
  const uprightFace = first(small ? upright : await detector.detect(probe));
  let top = uprightFace?.landmarks ? await chipScore(detector, probe, uprightFace) : 0;
  const bar = detector.turnedScore ?? 0;
  let pick: { found: CountedFaces; turn: QuarterTurn } | null = null;
  for (const turn of TURN_ORDER) {
    const turned = await turnImage(probe, turn);
    const found = await detectCounted(detector, turned);
    const face = first(found.faces);
    if (!face?.landmarks || face.score < bar) continue;
    const score = await chipScore(detector, turned, face);
    if (score > top) [top, pick] = [score, { found, turn }];
  }
  if (!pick) return null;
  const found = small ? pick.found : await detectScaled(detector, await turnImage(image, pick.turn), maxSide);
  return found.faces.length > 0 ? { counted: { faces: found.faces.map((f) => unturnFace(f, pick.turn, image)), found: found.found }, turned: pick.turn } : null;
}

/** A face as the CLI and the HTTP API report it: box in pixels, rounded figures. */
export interface FaceReport {
  box: { x: number; y: number; width: number; height: number };
  score: number | null;
  age: number;
  ageInterval: [number, number];
  /** The more likely label, or 'uncertain' below the gender threshold. */
  gender: GenderAnswer;
  genderProbability: number;
  femaleProbability: number;
  /** Face quality 0–1 and its parts (rounded to 1e-3; `quality.ts`). */
  quality: { score: number; detector: number | null; landmarkFit: number | null; sharpness: number; exposure: number };
}

/** Rounds to a number of decimal digits (for reports, not for computation). */
export function roundTo(n: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(n * k) / k;
}

/**
 * Rounds an analysed face for output (box to 0.1 px, age to 0.01 year, probabilities to 1e-4).
 * `genderThreshold` (a per-request override) re-decides the gender from P(female); without it the
 * prediction's own answer (the model's threshold) stands.
 */
export function faceReport(face: AnalyzedFace, genderThreshold?: number): FaceReport {
  const p = genderThreshold === undefined ? face.prediction : { ...face.prediction, ...genderAnswer(face.prediction.femaleProbability, genderThreshold) };
  return {
    box: { x: roundTo(face.box.x, 1), y: roundTo(face.box.y, 1), width: roundTo(face.box.width, 1), height: roundTo(face.box.height, 1) },
    score: face.score === null ? null : roundTo(face.score, 4),
    age: roundTo(p.age, 2),
    ageInterval: [roundTo(p.ageInterval[0], 2), roundTo(p.ageInterval[1], 2)],
    gender: p.gender,
    genderProbability: roundTo(p.genderProbability, 4),
    femaleProbability: roundTo(p.femaleProbability, 4),
    quality: roundQuality(face.quality),
  };
}

/** A photo's result as the CLI reports it: its size, its faces rounded ({@link faceReport}), and `turned` when the faces were found turned. */
export interface PhotoReport {
  width: number;
  height: number;
  faces: FaceReport[];
  /** Clockwise degrees the photo was turned to find its faces (photos stored sideways; see AnalyzeOptions.turns). */
  turned?: QuarterTurn;
  /** How many faces the detector found, when that is more than `faces` (its `maxFaces` cut the rest; AnalyzeResult.facesFound). */
  facesFound?: number;
}

/**
 * Longest side a photo is analysed at by `predict` and `evaluate --photos`: larger photos (a phone's
 * 48–200 MP) are shrunk while decoding, and `predict` reports their boxes in the file's own pixels.
 * At 4096 px a face filling 5% of the photo's side still gives a full 200-px chip; detection itself
 * looks at 1600 px at most. (The server analyses at most 2048 px: `WORK_MAX_SIDE`.)
 */
export const PHOTO_MAX_SIDE = 4096;

/** `box` with x and width multiplied by `sx`, y and height by `sy` (from a resized image's pixels to the original's). */
export function scaleBox(box: FaceBox, sx: number, sy: number): FaceBox {
  return { x: box.x * sx, y: box.y * sy, width: box.width * sx, height: box.height * sy };
}

/** A report made on a shrunk copy of a `width` × `height` image, with its size and boxes in the original's pixels. */
export function reportInPixelsOf(report: PhotoReport, width: number, height: number): PhotoReport {
  if (report.width === width && report.height === height) return report;
  const sx = width / report.width;
  const sy = height / report.height;
  const faces = report.faces.map((f) => {
    const b = scaleBox(f.box, sx, sy);
    return { ...f, box: { x: roundTo(b.x, 1), y: roundTo(b.y, 1), width: roundTo(b.width, 1), height: roundTo(b.height, 1) } };
  });
  return { ...report, width, height, faces };
}

/** {@link AnalyzeResult} → {@link PhotoReport}. */
export function photoReport(res: AnalyzeResult): PhotoReport {
  return {
    width: res.width,
    height: res.height,
    faces: res.faces.map((f) => faceReport(f)),
    ...(res.turned === undefined ? {} : { turned: res.turned }),
    ...(res.facesFound === undefined ? {} : { facesFound: res.facesFound }),
  };
}

/** A quality record rounded to 1e-3 for output. */
export function roundQuality(q: FaceQuality): FaceReport['quality'] {
  const r = (v: number | null): number | null => (v === null ? null : roundTo(v, 3));
  return { score: roundTo(q.score, 3), detector: r(q.detector), landmarkFit: r(q.landmarkFit), sharpness: roundTo(q.sharpness, 3), exposure: roundTo(q.exposure, 3) };
}
