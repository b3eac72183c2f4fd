/** Evaluation: metrics, bootstrap intervals, slices with best−worst gaps, and the evaluate() runner. */
export * from './metrics.js';
export { bootstrapIntervals, quantile, BOOTSTRAP_DEFAULTS, type ConfidenceInterval, type BootstrapOptions, type Statistic } from './bootstrap.js';
export { sliceMetrics, groupMetrics, bestWorst, metricGaps, SLICINGS, SLICE_METRICS, SLICE_DIMENSIONS, type EvalRecord, type GroupResult, type SlicingResult, type MetricGap } from './slices.js';
export { evaluate, summarise, predictionsCsv, parsePredictionsCsv, EVALUATE_DEFAULTS, PREDICTION_COLUMNS, type EvaluationResult, type PredictionRecord, type EvaluateOptions } from './evaluate.js';
