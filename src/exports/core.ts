/** `agegender/core`: errors with stable codes, shared types, validators, defaults, atomic writes, seeded random, CSV, bounded concurrency, worker threads, formatting. */
export * from '../core/errors.js';
export * from '../core/types.js';
export * from '../core/validate.js';
export * from '../core/defaults.js';
export * from '../core/atomic.js';
export * from '../core/random.js';
export * from '../core/csv.js';
export * from '../core/limit.js';
export * from '../core/worker.js';
export * from '../core/format.js';
export * from '../core/count.js';
export * from '../core/gender.js';
