/**
 * The CSV form of {@link predictFiles} results (what `agegender predict --csv` prints): one row per
 * face; a file without a face gets one row with face 0, a failed file one row with its error, so
 * every input file appears. `note` repeats the result's note (a multi-frame file read at its first
 * frame) on each of its rows.
 *
 * @example
 *   const lines = [PREDICT_CSV_HEADER];
 *   await predictFiles(['photos/'], { onResult: (r) => lines.push(...predictCsvRows(r)) });
 */
import { csvLine } from '../core/csv.js';
import type { PredictFileResult } from './predict-files.js';

export const PREDICT_CSV_COLUMNS = Object.freeze([
  'file', 'face', 'x', 'y', 'width', 'height', 'score', 'age', 'age_low', 'age_high', 'gender', 'gender_probability', 'female_probability', 'quality', 'note', 'error',
] as const);

/** The header line (no line break). */
export const PREDICT_CSV_HEADER = csvLine(PREDICT_CSV_COLUMNS);

/** A row with no face fields (box … female_probability empty): a failed file, or a file without a face. */
function faceLessRow(file: string, face: number | '', error: string, note: string): string {
  return csvLine([file, face, ...Array<string>(PREDICT_CSV_COLUMNS.length - 4).fill(''), note, error]);
}

/** The CSV lines (no line breaks) of one file's result. */
export function predictCsvRows(res: PredictFileResult): string[] {
  const note = res.note ?? '';
  if (res.error) return [faceLessRow(res.file, '', `${res.error.code}: ${res.error.message}`, note)];
  // a photo without a detected face still gets a row (face 0), so every input file appears in the CSV
  if (res.faces.length === 0) return [faceLessRow(res.file, 0, '', note)];
  return res.faces.map((f, i) =>
    csvLine([res.file, i + 1, f.box.x, f.box.y, f.box.width, f.box.height, f.score, f.age, f.ageInterval[0], f.ageInterval[1], f.gender, f.genderProbability, f.femaleProbability, f.quality.score, note, '']),
  );
}
