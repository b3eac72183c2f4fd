/** `agegender/data`: sources, fingerprints (SHA-256, pHash), near-duplicate index, clusters, cleaning, labels, splits and prepare. */
export * from '../data/sources.js';
export * from '../data/fingerprint.js';
export * from '../data/phash.js';
export * from '../data/hamming-index.js';
export * from '../data/clusters.js';
export * from '../data/dedup.js';
export * from '../data/labels.js';
export * from '../data/label-agreement.js';
export * from '../data/split.js';
export * from '../data/summary.js';
export * from '../data/prepare.js';
export * from '../data/hash-cache.js';
export * from '../data/fingerprint-pool.js';
