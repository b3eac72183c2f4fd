/** `agegender/pipeline`: face detection, alignment, analysis and prediction over files (in-process or on worker threads). */
export * from '../pipeline/detect.js';
export * from '../pipeline/estimator.js';
export * from '../pipeline/align.js';
export * from '../pipeline/analyze.js';
export * from '../pipeline/inputs.js';
export * from '../pipeline/predict-files.js';
export * from '../pipeline/predict-csv.js';
export * from '../pipeline/predict-output.js';
export * from '../pipeline/predict-pool.js';
export * from '../pipeline/pooled-model.js';
export * from '../pipeline/quality.js';
export * from '../pipeline/turn.js';
export type { ChipOutcome, SubjectChip } from '../pipeline/gated-chips.js';
