/**
 * The workspace manifest: one row per input file (`manifest.jsonl`, and `manifest.csv` for
 * spreadsheets), written by `prepare` and read by every command after it.
 *
 * @example
 *   const rows = await readManifest('workspace/utk');
 *   const test = rowsOfSplit(rows, 'test'); // kept, labelled rows of the test split
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic.js';
import { toCsv } from '../core/csv.js';
import { AgeGenderError } from '../core/errors.js';
import { z } from 'zod';
import { ETHNICITIES, FILE_STATUSES, GENDERS, SPLITS, type ManifestRow, type SplitName } from '../core/types.js';
import { workspacePaths } from './layout.js';

const COLUMNS: ReadonlyArray<keyof ManifestRow> = [
  'source', 'name', 'size', 'sha256', 'phash', 'width', 'height', 'age', 'gender', 'ethnicity', 'datetime', 'status', 'reason', 'cluster', 'duplicateOf', 'split',
];

/** The rows as JSON lines (the text of `manifest.jsonl`). */
export function manifestToJsonl(rows: readonly ManifestRow[]): string {
  return rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : '');
}

/** The same rows as CSV, for spreadsheets. */
export function manifestToCsv(rows: readonly ManifestRow[]): string {
  return toCsv(COLUMNS, rows.map((row) => COLUMNS.map((c) => row[c])));
}

/**
 * Writes `manifest.jsonl` and `manifest.csv` (each atomically) and returns the SHA-256 of the
 * JSONL text: the manifest's identity, recorded in the summary and in the models trained on it.
 */
export async function writeManifest(workspace: string, rows: readonly ManifestRow[]): Promise<string> {
  const paths = workspacePaths(workspace);
  const text = manifestToJsonl(rows);
  const sha256 = createHash('sha256').update(text).digest('hex');
  await writeFileAtomic(paths.manifest, text);
  await writeFileAtomic(paths.manifestCsv, manifestToCsv(rows));
  return sha256;
}

/**
 * The SHA-256 of `<workspace>/manifest.jsonl` as written: the manifest's identity (what
 * {@link writeManifest} returns, and what a model records as `datasetManifestHash`).
 */
export async function manifestSha256(workspace: string): Promise<string> {
  return createHash('sha256').update(await readFile(workspacePaths(workspace).manifest)).digest('hex');
}

/** The shape of a manifest row, as `prepare` writes it (labels within what UTKFace names can hold). */
const ManifestRowSchema = z.object({
  source: z.string().min(1),
  name: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().nullable(),
  phash: z.string().nullable(),
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
  age: z.number().int().min(0).max(130).nullable(),
  gender: z.enum(GENDERS).nullable(),
  ethnicity: z.enum(ETHNICITIES).nullable(),
  datetime: z.string().nullable(),
  status: z.enum(FILE_STATUSES),
  reason: z.string(),
  cluster: z.number().int().nonnegative().nullable(),
  duplicateOf: z.string().nullable(),
  split: z.enum(SPLITS).nullable(),
});

/** "field: what was wrong" for the first problem zod found, with the value, cut short. */
function rowProblem(error: z.ZodError, row: unknown): string {
  const issue = error.issues[0];
  const field = String(issue?.path[0] ?? 'row');
  const value = (row as Record<string, unknown> | null)?.[field];
  const shown = value === undefined ? 'missing' : JSON.stringify(value).slice(0, 40);
  return `${field} is ${shown} (${issue?.message ?? 'invalid'})`;
}

/**
 * Reads `<workspace>/manifest.jsonl`, checking every row's shape and that no file is listed twice.
 * Errors: WORKSPACE_INVALID (no manifest, or a line that is not a manifest row, naming the line and the field).
 * @example const train = rowsOfSplit(await readManifest('workspace/utk'), 'train');
 */
export async function readManifest(workspace: string): Promise<ManifestRow[]> {
  const path = workspacePaths(workspace).manifest;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AgeGenderError('WORKSPACE_INVALID', 'no manifest here: run `agegender prepare <inputs> --out <workspace>` first', { subject: path, cause: error });
  }
  const seen = new Map<string, number>();
  return text
    .split('\n')
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, n }) => {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (error) {
        throw new AgeGenderError('WORKSPACE_INVALID', `line ${n} is not valid JSON`, { subject: path, cause: error });
      }
      const r = ManifestRowSchema.safeParse(raw);
      if (!r.success) {
        throw new AgeGenderError('WORKSPACE_INVALID', `line ${n} is not a manifest row as \`agegender prepare\` writes it: ${rowProblem(r.error, raw)}`, { subject: path });
      }
      const earlier = seen.get(r.data.source);
      if (earlier !== undefined) throw new AgeGenderError('WORKSPACE_INVALID', `line ${n} lists ${r.data.source} again (first on line ${earlier})`, { subject: path });
      seen.set(r.data.source, n);
      return r.data as ManifestRow;
    });
}

/** A kept row with all three labels. */
export type LabelledRow = ManifestRow & { age: number; gender: NonNullable<ManifestRow['gender']>; ethnicity: NonNullable<ManifestRow['ethnicity']> };

/** True for a kept row with all three labels (what training, evaluation and the report use). */
export function isLabelled(row: ManifestRow): row is LabelledRow {
  return row.status === 'kept' && row.age !== null && row.gender !== null && row.ethnicity !== null;
}

/** Kept, labelled rows of one split, in manifest order. */
export function rowsOfSplit(rows: readonly ManifestRow[], split: SplitName): LabelledRow[] {
  return rows.filter((r): r is LabelledRow => r.split === split && isLabelled(r));
}
