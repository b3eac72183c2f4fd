/**
 * Public entry of the model: `loadModel(dir?)` → an {@link AgeGenderModel}.
 *
 * @example
 *   const model = await loadModel();               // the shipped models/default
 *   const p = await model.predict('face.jpg');     // { age, ageInterval, gender, genderProbability, femaleProbability }
 *   model.dispose();
 */
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../core/errors.js';
import { checkGenderThreshold, genderAnswer, NO_ABSTENTION } from '../core/gender.js';
import type { AgeGenderPrediction } from '../core/types.js';
import { loadImageInput } from '../io/decode.js';
import type { ImageInput, RawImage } from '../io/types.js';
import { ageInterval, AGE_BINS, expectedAge } from './ageBins.js';
import type { AgeGenderModel, ModelFingerprint, ModelMetadata } from './api.js';
import { initBackend } from './backend.js';
import { preprocessChips } from './encoder.js';
import { defaultModelDir, MODEL_FILES } from './folder.js';
import { readModelFolder } from './io.js';
import { AgeGenderNet } from './net.js';
import { createEngine, type InferenceEngine, type RuntimeOptions } from './runtime.js';

export type { AgeGenderModel, ModelFingerprint, ModelMetadata } from './api.js';
export { initBackend } from './backend.js';
export { defaultModelDir, packageRoot } from './folder.js';
export { RUNTIME_PREFERENCES, type RuntimeName, type RuntimeOptions, type RuntimePreference } from './runtime.js';

/** Batch size used by predictBatch / scoreRaw. */
export const PREDICT_BATCH = 16;

/**
 * Turns softmax outputs of one row into the public prediction (gender `'uncertain'` below
 * `genderThreshold`). MODEL_INVALID when the outputs are not numbers (NaN or infinite: corrupt
 * weights), rather than an age of NaN.
 */
export function decodePrediction(ageProbs: ArrayLike<number>, femaleProbability: number, genderThreshold: number = NO_ABSTENTION): AgeGenderPrediction {
  const age = expectedAge(ageProbs);
  if (!Number.isFinite(age) || !Number.isFinite(femaleProbability)) {
    throw new AgeGenderError('MODEL_INVALID', `the model's outputs are not numbers (age ${age}, female probability ${femaleProbability}): its weights are corrupt`);
  }
  const [lo, hi] = ageInterval(ageProbs);
  return { age, ageInterval: [lo, hi], ...genderAnswer(femaleProbability, genderThreshold), femaleProbability };
}

/** Options of {@link loadModel}: the runtime, and inference settings that override the folder's. */
export interface LoadModelOptions extends RuntimeOptions {
  /**
   * Flip test-time augmentation: each chip and its mirror image go through the network in the same
   * batch and their softmax outputs are averaged. Default: the model folder's `metadata.inference.flipTta`
   * (chosen on val by `agegender train` / `agegender tune`), else off.
   */
  flipTta?: boolean;
  /**
   * Gender threshold, 0.5–1 (src/core/gender.ts): below it the gender is `'uncertain'`. Default: the
   * folder's `metadata.inference.genderThreshold` (chosen on val by `agegender tune`), else 0.5 (always answer).
   */
  genderThreshold?: number;
}

/** The part of {@link LoadModelOptions} a caller chooses per command or pool: the runtime, flip TTA and gender threshold. */
export type InferenceChoice = Pick<LoadModelOptions, 'runtime' | 'flipTta' | 'genderThreshold'>;

/** Inference settings recorded in a model folder's metadata (`inference`). */
export interface InferenceSettings {
  flipTta: boolean;
  /** Gender abstention threshold (absent in folders tuned before it existed: 0.5, always answer). */
  genderThreshold?: number;
  [key: string]: unknown;
}

/** The folder's recorded inference settings (defaults when absent or malformed). */
export function inferenceSettings(metadata: ModelMetadata): InferenceSettings {
  const raw = metadata['inference'] as Partial<InferenceSettings> | undefined;
  const t = raw?.genderThreshold;
  const genderThreshold = typeof t === 'number' && t >= 0.5 && t <= 1 ? t : NO_ABSTENTION;
  return { ...(raw ?? {}), flipTta: raw?.flipTta === true, genderThreshold };
}

/** The threshold a load uses: the option (checked) or the folder's. */
function chosenThreshold(options: LoadModelOptions, metadata: ModelMetadata): number {
  if (options.genderThreshold !== undefined) return checkGenderThreshold(options.genderThreshold, 'genderThreshold');
  return inferenceSettings(metadata).genderThreshold ?? NO_ABSTENTION;
}

class LoadedModel implements AgeGenderModel {
  readonly metadata: ModelMetadata;
  readonly runtime: string;
  readonly genderThreshold: number;
  readonly fingerprint: ModelFingerprint | undefined;
  private engine: InferenceEngine | null;

  constructor(engine: InferenceEngine, metadata: ModelMetadata, flipTta: boolean, genderThreshold: number, weightsSha256?: string) {
    this.engine = engine;
    this.fingerprint = weightsSha256 === undefined ? undefined : { weightsSha256, flipTta };
    this.metadata = metadata;
    this.genderThreshold = genderThreshold;
    this.runtime = `${engine.description}${flipTta ? ', flip test-time augmentation' : ''}`;
  }

  private live(): InferenceEngine {
    if (!this.engine) throw new AgeGenderError('MODEL_NOT_LOADED', 'the model was disposed; load it again before inference');
    return this.engine;
  }

  /** One forward pass per batch of RGB images; returns age probabilities and female probability. */
  private async run(images: readonly RawImage[]): Promise<Array<{ probs: Float32Array; female: number }>> {
    const engine = this.live();
    const out: Array<{ probs: Float32Array; female: number }> = [];
    for (let start = 0; start < images.length; start += PREDICT_BATCH) {
      const chunk = images.slice(start, start + PREDICT_BATCH);
      // Chips may differ in size: preprocess one by one (same ops as training), then batch.
      const x = tf.tidy(() => tf.concat(chunk.map((img) => preprocessChips(tf.tensor4d(img.data, [1, img.height, img.width, 3], 'int32'))), 0));
      let r;
      try {
        r = await engine.run(x); // with flip TTA the engine adds the mirrors and averages
      } finally {
        x.dispose();
      }
      for (let i = 0; i < chunk.length; i++) out.push({ probs: r.ageProbs.slice(i * AGE_BINS, (i + 1) * AGE_BINS), female: r.femaleProbs[i]! });
    }
    return out;
  }

  async predict(image: ImageInput): Promise<AgeGenderPrediction> {
    const [p] = await this.predictBatch([image]);
    return p!;
  }

  async predictBatch(images: readonly ImageInput[]): Promise<AgeGenderPrediction[]> {
    this.live();
    const raws: RawImage[] = [];
    for (const img of images) raws.push(await loadImageInput(img));
    return (await this.run(raws)).map((r) => decodePrediction(r.probs, r.female, this.genderThreshold));
  }

  async scoreRaw(images: readonly RawImage[]): Promise<Array<{ age: number; femaleProbability: number }>> {
    this.live();
    const raws: RawImage[] = [];
    for (const img of images) raws.push(await loadImageInput(img));
    return (await this.run(raws)).map((r) => ({ age: expectedAge(r.probs), femaleProbability: r.female }));
  }

  dispose(): void {
    void this.engine?.dispose();
    this.engine = null;
  }
}

/**
 * Wraps an in-memory net (used by training to evaluate the exact weights it will save).
 * The model takes ownership of `net` (with onnxruntime it is exported and disposed at once).
 */
export async function wrapNet(net: AgeGenderNet, metadata: ModelMetadata, options: LoadModelOptions = {}): Promise<AgeGenderModel> {
  const flipTta = options.flipTta ?? inferenceSettings(metadata).flipTta;
  const genderThreshold = chosenThreshold(options, metadata);
  return new LoadedModel(await createEngine(net, { ...options, flipTta }), metadata, flipTta, genderThreshold);
}

/**
 * Loads a model folder (default: the shipped `models/default`). Initialises the tfjs backend
 * (tfjs-node-gpu → tfjs-node → wasm; it does the preprocessing) on first use, and runs the network
 * on onnxruntime (native CPU) when it can, else on that tfjs backend: `model.runtime` says which.
 * `options.runtime` ('auto' | 'onnxruntime' | 'tfjs'; default: env `AGEGENDER_RUNTIME`, else 'auto') forces one;
 * `options.flipTta` overrides the folder's recorded test-time augmentation.
 * Errors: MODEL_INVALID (a file missing or malformed, naming it), MODEL_INCOMPATIBLE (format version),
 * MODEL_NOT_LOADED (onnxruntime forced but not installed).
 */
export async function loadModel(dir?: string, options: LoadModelOptions = {}): Promise<AgeGenderModel> {
  await initBackend();
  const folder = resolve(dir ?? defaultModelDir());
  const { weights, metadata, cutPoint, weightsSha256 } = await readModelFolder(folder);
  let net: AgeGenderNet;
  try {
    net = new AgeGenderNet(weights, { cutPoint });
  } catch (cause) {
    throw new AgeGenderError('MODEL_INVALID', `weights do not match the network: ${(cause as Error).message}`, { subject: join(folder, MODEL_FILES.weights), cause });
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
  const flipTta = options.flipTta ?? inferenceSettings(metadata).flipTta;
  const genderThreshold = chosenThreshold(options, metadata);
  return new LoadedModel(await createEngine(net, { ...options, flipTta }), metadata, flipTta, genderThreshold, weightsSha256);
}
