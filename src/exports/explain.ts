/** `agegender/explain`: LIME, occlusion sensitivity, superpixels, overlays. */
export * from '../explain/index.js';
export * from '../explain/input.js';
export * from '../explain/lime.js';
export * from '../explain/occlusion.js';
export * from '../explain/superpixels.js';
export * from '../explain/overlay.js';
