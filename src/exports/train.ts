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
