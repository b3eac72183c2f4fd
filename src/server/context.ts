/**
 * What the routes share: the model, detector and explainer passed to `buildServer`, the checked
 * limits and the work queue. Passed explicitly (no globals), so several servers can live in one
 * process (tests).
 */
import type { RawImage } from '../io/types.js';
import type { AgeGenderModel } from '../model/api.js';
import type { FaceDetector } from '../pipeline/detect.js';
import type { ServerLimits } from './limits.js';
import type { AdmissionQueue } from './queue.js';

/** What an explainer gives back; only `overlayPng` is used here. */
export interface ExplanationLike {
  /** PNG bytes: the chip with the influential regions overlaid. */
  overlayPng: Uint8Array;
  [key: string]: unknown;
}

/** An explainer (e.g. LIME from `explain/`), injected so the server does not depend on its details. */
export type ExplainFn = (
  model: AgeGenderModel,
  chip: RawImage,
  options: { target: 'age' | 'gender'; signal?: AbortSignal },
) => Promise<ExplanationLike>;

export interface ServerContext {
  model: AgeGenderModel;
  detector: FaceDetector | null;
  explain: ExplainFn | null;
  limits: ServerLimits;
  queue: AdmissionQueue;
  /** "name (encoder)", shown in answers. */
  modelName: string;
}
