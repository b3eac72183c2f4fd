/** Explanations through the model's public scoreRaw only: SLIC superpixels, LIME, occlusion, overlays. */
export { slic, SLIC_DEFAULTS, type Segmentation, type SlicOptions } from './superpixels.js';
export { lime, limeStability, topKAgreement, weightedRidge, LIME_DEFAULTS, EXPLAIN_TASKS, FILL_MODES, type LimeExplanation, type LimeOptions, type ExplainTask, type FillMode } from './lime.js';
export { occlusionSensitivity, superpixelOcclusion, OCCLUSION_DEFAULTS, type OcclusionMap, type OcclusionOptions } from './occlusion.js';
export { explanationPng, limeOverlayPixels, occlusionHeatPixels } from './overlay.js';
export { prepareChip, EXPLAIN_SIZE, MIN_EXPLAIN_SIZE } from './input.js';
export { explainImage, type ExplainOptions, type ExplainResult } from './explain.js';
