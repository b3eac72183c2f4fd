/** `agegender/eval`: metrics, bootstrap intervals, slices, label noise, evaluate and the photo evaluation. */
export * from '../eval/metrics.js';
export * from '../eval/bootstrap.js';
export * from '../eval/slices.js';
export * from '../eval/label-noise.js';
export * from '../eval/evaluate.js';
export * from '../eval/photos.js';
export * from '../eval/abstention.js';
export * from '../eval/format.js';
