/** Every default in one frozen place; CLI help and docs read from here. */
export const DEFAULTS = Object.freeze({
  /** Workspace the commands after `prepare` read when none is given. */
  workspace: 'workspace/utk',
  prepare: Object.freeze({
    threshold: 5,
    /**
     * Files within this pHash distance are grouped and never straddle splits. 6 rather than 8: among
     * the UTKFace files kept after deduplication (≤ 5), pairs at 6 include near-identical frames of
     * one photo, while the 7,611 pairs at 8 are almost all different people (aligned chips look alike
     * to pHash); chained, those form one group of 4,181 files that would go whole to one split.
     */
    groupDistance: 6,
    /** The leakage audit counts (and lists) the pairs across splits within this distance. */
    auditDistance: 8,
    policy: 'keep-one' as const,
    seed: 42,
    fractions: Object.freeze([0.7, 0.15, 0.15] as const),
    concurrency: 8,
    maxPixels: 50_000_000,
    /** The fingerprint cache is saved every this many newly hashed files, so an interrupted run keeps them. */
    saveCacheEvery: 2048,
  }),
});
