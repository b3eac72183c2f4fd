/** Names of the face detectors (a module without TF.js or onnxruntime, for argument checking). */
export type DetectorName = 'yunet' | 'ssd';
export type DetectorPreference = 'auto' | DetectorName;
export const DETECTOR_PREFERENCES: readonly DetectorPreference[] = Object.freeze(['auto', 'yunet', 'ssd']);
/** Faces kept per photo by default (the highest-scoring), for every detector. */
export const DEFAULT_MAX_FACES = 32;
