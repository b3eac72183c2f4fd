import type { AgeGenderPrediction } from '../core/types.js';
import type { ImageInput, RawImage } from '../io/types.js';

/**
 * A loaded age + gender model: one network, two heads, one forward pass.
 * Obtain one with `loadModel(dir)`; call `dispose()` when done to free tensors.
 */
export interface AgeGenderModel {
  /** Metadata from the model folder (encoder id, preprocessing, metrics, the command that made it). */
  readonly metadata: ModelMetadata;
  /** What runs the forward pass, e.g. `onnxruntime 1.30.0 (cpu)` or `tfjs wasm`. */
  readonly runtime: string;
  /**
   * Gender threshold (0.5–1): a face whose more likely gender label has a lower probability is
   * answered `'uncertain'`. From `metadata.inference.genderThreshold` (chosen on val), or the
   * `genderThreshold` load option; 0.5 answers every face.
   */
  readonly genderThreshold: number;
  /**
   * What else the predictions depend on: a SHA-256 of the weights and flip test-time augmentation.
   * Set by `loadModel`; absent on models not loaded from a folder.
   */
  readonly fingerprint?: ModelFingerprint;
  /** Predicts one face chip (an aligned, cropped face like UTKFace's 200×200 chips). */
  predict(image: ImageInput): Promise<AgeGenderPrediction>;
  /**
   * Predicts many face chips in batches; order is kept. One input that cannot be read or decoded
   * rejects the call with its `AgeGenderError` (naming it); `predictFiles` goes on past bad files.
   */
  predictBatch(images: readonly ImageInput[]): Promise<AgeGenderPrediction[]>;
  /**
   * Raw scores for already-decoded RGB chips, batched: used by explainers (LIME perturbations).
   * Returns, per image, the expected age and the female probability.
   */
  scoreRaw(images: readonly RawImage[]): Promise<Array<{ age: number; femaleProbability: number }>>;
  dispose(): void;
}

/** See {@link AgeGenderModel.fingerprint}. */
export interface ModelFingerprint {
  /** SHA-256 (hex) of the weight bytes as stored in the folder. */
  weightsSha256: string;
  flipTta: boolean;
}

export interface ModelMetadata {
  formatVersion: number;
  name: string;
  encoder: string;
  inputSize: number;
  createdAt: string;
  command: string;
  datasetManifestHash: string | null;
  metrics: Record<string, unknown>;
  [key: string]: unknown;
}
