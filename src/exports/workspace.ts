/** `agegender/workspace`: the workspace layout, manifest, typed summary.json and evaluation store. */
export * from '../workspace/layout.js';
export * from '../workspace/manifest.js';
export * from '../workspace/summary.js';
export * from '../workspace/evaluation.js';
