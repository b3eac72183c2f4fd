/** `agegender/workflow`: the multi-step runs the commands call. */
export * from '../workflow/evaluate.js';
export * from '../workflow/evaluate-photos.js';
export * from '../workflow/tune.js';
export * from '../workflow/explain.js';
export * from '../workflow/report.js';
export * from '../workflow/pipeline.js';
