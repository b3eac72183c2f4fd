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
import { FILE_STATUSES, type ManifestRow, type SplitName } from '../core/types.js';
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
 * Reads `<workspace>/manifest.jsonl`, checking every row's shape.
 * Errors: WORKSPACE_INVALID (no manifest, or a line that is not a manifest row).
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
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      let row: ManifestRow;
      try {
        row = JSON.parse(line) as ManifestRow;
      } catch (error) {
        throw new AgeGenderError('WORKSPACE_INVALID', `line ${i + 1} is not valid JSON`, { subject: path, cause: error });
      }
      if (typeof row.source !== 'string' || !(FILE_STATUSES as readonly string[]).includes(row.status)) {
        throw new AgeGenderError('WORKSPACE_INVALID', `line ${i + 1} is not a manifest row`, { subject: path });
      }
      return row;
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
