/**
 * `summary.json`: what `prepare` did to a data set, as a zod schema. `prepare` writes an object of
 * this type; the report and the model card read it back through {@link readSummary}.
 *
 * @example
 *   const summary = await readSummary('workspace/utk');
 *   summary?.split?.counts.test; // 3015
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeJsonAtomic } from '../core/atomic.js';
import { FILE_STATUSES, SPLITS } from '../core/types.js';
import { workspacePaths } from './layout.js';

const count = z.number();
const filePair = z.object({ a: z.string(), b: z.string(), distance: z.number() });
const fileReason = z.object({ source: z.string(), reason: z.string() });

/** Label counts of the kept files of one split. */
export const LabelDistributionSchema = z.object({
  count,
  gender: z.record(z.string(), count),
  ethnicity: z.record(z.string(), count),
  ageBucket: z.record(z.string(), count),
  meanAge: z.number(),
});
export type LabelDistribution = z.infer<typeof LabelDistributionSchema>;

/**
 * How often two separate records of the same image agree on its labels (see `labelAgreement` in
 * `data/label-agreement.ts`). Shares are fractions of `pairs`.
 */
export const LabelAgreementSchema = z.object({
  /** Pairs of records compared (every pair within a group of identical images). */
  pairs: count,
  /** Images (groups) that contributed at least one pair. */
  images: count,
  /** Share of pairs whose ages are equal. */
  ageEqual: z.number(),
  meanAbsAgeDifference: z.number(),
  medianAbsAgeDifference: z.number(),
  /** Share of pairs whose ages differ by more than 8 years. */
  ageDifferenceOver8: z.number(),
  /** Share of pairs whose ages differ by more than 16 years: no single estimate is within ±8 years of both. */
  ageDifferenceOver16: z.number(),
  genderDisagree: z.number(),
  ethnicityDisagree: z.number(),
  /** Pair counts by |age difference|. */
  byAbsAgeDifference: z.record(z.string(), count),
  /** The pairs that disagree most on age, for a look. */
  examples: z.array(z.object({ a: z.string(), b: z.string(), ageA: z.number(), ageB: z.number() })),
});
export type LabelAgreement = z.infer<typeof LabelAgreementSchema>;

/** The fields in the order `prepare` writes them (the report lists the scalar ones in this order). */
export const PrepareSummarySchema = z.object({
  settings: z.object({
    inputs: z.array(z.string()),
    workspace: z.string(),
    threshold: z.number(),
    groupDistance: z.number(),
    auditDistance: z.number(),
    policy: z.string(),
    seed: z.number(),
    fractions: z.array(z.number()),
  }),
  command: z.string().nullable(),
  files: count,
  ignoredNonImages: count,
  unreadable: z.array(fileReason),
  invalidLabels: z.array(fileReason),
  exactUnique: count,
  exactDuplicates: count,
  nearPairs: count,
  clusters: count,
  flagged: count,
  /** Exact-unique images not flagged as near duplicates (the reference's "kept", before label checks). */
  unflagged: count,
  kept: count,
  statusCounts: z.record(z.enum(FILE_STATUSES), count),
  droppedClusters: z.array(
    z.object({ id: z.number(), outcome: z.enum(['kept-one', 'dropped-conflict', 'dropped-all', 'invalid-labels']), reason: z.string(), members: z.array(z.string()) }),
  ),
  examplePairs: z.array(filePair),
  split: z.object({
    groups: count,
    largestGroup: count,
    counts: z.record(z.enum(SPLITS), count),
    distributions: z.record(z.enum(SPLITS), LabelDistributionSchema),
  }),
  /**
   * The leakage audit: kept pairs in different splits within `distance` (the audit distance), by
   * Hamming distance. Those within `groupDistance` are 0 by construction; the others are what the
   * grouping let through (on UTKFace, almost all different people).
   */
  crossSplitNearPairs: z.object({
    distance: z.number(),
    groupDistance: z.number(),
    count,
    withinGroupDistance: count,
    byDistance: z.record(z.string(), count),
    examples: z.array(filePair),
  }),
  /**
   * Label noise seen directly: how often separate records of one image (different collection
   * datetimes) agree on its labels, for byte-identical files and for whole duplicate clusters.
   */
  labelAgreement: z.object({ identicalBytes: LabelAgreementSchema, sameCluster: LabelAgreementSchema }),
  timings: z.object({ hashSeconds: z.number(), totalSeconds: z.number(), cacheHits: count, cacheMisses: count }),
  /** SHA-256 of `manifest.jsonl`. */
  manifestSha256: z.string().optional(),
  /** Files linked or copied into `splits/<split>/` (prepare --materialize). */
  materialized: z.record(z.enum(SPLITS), count).optional(),
});

/** What `prepare` did, saved as `summary.json` and printed. */
export type PrepareSummary = z.infer<typeof PrepareSummarySchema>;

type Shape = typeof PrepareSummarySchema.shape;
type LenientShape = { [K in keyof Shape]: z.ZodCatch<z.ZodOptional<Shape[K]>> };

/** Every field optional, and a field whose content does not match its schema read as absent. */
function lenient(shape: Shape): LenientShape {
  const fields: Array<[string, z.ZodType]> = Object.entries(shape);
  return Object.fromEntries(fields.map(([key, schema]) => [key, schema.optional().catch(undefined)])) as LenientShape;
}

/**
 * `summary.json` as read back: each top-level field that has the shape `prepare` writes, other
 * fields left out (a summary from another version, or edited by hand), and unknown fields kept.
 */
export const SummaryFileSchema = z.looseObject(lenient(PrepareSummarySchema.shape));
export type SummaryFile = z.infer<typeof SummaryFileSchema>;

/**
 * Reads `<workspace>/summary.json` when it is there and holds a JSON object, else null.
 * @example const agreement = (await readSummary(ws))?.labelAgreement?.identicalBytes;
 */
export async function readSummary(workspace: string): Promise<SummaryFile | null> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(workspacePaths(workspace).summary, 'utf8'));
  } catch {
    return null;
  }
  const parsed = SummaryFileSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Writes `<workspace>/summary.json` atomically. */
export async function writeSummary(workspace: string, summary: PrepareSummary): Promise<void> {
  await writeJsonAtomic(workspacePaths(workspace).summary, summary);
}
