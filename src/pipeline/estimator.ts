/**
 * `pipeline()`: the model and the face detector loaded once, then one call per image — the photo
 * path exactly as `agegender predict` runs it (EXIF orientation, large photos shrunk to
 * {@link PHOTO_MAX_SIDE} for analysis with boxes in the file's own pixels, photos stored turned,
 * the quality gate, gender abstention), for a caller who wants answers, not the parts.
 *
 * @example
 *   const estimate = await pipeline();
 *   const { faces } = await estimate('IMG_0001.HEIC'); // [{ box, age, ageInterval, gender, genderProbability, quality, … }]
 *   estimate.dispose();
 */
import { AgeGenderError } from '../core/errors.js';
import { checkGenderThreshold } from '../core/gender.js';
import { describe, integerInRange } from '../core/validate.js';
import type { ImageInput } from '../io/types.js';
import type { AgeGenderModel } from '../model/api.js';
import { loadModel, type InferenceChoice } from '../model/index.js';
import { runtimePreference } from '../model/runtime.js';
import { analyzeImage, photoReport, PHOTO_MAX_SIDE, reportInPixelsOf, type PhotoReport } from './analyze.js';
import { checkDetectorPreference, loadFaceDetector, type DetectorPreference, type FaceDetector } from './detect.js';
import { decodeInput } from './decode-input.js';
import { checkShrunkSize } from './quality.js';

export interface PipelineOptions extends InferenceChoice {
  /** Model folder (default: the shipped model). */
  modelDir?: string;
  /** Find faces in photos (default true); false: every image is one aligned face chip (UTKFace-style). */
  detect?: boolean;
  /** Which face detector (default `auto`: YuNet, else SSD). */
  detector?: DetectorPreference;
  /** At most this many faces per photo, the highest-scoring: an integer 1–1000 (default 32). */
  maxFaces?: number;
}

/** One image's answer: as a `predict` result, without the file and error fields (a failure throws). */
export interface PipelineResult extends PhotoReport {
  /** Said when only the first frame or page of an animated or multi-page file was analysed. */
  note?: string;
}

export interface AgeGenderPipeline {
  /**
   * Every face of `image` (a file path, an http(s) URL, encoded bytes or raw pixels). Throws an
   * AgeGenderError naming the input: UNREADABLE_FILE, INVALID_IMAGE, IMAGE_TOO_LARGE, NO_USABLE_FACE (a
   * photo with no face the detector finds, or an image that is not a usable face), …; INVALID_ARGUMENT
   * once the pipeline is disposed. `subject` is the name the errors give the input (default: the path
   * or URL, `image bytes`, `raw image`).
   */
  (image: ImageInput, options?: { subject?: string }): Promise<PipelineResult>;
  readonly model: AgeGenderModel;
  /** The face detector: it finds the faces, and with `detect: false` the quality gate asks it to confirm a face (as `predict --no-detect` does). */
  readonly detector: FaceDetector;
  /** Frees the model and the detector; calls then (and those still running) reject with INVALID_ARGUMENT. A second call does nothing. */
  dispose(): void;
}

/** The name an input gets in errors. */
function subjectOf(input: ImageInput, given: string | undefined): string {
  if (given !== undefined) return given;
  if (typeof input === 'string') return input;
  return input instanceof Uint8Array ? 'image bytes' : 'raw image';
}

function checkBooleanOption(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected boolean for ${name} but received ${describe(value)}`, { subject: name });
  }
}

/** Checks the options that do not need the model or the detector, so that a mistake costs no loading. */
function checkPipelineOptions(options: unknown): asserts options is PipelineOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected an object for the pipeline options but received ${describe(options)}`, { subject: 'options' });
  }
  const o = options as PipelineOptions;
  if (o.modelDir !== undefined && (typeof o.modelDir !== 'string' || o.modelDir.length === 0)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected a non-empty string for modelDir but received ${describe(o.modelDir)}`, { subject: 'modelDir' });
  }
  runtimePreference(o);
  checkBooleanOption(o.detect, 'detect');
  checkBooleanOption(o.flipTta, 'flipTta');
  if (o.detector !== undefined) checkDetectorPreference(o.detector);
  if (o.maxFaces !== undefined) integerInRange(o.maxFaces, 'maxFaces', 1, 1000);
  if (o.genderThreshold !== undefined) checkGenderThreshold(o.genderThreshold);
}

/**
 * Loads the model and the face detector and returns the one-call estimator. An option of the wrong
 * type or out of range is an INVALID_ARGUMENT naming it, thrown before anything is loaded.
 */
export async function pipeline(options: PipelineOptions = {}): Promise<AgeGenderPipeline> {
  checkPipelineOptions(options);
  const detect = options.detect ?? true;
  const model = await loadModel(options.modelDir, {
    ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
    ...(options.flipTta === undefined ? {} : { flipTta: options.flipTta }),
    ...(options.genderThreshold === undefined ? {} : { genderThreshold: options.genderThreshold }),
  });
  let detector: FaceDetector;
  try {
    detector = await loadFaceDetector({ ...(options.detector === undefined ? {} : { detector: options.detector }), ...(options.maxFaces === undefined ? {} : { maxFaces: options.maxFaces }) });
  } catch (error) {
    model.dispose();
    throw error;
  }
  let disposed = false;
  const estimate = async (input: ImageInput, call: { subject?: string } = {}): Promise<PipelineResult> => {
    const subject = subjectOf(input, call.subject);
    const wasDisposed = (cause?: unknown) => new AgeGenderError('INVALID_ARGUMENT', 'this pipeline was disposed', { subject, ...(cause === undefined ? {} : { cause }) });
    if (disposed) throw wasDisposed();
    try {
      const d = await decodeInput(input, subject, detect ? { maxSide: PHOTO_MAX_SIDE } : {});
      if (detect) checkShrunkSize(d.image, d, subject);
      const res = await analyzeImage(model, detector, d.image, { detect, subject });
      return { ...reportInPixelsOf(photoReport(res), d.width, d.height), ...(d.note === undefined ? {} : { note: d.note }) };
    } catch (error) {
      throw disposed ? wasDisposed(error) : error; // disposed while this call ran: the same error as after
    }
  };
  return Object.assign(estimate, {
    model,
    detector,
    dispose(): void {
      if (disposed) return;
      disposed = true;
      detector.dispose();
      model.dispose();
    },
  });
}
