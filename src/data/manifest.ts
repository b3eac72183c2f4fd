/** The manifest's reader and text form, re-exported from the workspace module that owns them. */
export { manifestToJsonl, readManifest, rowsOfSplit } from '../workspace/manifest.js';
