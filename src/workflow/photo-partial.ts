/**
 * The resumable record of an `evaluate --photos` run: `<out>/photo-records.ndjson.partial`, written
 * as the photos are scored (core/partial-file.ts). Its first line is the run's options
 * ({@link PhotoRunKey}); each later line is one photo's {@link PhotoRecord} as JSON, in full
 * precision, so the figures of a resumed run are those of an uninterrupted one. A resumed run keeps
 * the records of the photos that were scored (a photo that failed is scored again, a line cut short
 * by a kill is dropped) and is refused when it was started with other options, naming them.
 *
 * @example
 *   const earlier = await readPhotoPartial(path);
 *   checkSameRun(earlier.run, key, path); // INVALID_ARGUMENT: "… made with other options: limit 20 → 40; …"
 */
import { join } from 'node:path';
import { AgeGenderError } from '../core/errors.js';
import { optionDifferences } from '../core/option-differences.js';
import { partialPathOf, readEarlierResults } from '../core/partial-file.js';
import type { PhotoLabel, PhotoRecord } from '../eval/photos.js';
import type { ModelIdentity } from '../model/identity.js';

/** The name of the file the records go to; only its `.partial` is ever written (the finished run writes the CSV and JSON). */
export const PHOTO_RECORDS_FILE = 'photo-records.ndjson';

/** Marks the first line of the `.partial`. */
const KIND = 'agegender evaluate --photos: records so far';

/** The `.partial` of a run writing into the folder `out`. */
export function photoPartialPath(out: string): string {
  return partialPathOf(join(out, PHOTO_RECORDS_FILE));
}

/** What the records of a run depend on; a resumed run must match it in every field. */
export interface PhotoRunKey {
  photos: string;
  labels: string;
  /** SHA-256 of the labels file: the same path with other labels is another run. */
  labelsSha256: string;
  limit: number | null;
  detect: boolean;
  detector: string;
  model: string;
  modelCreatedAt: string;
  weightsSha256: string | null;
  flipTta: boolean | null;
  genderThreshold: number;
}

/** The fields of {@link PhotoRunKey} known before the model and detector are loaded. */
export type PhotoInputsKey = Pick<PhotoRunKey, 'photos' | 'labels' | 'labelsSha256' | 'limit' | 'detect'>;

/** The fields of {@link PhotoRunKey} that come from the model and the detector. */
export function modelKey(identity: Required<ModelIdentity>, detector: string): Omit<PhotoRunKey, keyof PhotoInputsKey> {
  return { detector, model: identity.name, modelCreatedAt: identity.createdAt, weightsSha256: identity.weightsSha256, flipTta: identity.flipTta, genderThreshold: identity.genderThreshold };
}

/** The first line of a `.partial`. */
export function photoPartialHeader(key: PhotoRunKey): string {
  return JSON.stringify({ kind: KIND, run: key });
}

export interface PhotoPartial {
  run: Record<string, unknown>;
  /** The records of the photos that were scored (not those that failed), by file. */
  scored: Map<string, PhotoRecord>;
}

function isScored(value: unknown): value is PhotoRecord {
  const r = value as Partial<PhotoRecord> | null;
  return r !== null && typeof r === 'object' && typeof r.file === 'string' && typeof r.faces === 'number' && r.error === null;
}

/** A line's JSON value; null when it does not parse. */
function parsedLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return null;
  }
}

/** Reads a `.partial`. Errors naming it: UNREADABLE_FILE, or INVALID_ARGUMENT when it is not the records of `evaluate --photos`. */
export async function readPhotoPartial(path: string): Promise<PhotoPartial> {
  const [first = '', ...lines] = (await readEarlierResults(path)).split('\n');
  const header = parsedLine(first) as { kind?: unknown; run?: unknown } | null;
  if (header?.kind !== KIND || header.run === null || typeof header.run !== 'object') {
    throw new AgeGenderError('INVALID_ARGUMENT', 'Expected the records so far of agegender evaluate --photos but the first line does not say so; delete it or choose another --out', { subject: path });
  }
  const scored = new Map<string, PhotoRecord>();
  for (const line of lines) {
    const record = parsedLine(line); // null for an empty last line, or one cut short by a kill
    if (isScored(record)) scored.set(record.file, record);
  }
  return { run: header.run as Record<string, unknown>, scored };
}

/**
 * Throws INVALID_ARGUMENT naming `path` when the earlier run's options differ from `now`'s fields
 * (only the fields `now` has are compared, so the inputs can be checked before a model is loaded).
 */
export function checkSameRun(earlier: Readonly<Record<string, unknown>>, now: Partial<PhotoRunKey>, path: string): void {
  const was = Object.fromEntries(Object.keys(now).map((k) => [k, earlier[k]]));
  const differs = optionDifferences(was, now);
  if (differs.length > 0) {
    throw new AgeGenderError('INVALID_ARGUMENT', `the records so far were made with other options: ${differs.join(', ')}; rerun with that run's options to continue it, or delete this file to start over`, { subject: path });
  }
}

/** The earlier records to keep: those of this run's labels, in label order. */
export function keptRecords(earlier: PhotoPartial | null, labels: readonly PhotoLabel[]): Map<string, PhotoRecord> {
  const kept = new Map<string, PhotoRecord>();
  if (!earlier) return kept;
  for (const label of labels) {
    const r = earlier.scored.get(label.file);
    if (r) kept.set(label.file, r);
  }
  return kept;
}
