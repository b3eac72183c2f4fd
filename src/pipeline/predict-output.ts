/**
 * `predictToFile`: {@link predictFiles} written to a CSV or NDJSON file as it goes, and resumable.
 *
 * Each file's rows go to `<out>.partial` in one write as soon as the file is done; when every input is
 * done the `.partial` is renamed to `out`, so `out` only ever appears whole. A run cut short (Ctrl-C,
 * a crash, a reboot) leaves the `.partial`; a run with `resume` keeps the files it holds that were
 * answered (rows with an error are tried again) and predicts only the rest, appending. In CSV the last
 * file of a `.partial` is always done again, since a cut-short write can leave its rows incomplete.
 * `resume` with a finished `out` and no `.partial` continues from `out` (a folder that has grown: only
 * the new photos are predicted). Files are matched by name as the results give it, so a resumed run
 * needs the same arguments from the same working directory. Rows keep the order they were written in:
 * the kept ones first, then this run's in input order.
 *
 * Formats: `predict --csv`'s columns ({@link PREDICT_CSV_COLUMNS}), or one {@link PredictFileResult}
 * per line as JSON (`.ndjson`/`.jsonl`).
 *
 * @example
 *   const s = await predictToFile(['photos/'], { out: 'ages.csv', resume: true });
 *   console.log(`${s.kept} kept, ${s.files} predicted, ${s.failed} failed`);
 */
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { extname } from 'node:path';
import { csvLine, parseCsv } from '../core/csv.js';
import { AgeGenderError } from '../core/errors.js';
import { partialPathOf, readEarlierResults, refuseUnfinishedRun, startPartial } from '../core/partial-file.js';
import { checkNotInput, checkOutputFile } from '../core/output-path.js';
import { oneOf } from '../core/validate.js';
import { PREDICT_CSV_COLUMNS, PREDICT_CSV_HEADER, predictCsvRows } from './predict-csv.js';
import { predictFiles, type PredictFileResult, type PredictFilesOptions, type PredictSummary } from './predict-files.js';
import { isImageName } from './inputs.js';

export const RESULT_FORMATS = Object.freeze(['csv', 'ndjson'] as const);
export type ResultFormat = (typeof RESULT_FORMATS)[number];

/** `format` checked, or taken from the extension of `out` (.ndjson/.jsonl → ndjson, else csv). */
export function resultFormatOf(out: string, format?: string): ResultFormat {
  if (format !== undefined) return oneOf(format, 'format', RESULT_FORMATS);
  return ['.ndjson', '.jsonl'].includes(extname(out).toLowerCase()) ? 'ndjson' : 'csv';
}

/** The lines (no line breaks) of one result in `format`. */
export function resultLines(result: PredictFileResult, format: ResultFormat): string[] {
  return format === 'csv' ? predictCsvRows(result) : [JSON.stringify(result)];
}

export interface PredictToFileOptions extends Omit<PredictFilesOptions, 'skip' | 'onStart' | 'keepResults'> {
  /** The file to write; rows go to `<out>.partial` until every input is done. */
  out: string;
  /** Default: from the extension of `out` ({@link resultFormatOf}). */
  format?: ResultFormat;
  /** Continue from `<out>.partial` (or a finished `out`) instead of refusing to overwrite a `.partial`. */
  resume?: boolean;
  /** Files done so far in this run and how many there are to do. */
  onProgress?: (done: number, total: number) => void;
}

export interface PredictToFileSummary extends Omit<PredictSummary, 'results'> {
  out: string;
  format: ResultFormat;
  /** Files whose rows were kept from the earlier run (not predicted again). */
  kept: number;
}

export { partialPathOf } from '../core/partial-file.js';

/** What an earlier run left: the lines to keep and the files they answer. */
interface Earlier {
  lines: string[];
  done: Set<string>;
}

/** CSV rows of an earlier run grouped by file, in order; the last group dropped when `lastMayBeCut`; files with an error row left out. */
function earlierCsv(text: string, source: string, lastMayBeCut: boolean): Earlier {
  const rows = parseCsv(text.replace(/^\uFEFF/, ''));
  const header = rows.shift();
  // a file written before the note column was added: its rows get an empty note
  const noteAt = PREDICT_CSV_COLUMNS.indexOf('note');
  if (header?.join(',') === PREDICT_CSV_COLUMNS.filter((c) => c !== 'note').join(',')) rows.forEach((row) => row.length === PREDICT_CSV_COLUMNS.length - 1 && row.splice(noteAt, 0, ''));
  else if (!header || header.join(',') !== PREDICT_CSV_COLUMNS.join(',')) {
    throw new AgeGenderError('INVALID_ARGUMENT', `not the output of agegender predict: its header is not ${PREDICT_CSV_HEADER}; delete it or choose another --out`, { subject: source });
  }
  const groups: string[][][] = [];
  for (const row of rows) {
    const last = groups.at(-1);
    if (last && last[0]![0] === row[0]) last.push(row);
    else groups.push([row]);
  }
  if (lastMayBeCut) groups.pop();
  const errorAt = PREDICT_CSV_COLUMNS.indexOf('error');
  const answered = groups.filter((g) => g.every((row) => row.length === PREDICT_CSV_COLUMNS.length && row[errorAt] === ''));
  return { lines: answered.flatMap((g) => g.map((row) => csvLine(row))), done: new Set(answered.map((g) => g[0]![0]!)) };
}

/** NDJSON lines of an earlier run; a line that does not parse (cut short) and results with an error left out. */
function earlierNdjson(text: string): Earlier {
  const lines: string[] = [];
  const done = new Set<string>();
  for (const line of text.split('\n')) {
    let r: Partial<PredictFileResult> | null = null;
    try {
      r = JSON.parse(line) as Partial<PredictFileResult>;
    } catch {
      continue;
    }
    if (r && typeof r.file === 'string' && r.error === null && Array.isArray(r.faces)) {
      lines.push(line);
      done.add(r.file);
    }
  }
  return { lines, done };
}

/** The earlier run's kept lines: from the `.partial` if there is one, else from a finished `out`, else none. */
async function readEarlier(out: string, partial: string, format: ResultFormat): Promise<Earlier> {
  const source = existsSync(partial) ? partial : existsSync(out) ? out : null;
  if (source === null) return { lines: [], done: new Set() };
  const text = await readEarlierResults(source);
  return format === 'csv' ? earlierCsv(text, source, source === partial) : earlierNdjson(text);
}

/**
 * Refuses an `out` the results cannot or must not be written to, before any work: a folder, a place
 * that cannot be written, an image's name (results written as CSV over a photo; a later folder walk
 * would take the file for an image), or a file named among the inputs. Inputs are never modified.
 */
async function checkResultsPath(out: string, inputs: readonly string[]): Promise<void> {
  if (isImageName(out)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected a results file (.csv, .ndjson or .jsonl) but received an image's name: the results would be written over it, or taken for a photo by a later run`, { subject: out });
  }
  await checkOutputFile(out);
  for (const input of inputs) await checkNotInput(out, input);
}

/**
 * Predicts every image the arguments name into `out` (see the module comment).
 * Errors: INVALID_ARGUMENT when `out` is a folder, cannot be written, has an image's name or is one
 * of the inputs, when `<out>.partial` exists and `resume` is not set, or when the file to resume
 * from is not this command's output; those of {@link predictFiles}.
 */
export async function predictToFile(inputs: readonly string[], options: PredictToFileOptions): Promise<PredictToFileSummary> {
  const { out, resume = false, onProgress, ...predictOptions } = options;
  const format = resultFormatOf(out, options.format);
  const partial = partialPathOf(out);
  await checkResultsPath(out, inputs);
  refuseUnfinishedRun(partial, resume);
  const earlier = resume ? await readEarlier(out, partial, format) : { lines: [], done: new Set<string>() };
  // the kept rows, rewritten whole (atomically), then appended to file by file
  const writer = await startPartial(partial, format === 'csv' ? [PREDICT_CSV_HEADER, ...earlier.lines] : earlier.lines);
  let summary: PredictSummary;
  try {
    let total = 0;
    let done = 0;
    summary = await predictFiles(inputs, {
      ...predictOptions,
      keepResults: false, // written as they come: a long run must not hold them all
      skip: earlier.done,
      onStart: (n) => {
        total = n;
        onProgress?.(0, total);
      },
      onResult: (r) => {
        const text = resultLines(r, format).map((l) => `${l}\n`).join('');
        void writer.append(text); // in order; awaited by finish()
        onProgress?.(++done, total);
        predictOptions.onResult?.(r);
      },
    });
    await writer.finish();
  } finally {
    await writer.close();
  }
  await rename(partial, out);
  const { files, failed, faces, seconds, imagesPerSecond, runtime } = summary;
  return { files, failed, faces, seconds, imagesPerSecond, runtime, out, format, kept: earlier.done.size };
}
