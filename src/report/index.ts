/** The HTML audit report: EDA, evaluation charts (Vega-Lite → SVG in Node), galleries, LIME, model card. */
export { buildReport, readTrainingLog, historyFromMetadata, REPORT_DEFAULTS, type ReportInput, type BuiltReport } from './build.js';
export { renderSvg, type ChartSpec } from './vega.js';
export { modelCardHtml } from './model-card.js';
export { edaStats, type EdaStats } from './eda.js';
