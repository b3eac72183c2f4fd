/** Every default in one frozen place; CLI help and docs read from here. */
export const DEFAULTS = Object.freeze({
  /** Workspace the commands after `prepare` read when none is given. */
  workspace: 'workspace/utk',
  prepare: Object.freeze({
    threshold: 5,
    auditDistance: 8,
    policy: 'keep-one' as const,
    seed: 42,
    fractions: Object.freeze([0.7, 0.15, 0.15] as const),
    concurrency: 8,
    maxPixels: 50_000_000,
  }),
});
