/**
 * Face detection for ordinary photos. Two detectors:
 * - `yunet` (default): YuNet on onnxruntime-node (`yunet.ts`), five landmarks per face;
 * - `ssd`: SSD MobileNet v1 (boxes) + the 68-point landmark net, both from `@vladmandic/face-api`,
 *   on the tfjs backend chosen by `initBackend()` (wasm on a stock install). Weights are read from
 *   the files shipped in `node_modules/@vladmandic/face-api/model`, never fetched from a URL.
 * `auto` takes YuNet and falls back to SSD when onnxruntime-node is not installed or cannot start.
 * Each detector owns its own nets: no global singletons.
 *
 * @example
 *   const detector = await loadFaceDetector();
 *   const faces = await detector.detect(rawRgbImage); // [{ box, score, leftEye, rightEye, landmarks }]
 *   detector.dispose();
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../core/errors.js';
import { numberInRange, integerInRange } from '../core/validate.js';
import type { RawImage } from '../io/types.js';
import { initBackend } from '../model/backend.js';
import { DEFAULT_MAX_FACES, DETECTOR_PREFERENCES, type DetectorPreference } from './detector-names.js';
import type { Landmarks68 } from './landmarks68.js';

/** A rectangle in image pixels (origin top-left). */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** The centre of a box. */
export function boxCentre(box: FaceBox): Point {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** True when `p` lies in `box` (edges included). */
export function boxHolds(box: FaceBox, p: Point): boolean {
  return p.x >= box.x && p.x <= box.x + box.width && p.y >= box.y && p.y <= box.y + box.height;
}

/** One face found in an image. `leftEye` is the eye on the image's left (the subject's right eye). */
export interface DetectedFace {
  box: FaceBox;
  /** Detector confidence, 0–1. */
  score: number;
  leftEye: Point;
  rightEye: Point;
  /** Centre of the mouth, used to sanity-check alignment. */
  mouth: Point;
  /**
   * Five landmarks, when the detector gives them: image-left eye, image-right eye, nose tip,
   * image-left mouth corner, image-right mouth corner. Alignment fits all five when present.
   */
  landmarks?: Point[];
}

/** Finds faces in decoded RGB images. */
export interface FaceDetector {
  readonly name: string;
  /**
   * True when the detector reliably finds the face in a tight, aligned chip (YuNet: 3,038 of 3,041
   * UTKFace val chips); the quality gate then uses it to confirm a face with detection off.
   * face-api's SSD finds one in only ~58% even padded, so it is not asked.
   */
  readonly confirmsChips?: boolean;
  /**
   * A photo whose best face scores at least this is taken as upright; below it (or with no face) the
   * photo path also looks at the photo turned (analyze.ts `turns`). Unset: only photos without a face
   * are searched turned.
   */
  readonly uprightScore?: number;
  /**
   * A turned copy's faces are taken only when its best face scores at least this (a weak face seen
   * turned, in a photo without an upright face, is more likely a misreading). Unset: any face.
   */
  readonly turnedScore?: number;
  /** Faces sorted by score, highest first, at most the detector's `maxFaces`. Does not keep a reference to `image`. */
  detect(image: RawImage): Promise<DetectedFace[]>;
  /**
   * {@link detect}, saying also how many faces there were before the cut to `maxFaces`; a detector
   * that cuts has it (without it, callers take `found` as `faces.length`).
   */
  detectCounted?(image: RawImage): Promise<CountedFaces>;
  /**
   * The 68-landmark net the photo path's refinement pass fits to dlib's mean face (analyzeImage with
   * `align: 'dlib68'`, the default). The detector owns it: loaded on the first call (SSD: the net it
   * already holds) and freed by {@link dispose}; do not dispose it yourself. A detector without it
   * gets `sharedLandmarks68()`'s net from the photo path (free it with that net's `dispose()`).
   */
  landmarks68?(): Promise<Landmarks68>;
  /** Frees what the detector holds (its sessions and TF.js tensors, the landmark net of {@link landmarks68} included). */
  dispose(): void;
}

/** What {@link FaceDetector.detectCounted} gives: the faces kept, and how many were found (more than kept when some were cut). */
export interface CountedFaces {
  faces: DetectedFace[];
  found: number;
}

/** `detector.detectCounted(image)`, or `detect` with `found` its length for a detector without it. */
export async function detectCounted(detector: FaceDetector, image: RawImage): Promise<CountedFaces> {
  if (detector.detectCounted) return detector.detectCounted(image);
  const faces = await detector.detect(image);
  return { faces, found: faces.length };
}

export { DETECTOR_PREFERENCES, type DetectorName, type DetectorPreference } from './detector-names.js';

/** Options for {@link loadFaceDetector}; defaults in {@link DETECTOR_DEFAULTS}. */
export interface DetectorOptions {
  /** Which detector (default `auto`: YuNet, or SSD when onnxruntime is unavailable). */
  detector?: DetectorPreference;
  /** Minimum detector score to keep a face (0–1); default: the detector's own (SSD 0.5, YuNet 0.6). */
  minConfidence?: number;
  /** At most this many faces per image. */
  maxFaces?: number;
  /** Folder holding face-api's weight files (SSD only); default: the one inside `@vladmandic/face-api`. */
  modelDir?: string;
}

export const DETECTOR_DEFAULTS = Object.freeze({ minConfidence: 0.5, maxFaces: DEFAULT_MAX_FACES });

/** The most boxes SSD is asked for per image (faces past `maxFaces` are only counted). */
const SSD_MAX_RESULTS = 1000;

// The few parts of face-api this module uses, typed locally so its bundled tf types stay out.
export interface FaceApiPoint {
  x: number;
  y: number;
}
export interface FaceApiDetection {
  score: number;
  box: { x: number; y: number; width: number; height: number };
}
export interface FaceApiLandmarks {
  positions: FaceApiPoint[];
}
export interface FaceApiNet {
  loadFromDisk(dir: string): Promise<void>;
  dispose(): void;
}
export interface FaceApiSsd extends FaceApiNet {
  locateFaces(input: tf.Tensor3D, options: unknown): Promise<FaceApiDetection[]>;
}
export interface FaceApiLandmarkNet extends FaceApiNet {
  detectLandmarks(input: tf.Tensor3D): Promise<FaceApiLandmarks | FaceApiLandmarks[]>;
}
export interface FaceApiModule {
  SsdMobilenetv1: new () => FaceApiSsd;
  FaceLandmark68Net: new () => FaceApiLandmarkNet;
  SsdMobilenetv1Options: new (options: { minConfidence?: number; maxResults?: number }) => unknown;
}

const require = createRequire(import.meta.url);

export function faceApi(): FaceApiModule {
  // The node-wasm build shares the project's `@tensorflow/tfjs` (it requires it, it does not bundle it).
  return require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiModule;
}

/** Folder of the weight files shipped inside `@vladmandic/face-api`. */
export function faceApiModelDir(): string {
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

function mean(points: readonly FaceApiPoint[], from: number, to: number): Point {
  let x = 0;
  let y = 0;
  for (let i = from; i < to; i++) {
    const p = points[i];
    if (!p) throw new AgeGenderError('MODEL_INVALID', `landmark ${i} missing`);
    x += p.x;
    y += p.y;
  }
  return { x: x / (to - from), y: y / (to - from) };
}

/** RGB (drops alpha, expands grey) int32 tensor of an image. */
export function toRgbTensor(image: RawImage): tf.Tensor3D {
  const { width, height, channels, data } = image;
  if (channels === 3) return tf.tensor3d(data, [height, width, 3], 'int32');
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 3) {
    const k = i * channels;
    const r = data[k] ?? 0;
    rgb[j] = r;
    rgb[j + 1] = channels === 1 ? r : (data[k + 1] ?? 0);
    rgb[j + 2] = channels === 1 ? r : (data[k + 2] ?? 0);
  }
  return tf.tensor3d(rgb, [height, width, 3], 'int32');
}

/** `value` when it names a detector ({@link DETECTOR_PREFERENCES}), else INVALID_ARGUMENT naming the choices. */
export function checkDetectorPreference(value: unknown): DetectorPreference {
  if (!DETECTOR_PREFERENCES.includes(value as DetectorPreference)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected the detector to be one of ${DETECTOR_PREFERENCES.join(', ')} but received ${JSON.stringify(value)}`, { subject: 'detector' });
  }
  return value as DetectorPreference;
}

/**
 * Loads the face detector asked for (default `auto`). Errors: INVALID_ARGUMENT for an unknown
 * detector name; MODEL_NOT_LOADED when `yunet` is asked for and onnxruntime cannot load.
 */
export async function loadFaceDetector(options: DetectorOptions = {}): Promise<FaceDetector> {
  const want = checkDetectorPreference(options.detector ?? 'auto');
  if (want === 'ssd') return loadSsdDetector(options);
  const { loadYunetDetector } = await import('./yunet.js');
  const yunetOptions = { ...(options.minConfidence === undefined ? {} : { minConfidence: options.minConfidence }), ...(options.maxFaces === undefined ? {} : { maxFaces: options.maxFaces }) };
  if (want === 'yunet') return loadYunetDetector(yunetOptions);
  try {
    return await loadYunetDetector(yunetOptions);
  } catch (error) {
    if (error instanceof AgeGenderError && error.code === 'MODEL_NOT_LOADED') return loadSsdDetector(options);
    throw error;
  }
}

/**
 * Loads SSD MobileNet v1 + the 68-point landmark net from disk and returns a detector.
 * Initialises the tfjs backend first (wasm unless tfjs-node is installed).
 */
export async function loadSsdDetector(options: DetectorOptions = {}): Promise<FaceDetector> {
  const minConfidence = numberInRange(options.minConfidence ?? DETECTOR_DEFAULTS.minConfidence, 'minConfidence', 0, 1);
  const maxFaces = integerInRange(options.maxFaces ?? DETECTOR_DEFAULTS.maxFaces, 'maxFaces', 1, 1000);
  const dir = options.modelDir ?? faceApiModelDir();
  await initBackend();
  const api = faceApi();
  const ssd = new api.SsdMobilenetv1();
  const landmarks = new api.FaceLandmark68Net();
  try {
    await ssd.loadFromDisk(dir);
    await landmarks.loadFromDisk(dir);
  } catch (cause) {
    ssd.dispose();
    landmarks.dispose();
    throw new AgeGenderError('MODEL_INVALID', `cannot load face detector weights from ${dir}`, { cause });
  }
  // every box above the score (SSD's own limit), so that the faces past `maxFaces` can be counted
  const ssdOptions = new api.SsdMobilenetv1Options({ minConfidence, maxResults: SSD_MAX_RESULTS });
  // the refinement pass's 68-landmark net is the one detection uses (disposing it disposes `landmarks`)
  const landmarks68 = (await import('./landmarks68.js')).landmarks68Of(landmarks);
  let disposed = false;

  const detectCounted = async (image: RawImage): Promise<CountedFaces> => {
    if (disposed) throw new AgeGenderError('MODEL_NOT_LOADED', 'face detector was disposed');
    const input = toRgbTensor(image);
    try {
      const found = [...(await ssd.locateFaces(input, ssdOptions))].sort((a, b) => b.score - a.score);
      const faces: DetectedFace[] = [];
      let cut = 0;
      for (const det of found) {
        // Crop the face (clipped to the image) and find its landmarks inside the crop.
        const x0 = Math.max(0, Math.floor(det.box.x));
        const y0 = Math.max(0, Math.floor(det.box.y));
        const x1 = Math.min(image.width, Math.ceil(det.box.x + det.box.width));
        const y1 = Math.min(image.height, Math.ceil(det.box.y + det.box.height));
        if (x1 - x0 < 8 || y1 - y0 < 8) continue;
        if (faces.length >= maxFaces) {
          cut++; // counted, not looked at further (no landmarks for a face that is not kept)
          continue;
        }
        const crop = tf.slice(input, [y0, x0, 0], [y1 - y0, x1 - x0, 3]);
        let result: FaceApiLandmarks | FaceApiLandmarks[];
        try {
          result = await landmarks.detectLandmarks(crop);
        } finally {
          crop.dispose();
        }
        const lm = Array.isArray(result) ? result[0] : result;
        if (!lm || lm.positions.length < 68) continue;
        const shift = (p: Point): Point => ({ x: p.x + x0, y: p.y + y0 });
        faces.push({
          box: { x: det.box.x, y: det.box.y, width: det.box.width, height: det.box.height },
          score: det.score,
          leftEye: shift(mean(lm.positions, 36, 42)),
          rightEye: shift(mean(lm.positions, 42, 48)),
          mouth: shift(mean(lm.positions, 48, 68)),
          landmarks: [mean(lm.positions, 36, 42), mean(lm.positions, 42, 48), mean(lm.positions, 30, 31), mean(lm.positions, 48, 49), mean(lm.positions, 54, 55)].map(shift),
        });
      }
      return { faces, found: faces.length + cut };
    } finally {
      input.dispose();
    }
  };

  return {
    name: 'face-api ssd_mobilenetv1 + face_landmark_68',
    detectCounted,
    async detect(image: RawImage): Promise<DetectedFace[]> {
      return (await detectCounted(image)).faces;
    },
    landmarks68(): Promise<Landmarks68> {
      if (disposed) return Promise.reject(new AgeGenderError('MODEL_NOT_LOADED', 'face detector was disposed'));
      return Promise.resolve(landmarks68);
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      ssd.dispose();
      landmarks68.dispose();
    },
  };
}
