/**
 * YuNet face detector (libfacedetection.train, Apache-2.0; the ONNX file ships in
 * `models/detector/`, with its licence and source) on onnxruntime-node: boxes, scores and five
 * landmarks (eyes, nose tip, mouth corners) in the input image's pixels.
 *
 * Input handling: the image is padded by a margin (so tight face crops such as UTKFace chips still
 * show a whole face with context), scaled so its longer side lies in [`minInputSide`, `maxInputSide`]
 * (small images are upscaled, large ones shrunk), padded to a multiple of 32 (YuNet's strides) and fed
 * as BGR 0–255. Grey images have their channel replicated. Decoding and NMS follow OpenCV's
 * `FaceDetectorYNImpl::postProcess`. An image that this shrinks (a photo larger than about 430 px) is
 * searched once more at up to `largeInputSide` px without the margin, for the small faces of group
 * photos; the faces only that pass finds are added to the first pass's.
 *
 * @example
 *   const detector = await loadYunetDetector();
 *   const faces = await detector.detect(rawImage); // [{ box, score, leftEye, rightEye, mouth, landmarks }]
 *   detector.dispose();
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { AgeGenderError } from '../core/errors.js';
import { integerInRange, numberInRange } from '../core/validate.js';
import type { RawImage } from '../io/types.js';
import { packageRoot } from '../model/folder.js';
import { loadOrt, ortStartProblem } from '../model/runtime.js';
import { DEFAULT_MAX_FACES } from './detector-names.js';
import { boxCentre, boxHolds, type CountedFaces, type DetectedFace, type FaceBox, type FaceDetector, type Point } from './detect.js';
import { lazyLandmarks68, type Landmarks68 } from './landmarks68.js';

/** Options for {@link loadYunetDetector}; defaults in {@link YUNET_DEFAULTS}. */
export interface YunetOptions {
  /** Minimum face score (√(cls·obj), 0–1) to keep a face. */
  minConfidence?: number;
  /** At most this many faces per image. */
  maxFaces?: number;
  /** Overlapping boxes above this intersection-over-union are merged into the best one. */
  nmsIou?: number;
  /**
   * Longer side, in pixels, of the (padded) image the network sees: images are shrunk to at most
   * `maxInputSide` and enlarged to at least `minInputSide` (small images: faces big enough to find).
   */
  minInputSide?: number;
  maxInputSide?: number;
  /** Margin added on every side before detecting, as a fraction of the image's longer side. */
  margin?: number;
  /**
   * When the first pass shrinks the image (its padded longer side is over `maxInputSide`), a second
   * pass sees it without the margin at up to this longer side, and adds the faces the first missed
   * (small faces in large photos). 0: one pass only. At least `maxInputSide` when given; the default
   * (1600) applies only where it is larger than `maxInputSide`.
   */
  largeInputSide?: number;
  /**
   * A photo whose best face scores at least this is taken as upright (FaceDetector.uprightScore).
   * Default 0.92: on 1,000 AAF photos, 300 grey copies and 300 synthetic photos the upright photo's
   * best face outscores every turned copy's, and 3%, 13% and 29% of upright photos score under it
   * (experiments/upright-score.ts).
   */
  uprightScore?: number;
  /**
   * A turned copy's faces count only when its best face scores at least this (FaceDetector.turnedScore).
   * Default 0.8: the upright face of 1,598 of the 1,600 photos of experiments/upright-score.ts scores
   * at least that (of the other two synthetic photos, one shows no face).
   */
  turnedScore?: number;
  /** onnxruntime intra-op threads (default 1: detection runs per photo, parallelism comes from workers). */
  threads?: number;
  /** The ONNX file (default: the one shipped in `models/detector/`). */
  modelFile?: string;
}

export const YUNET_FILE = 'yunet_s_dynamic.onnx';

export const YUNET_DEFAULTS = Object.freeze({ minConfidence: 0.6, maxFaces: DEFAULT_MAX_FACES, nmsIou: 0.3, minInputSide: 320, maxInputSide: 640, margin: 0.25, largeInputSide: 1600, uprightScore: 0.92, turnedScore: 0.8 });

/** Path of the YuNet ONNX file shipped with the package. */
export function yunetModelFile(): string {
  return join(packageRoot(), 'models', 'detector', YUNET_FILE);
}

const STRIDES = [8, 16, 32] as const;

/** A raw detection: box, score and the five landmarks in network-input pixels. */
export interface YunetCandidate {
  box: FaceBox;
  score: number;
  /** Image-left eye, image-right eye, nose tip, image-left mouth corner, image-right mouth corner. */
  landmarks: Point[];
}

/** One stride's outputs, flat (cls, obj: N; bbox: 4N; kps: 10N). */
export interface YunetLevel {
  stride: number;
  cls: ArrayLike<number>;
  obj: ArrayLike<number>;
  bbox: ArrayLike<number>;
  kps: ArrayLike<number>;
}

const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));

/** Decodes one stride level for a `width`×`height` network input (OpenCV's postProcess). */
export function decodeYunetLevel(level: YunetLevel, width: number, height: number, minScore: number): YunetCandidate[] {
  const { stride, cls, obj, bbox, kps } = level;
  const cols = Math.floor(width / stride);
  const rows = Math.floor(height / stride);
  const out: YunetCandidate[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const score = Math.sqrt(clamp01(cls[i] ?? 0) * clamp01(obj[i] ?? 0));
      if (score < minScore) continue;
      const cx = (c + (bbox[i * 4] ?? 0)) * stride;
      const cy = (r + (bbox[i * 4 + 1] ?? 0)) * stride;
      const w = Math.exp(bbox[i * 4 + 2] ?? 0) * stride;
      const h = Math.exp(bbox[i * 4 + 3] ?? 0) * stride;
      const landmarks: Point[] = [];
      for (let n = 0; n < 5; n++) landmarks.push({ x: ((kps[i * 10 + 2 * n] ?? 0) + c) * stride, y: ((kps[i * 10 + 2 * n + 1] ?? 0) + r) * stride });
      out.push({ box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, score, landmarks });
    }
  }
  return out;
}

function iou(a: FaceBox, b: FaceBox): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression: best score first, dropping boxes overlapping a kept one above `threshold`. */
export function nonMaxSuppression<T extends { box: FaceBox; score: number }>(items: readonly T[], threshold: number, maxKeep: number): T[] {
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const item of sorted) {
    if (kept.length >= maxKeep) break;
    if (kept.every((k) => iou(k.box, item.box) <= threshold)) kept.push(item);
  }
  return kept;
}

/**
 * `first`, then the faces of `second` that overlap none of them (intersection over union at most
 * `threshold`, and neither box holding the other's centre), best score first; at most `maxKeep` in all.
 */
export function addMissedFaces<T extends { box: FaceBox; score: number }>(first: readonly T[], second: readonly T[], threshold: number, maxKeep: number): T[] {
  const centreIn = (a: FaceBox, b: FaceBox): boolean => boxHolds(a, boxCentre(b));
  const overlaps = (a: FaceBox, b: FaceBox): boolean => iou(a, b) > threshold || centreIn(a, b) || centreIn(b, a);
  const out = first.slice(0, maxKeep);
  for (const face of [...second].sort((a, b) => b.score - a.score)) {
    if (out.length >= maxKeep) break;
    if (out.every((k) => !overlaps(k.box, face.box))) out.push(face);
  }
  return out;
}

/** Network input for an image: placement of the image inside it and the BGR planar tensor data. */
export interface YunetInput {
  data: Float32Array;
  width: number;
  height: number;
  /** Network pixels per image pixel. */
  scale: number;
  /** Where the image's top-left corner lies in the network input. */
  offsetX: number;
  offsetY: number;
}

/** Pads by `margin`, scales the padded longer side into [minSide, maxSide], pads to /32 (black) and lays out BGR planes. */
export async function yunetInput(image: RawImage, minSide: number, maxSide: number, margin: number): Promise<YunetInput> {
  const { width, height } = image;
  const longer = Math.max(width, height);
  const padded = longer * (1 + 2 * margin);
  const scale = Math.min(maxSide, Math.max(minSide, padded)) / padded;
  const rw = Math.max(1, Math.round(width * scale));
  const rh = Math.max(1, Math.round(height * scale));
  const m = Math.round(longer * margin * scale);
  const W = Math.ceil((rw + 2 * m) / 32) * 32;
  const H = Math.ceil((rh + 2 * m) / 32) * 32;
  // sharp may hand back more channels than it was given (grey comes back as RGB): read what it says
  const { data: resized, info } = await sharp(image.data, { raw: { width, height, channels: image.channels } }).resize(rw, rh, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const channels = info.channels;
  const data = new Float32Array(3 * W * H);
  const plane = W * H;
  for (let y = 0; y < rh; y++) {
    for (let x = 0; x < rw; x++) {
      const s = (y * rw + x) * channels;
      const d = (y + m) * W + x + m;
      const r = resized[s] ?? 0;
      const g = channels >= 3 ? (resized[s + 1] ?? 0) : r;
      const b = channels >= 3 ? (resized[s + 2] ?? 0) : r;
      data[d] = b;
      data[plane + d] = g;
      data[2 * plane + d] = r;
    }
  }
  return { data, width: W, height: H, scale: rw / width, offsetX: m, offsetY: m };
}

/** Maps a candidate from network pixels to image pixels as a {@link DetectedFace}. */
function toImageFace(c: YunetCandidate, input: YunetInput): DetectedFace {
  const back = (p: Point): Point => ({ x: (p.x - input.offsetX) / input.scale, y: (p.y - input.offsetY) / input.scale });
  const landmarks = c.landmarks.map(back);
  const [le, re, , ml, mr] = landmarks as [Point, Point, Point, Point, Point];
  return {
    box: { x: (c.box.x - input.offsetX) / input.scale, y: (c.box.y - input.offsetY) / input.scale, width: c.box.width / input.scale, height: c.box.height / input.scale },
    score: c.score,
    leftEye: le,
    rightEye: re,
    mouth: { x: (ml.x + mr.x) / 2, y: (ml.y + mr.y) / 2 },
    landmarks,
  };
}

/**
 * Loads YuNet into an onnxruntime session. Errors: MODEL_NOT_LOADED when onnxruntime-node is not
 * installed or cannot start here (callers fall back to the TF.js detector), MODEL_INVALID when the
 * file cannot be read or is not a YuNet graph.
 */
export async function loadYunetDetector(options: YunetOptions = {}): Promise<FaceDetector> {
  const minConfidence = numberInRange(options.minConfidence ?? YUNET_DEFAULTS.minConfidence, 'minConfidence', 0, 1);
  const maxFaces = integerInRange(options.maxFaces ?? YUNET_DEFAULTS.maxFaces, 'maxFaces', 1, 1000);
  const uprightScore = numberInRange(options.uprightScore ?? YUNET_DEFAULTS.uprightScore, 'uprightScore', 0, 1);
  const turnedScore = numberInRange(options.turnedScore ?? YUNET_DEFAULTS.turnedScore, 'turnedScore', 0, 1);
  const nmsIou = numberInRange(options.nmsIou ?? YUNET_DEFAULTS.nmsIou, 'nmsIou', 0, 1);
  const minSide = integerInRange(options.minInputSide ?? YUNET_DEFAULTS.minInputSide, 'minInputSide', 32, 4096);
  const maxSide = integerInRange(options.maxInputSide ?? YUNET_DEFAULTS.maxInputSide, 'maxInputSide', minSide, 4096);
  const margin = numberInRange(options.margin ?? YUNET_DEFAULTS.margin, 'margin', 0, 2);
  // the default second pass only where it sees more than the first (a caller's maxInputSide may reach it)
  const largeSide =
    options.largeInputSide === undefined ? (YUNET_DEFAULTS.largeInputSide > maxSide ? YUNET_DEFAULTS.largeInputSide : 0)
    : options.largeInputSide === 0 ? 0
    : integerInRange(options.largeInputSide, 'largeInputSide', maxSide, 8192);
  const file = options.modelFile ?? yunetModelFile();
  const problem = ortStartProblem();
  if (problem) throw new AgeGenderError('MODEL_NOT_LOADED', `YuNet needs onnxruntime, which cannot start here: ${problem}`, { subject: 'onnxruntime-node' });
  const loaded = await loadOrt();
  if ('error' in loaded) throw new AgeGenderError('MODEL_NOT_LOADED', 'YuNet needs onnxruntime-node, which cannot be loaded', { subject: 'onnxruntime-node', cause: loaded.error });
  const { ort } = loaded;
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(await readFile(file), { intraOpNumThreads: options.threads ?? 1, interOpNumThreads: 1, logSeverityLevel: 3 });
  } catch (cause) {
    throw new AgeGenderError('MODEL_INVALID', `cannot load the YuNet detector from ${file}`, { subject: file, cause });
  }
  const missing = STRIDES.flatMap((s) => [`cls_${s}`, `obj_${s}`, `bbox_${s}`, `kps_${s}`]).filter((n) => !session.outputNames.includes(n));
  if (missing.length > 0) {
    await session.release();
    throw new AgeGenderError('MODEL_INVALID', `${file} is not a YuNet graph: outputs ${missing.join(', ')} are missing`, { subject: file });
  }
  let disposed = false;
  let queue: Promise<unknown> = Promise.resolve();
  // the photo path's refinement net (TF.js), loaded when first asked for and freed with the detector
  const landmarks68 = lazyLandmarks68();

  /** One pass: the image laid out for the network, run, decoded and suppressed, in image pixels. */
  const pass = async (image: RawImage, largest: number, padding: number): Promise<DetectedFace[]> => {
    const input = await yunetInput(image, minSide, largest, padding);
    const tensor = new ort.Tensor('float32', input.data, [1, 3, input.height, input.width]);
    const out = await session.run({ input: tensor });
    const candidates = STRIDES.flatMap((stride) => {
      const get = (name: string): ArrayLike<number> => {
        const t = out[`${name}_${stride}`];
        if (!t) throw new AgeGenderError('MODEL_INVALID', `YuNet returned no ${name}_${stride}`, { subject: file });
        return t.data as Float32Array;
      };
      return decodeYunetLevel({ stride, cls: get('cls'), obj: get('obj'), bbox: get('bbox'), kps: get('kps') }, input.width, input.height, minConfidence);
    });
    // onnxruntime-node reads the input on its own thread without holding it: touch it after the run
    // so a garbage collection mid-run cannot free it (see runtime.ts)
    if (tensor.data !== input.data) throw new AgeGenderError('MODEL_INVALID', 'YuNet input was replaced during the run');
    return nonMaxSuppression(candidates, nmsIou, Infinity).map((c) => toImageFace(c, input));
  };

  // Every face is kept through suppression and the second pass, then the first `maxFaces` are:
  // the same faces as cutting at each step (greedy suppression keeps a prefix), and the count.
  const run = async (image: RawImage): Promise<CountedFaces> => {
    if (disposed) throw new AgeGenderError('MODEL_NOT_LOADED', 'face detector was disposed');
    if (image.width < 1 || image.height < 1) return { faces: [], found: 0 };
    let faces = await pass(image, maxSide, margin);
    const shrunk = Math.max(image.width, image.height) * (1 + 2 * margin) > maxSide;
    if (largeSide > 0 && shrunk) faces = addMissedFaces(faces, await pass(image, largeSide, 0), nmsIou, Infinity);
    return { faces: faces.slice(0, maxFaces), found: faces.length };
  };
  const counted = (image: RawImage): Promise<CountedFaces> => {
    const next = queue.then(() => run(image));
    queue = next.catch(() => undefined);
    return next;
  };

  return {
    name: `yunet ${file.replace(/^.*[\\/]/, '').replace(/\.onnx$/, '')} (onnxruntime)`,
    confirmsChips: true,
    uprightScore,
    turnedScore,
    detectCounted: counted,
    async detect(image: RawImage): Promise<DetectedFace[]> {
      return (await counted(image)).faces;
    },
    landmarks68(): Promise<Landmarks68> {
      if (disposed) return Promise.reject(new AgeGenderError('MODEL_NOT_LOADED', 'face detector was disposed'));
      return landmarks68.get();
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      landmarks68.dispose();
      void session.release().catch(() => undefined);
    },
  };
}
