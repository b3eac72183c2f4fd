/** `agegender/report`: the HTML audit report: EDA, charts, model card. */
export * from '../report/build.js';
export * from '../report/vega.js';
export * from '../report/eda.js';
export * from '../report/model-card.js';
