import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManifestRow, SplitName } from '../core/types.js';

/** Reads `<workspace>/manifest.jsonl` (the data module's reader; WORKSPACE_INVALID when missing or malformed). */
export { readManifest } from '../data/manifest.js';

/** Reads `<workspace>/summary.json` when present (the cleaning summary written by prepare), else null. */
export async function readSummary(workspace: string): Promise<Record<string, unknown> | null> {
  try {
    const value: unknown = JSON.parse(await readFile(join(workspace, 'summary.json'), 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A kept, fully labelled row of a split. */
export type LabelledRow = ManifestRow & { age: number; gender: NonNullable<ManifestRow['gender']>; ethnicity: NonNullable<ManifestRow['ethnicity']> };

export function isLabelled(row: ManifestRow): row is LabelledRow {
  return row.status === 'kept' && row.age !== null && row.gender !== null && row.ethnicity !== null;
}

/** Kept, labelled rows of one split, in manifest order. */
export function rowsOfSplit(rows: readonly ManifestRow[], split: SplitName): LabelledRow[] {
  return rows.filter((r): r is LabelledRow => r.split === split && isLabelled(r));
}
