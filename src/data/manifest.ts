import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgeGenderError } from '../core/errors.js';
import { FILE_STATUSES, type ManifestRow, type SplitName } from '../core/types.js';

const COLUMNS: ReadonlyArray<keyof ManifestRow> = [
  'source', 'name', 'size', 'sha256', 'phash', 'width', 'height', 'age', 'gender', 'ethnicity', 'datetime', 'status', 'reason', 'cluster', 'duplicateOf', 'split',
];

export function manifestToJsonl(rows: readonly ManifestRow[]): string {
  return rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : '');
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The same rows as CSV, for spreadsheets. */
export function manifestToCsv(rows: readonly ManifestRow[]): string {
  const lines = [COLUMNS.join(',')];
  for (const row of rows) lines.push(COLUMNS.map((c) => csvCell(row[c])).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * Reads `<workspace>/manifest.jsonl`, checking every row's shape.
 * @example const train = (await readManifest('workspace/utk')).filter((r) => r.split === 'train');
 */
export async function readManifest(workspace: string): Promise<ManifestRow[]> {
  const path = join(workspace, 'manifest.jsonl');
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

/** Kept rows of one split. */
export function rowsOfSplit(rows: readonly ManifestRow[], split: SplitName): ManifestRow[] {
  return rows.filter((r) => r.status === 'kept' && r.split === split);
}
