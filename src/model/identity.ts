/**
 * What a model's predictions depend on, recorded with every stored evaluation so a later run can
 * tell whether the figures still describe the model in hand: its metadata name and creation time,
 * a SHA-256 of its weights, flip test-time augmentation and the gender threshold.
 *
 * @example
 *   const why = identityMismatch(stored.model, modelIdentity(model)); // null: the same model, same settings
 */
import type { AgeGenderModel } from './api.js';

export interface ModelIdentity {
  name: string;
  createdAt: string;
  encoder: string;
  /** SHA-256 of the weight bytes; null for a model not loaded from a folder (e.g. a test stand-in). Absent in files written before it was recorded. */
  weightsSha256?: string | null;
  /** Flip test-time augmentation; null when the model does not say. Absent in older files. */
  flipTta?: boolean | null;
  /** The gender threshold the predictions were answered at. Absent in older files. */
  genderThreshold?: number;
}

/** The identity of a loaded model, as evaluations record it. */
export function modelIdentity(model: AgeGenderModel): Required<ModelIdentity> {
  const meta = model.metadata;
  return {
    name: String(meta.name),
    createdAt: String(meta.createdAt),
    encoder: String(meta.encoder),
    weightsSha256: model.fingerprint?.weightsSha256 ?? null,
    flipTta: model.fingerprint?.flipTta ?? null,
    genderThreshold: model.genderThreshold,
  };
}

/** Whether `recorded` names the same network as `current` (name, creation time, weights), settings aside. */
export function sameNetwork(recorded: ModelIdentity, current: Required<ModelIdentity>): boolean {
  return recorded.name === current.name && recorded.createdAt === current.createdAt && (recorded.weightsSha256 ?? null) === current.weightsSha256;
}

/**
 * Why a recorded identity does not describe `current`, in words (null when every recorded part
 * matches). A part not recorded (a file written before it was) counts as a mismatch.
 */
export function identityMismatch(recorded: ModelIdentity, current: Required<ModelIdentity>): string | null {
  if (recorded.name !== current.name || recorded.createdAt !== current.createdAt) return `made by model ${recorded.name} (created ${recorded.createdAt}), not ${current.name} (created ${current.createdAt})`;
  if (recorded.weightsSha256 === undefined || recorded.flipTta === undefined || recorded.genderThreshold === undefined) return 'it does not record the weights, flip TTA and gender threshold it was computed with';
  if (recorded.weightsSha256 !== current.weightsSha256) return "made with other weights (the model's weights changed)";
  if (recorded.flipTta !== current.flipTta) return `made with flip TTA ${recorded.flipTta ? 'on' : 'off'}, the model now has it ${current.flipTta ? 'on' : 'off'}`;
  if (recorded.genderThreshold !== current.genderThreshold) return `made at gender threshold ${recorded.genderThreshold}, the model's is ${current.genderThreshold}`;
  return null;
}
