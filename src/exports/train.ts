/** `agegender/train`: training: train(), its steps, losses, callbacks and the feature cache. */
export * from '../train/train.js';
export * from '../train/options.js';
export * from '../train/losses.js';
export * from '../train/callbacks.js';
export * from '../train/featureCache.js';
export * from '../train/features.js';
export * from '../train/jitter.js';
export * from '../train/photo-augment.js';
export * from '../train/adamw.js';
export type { Features } from '../train/batches.js';
export type { SplitItems, TrainItem } from '../train/data.js';
export type { ChooseInferenceResult, SplitMetrics } from '../train/choose-inference.js';
export type { GenderThresholdChoice } from '../train/gender-threshold.js';
