/**
 * Scoring the photo path: a folder of photos with a labels CSV (`file,age,gender`, the format of the
 * All-Age-Faces dev set), one labelled face per photo. Pure functions over per-photo records, so the
 * CLI, the library and the benchmarks (which also score other models this way) share one definition
 * of detection recall, age MAE, CS@5/CS@8, gender accuracy on answered faces, coverage, latency and
 * the signed age error by decade.
 *
 * @example
 *   const labels = parsePhotoLabels(await readFile('labels.csv', 'utf8'), 'labels.csv');
 *   const summary = summarisePhotos(records); // records: one PhotoRecord per labelled photo
 *   summary.found.share; summary.age.mae; summary.gender.accuracy; summary.gender.coverage;
 */
import { posix } from 'node:path';
import { fixedDecimals, parseCsvRecords, toCsv } from '../core/csv.js';
import { AgeGenderError } from '../core/errors.js';
import { GENDERS, type Gender } from '../core/types.js';
import type { ModelIdentity } from '../model/identity.js';
import { AGE_DECADES, ageDecade, ageMetrics, meanError, mae } from './metrics.js';

/** One labelled photo. */
export interface PhotoLabel {
  /** File name relative to the photo folder. */
  file: string;
  age: number;
  gender: Gender;
}

/**
 * What one photo gave: how many faces were found and, for the face scored (the largest), its
 * prediction. `predictedGender` is `'uncertain'` when the model abstained (not answered).
 */
export interface PhotoRecord extends PhotoLabel {
  /** Faces found (0: none; the labelled face is taken to be the largest). */
  faces: number;
  predictedAge: number | null;
  femaleProbability: number | null;
  predictedGender: string | null;
  /** Time for this photo (decode → detect → align → predict), in milliseconds; null when it failed. */
  ms: number | null;
  /**
   * Present when the file holds several frames or pages (an animated GIF, WebP or PNG, a multi-page
   * TIFF) and only the first was analysed: says so in words (`firstFrameNote`), as `predict` does.
   */
  note?: string;
  /** Why the photo could not be read or analysed, else null. */
  error: string | null;
}

/** Signed (predicted − actual) and absolute age error of the faces found in one decade of true age. */
export interface DecadeError {
  decade: string;
  count: number;
  meanError: number | null;
  mae: number | null;
}

/**
 * Fewest faces a decade needs to enter {@link decadeBias}: with fewer, the decade's mean signed error
 * is mostly its own faces' noise (a decade of one face has zero error left by construction).
 */
export const DECADE_BIAS_MIN_FACES = 20;

/** The MAE over the faces of the decades with at least `minFaces` faces, with and without each decade's mean signed error. */
export interface DecadeBias {
  minFaces: number;
  /** Faces in those decades. */
  faces: number;
  mae: number;
  maeWithout: number;
  /**
   * With a reference ({@link PhotoReference}): the MAE once only the part of each decade's mean signed
   * error that the reference does not have is taken off. A model reads the young older and the old
   * younger than their labels on its own test chips too (regression to the mean); what a decade shows
   * beyond that is the population's shift. A decade with fewer than `minFaces` reference faces
   * has its whole mean error taken off.
   */
  maeWithoutExcess?: number;
}

/**
 * The signed age error by decade of the same model on its own kind of data (a chip evaluation by
 * `agegender evaluate`), so that a photo set's by-decade bias can be split into the model's own
 * regression to the mean and the photo population's shift.
 */
export interface PhotoReference {
  /** The evaluation folder it was read from. */
  evaluation: string;
  /** The split that evaluation scored. */
  split: string;
  byDecade: DecadeError[];
}

export interface PhotoEvaluationSummary {
  photos: number;
  /** Photos that could not be read, decoded or analysed (recorded with their error); left out of `found.share`. */
  failed: number;
  /** Photos in which at least one face was found; share = detection recall over the photos read (photos − failed), one labelled face per photo. */
  found: { count: number; share: number | null };
  /** Photos in which more than one face was found (the largest is scored). */
  multipleFaces: number;
  /** Over the faces found. */
  age: {
    count: number;
    mae: number | null;
    meanError: number | null;
    cs5: number | null;
    cs8: number | null;
    /** How much of the MAE a by-decade shift explains, over the decades with enough faces ({@link decadeBias}); null when none has. Absent in files written before it was recorded. */
    decadeBias?: DecadeBias | null;
    /** Written by older versions: {@link maeWithoutDecadeBias} over every decade, however few its faces. Not written now. */
    maeWithoutDecadeBias?: number | null;
  };
  /** Accuracy over the faces answered; coverage = answered / found; accuracyAll counts abstentions as wrong. */
  gender: { answered: number; coverage: number | null; accuracy: number | null; accuracyAll: number | null };
  /** Per-photo time over the photos analysed. */
  ms: { median: number | null; mean: number | null; p90: number | null };
  byDecade: DecadeError[];
  /** The reference the by-decade bias was split against (`decadeBias.maeWithoutExcess`); absent when none was given. */
  reference?: PhotoReference;
}

/** What `evaluatePhotos` stores in `photo-evaluation.json`. */
export interface PhotoEvaluation {
  photos: string;
  labels: string;
  /** The model's name. */
  model: string;
  /** The model (name, creation time, weights) and the inference settings the figures were measured with: flip TTA and the gender threshold. Absent in files written before it was recorded. */
  modelIdentity?: ModelIdentity;
  runtime: string;
  detector: string | null;
  /** How the refinement pass cut each face's chip (`AnalyzeOptions.align`); null without detection. Absent in files written before it was recorded. */
  alignment?: string | null;
  createdAt: string;
  summary: PhotoEvaluationSummary;
}

const LABEL_HEADER = ['file', 'age', 'gender'] as const;
/** One-letter genders taken in a labels CSV. Numeric codes are not: data sets disagree on which is 0. */
const GENDER_SHORT: Readonly<Record<string, Gender>> = { m: 'male', f: 'female' };

/** An age cell: decimal digits, optionally with a fraction (no sign, exponent, hex or spaces inside). */
const AGE_CELL = /^\d+(\.\d+)?$/;

/**
 * Parses a labels CSV with the header `file,age,gender` (more columns are ignored). Errors
 * (INVALID_LABEL, naming `source` and the line): a missing or repeated column, a quote never closed,
 * an age that is not a decimal number in 0–120, a gender other than male/female (any case; m/f for
 * short), a file named twice (`a.jpg` and `./a.jpg` are one file), no rows. Lines may end in
 * `\n`, `\r\n` or `\r`; a quoted field may hold commas and line breaks.
 */
export function parsePhotoLabels(text: string, source: string): PhotoLabel[] {
  const { records, unclosedQuoteLine } = parseCsvRecords(text.replace(/^\uFEFF/, ''));
  if (unclosedQuoteLine !== null) throw new AgeGenderError('INVALID_LABEL', 'Expected a closing quote for the field opened on this line but the file ends inside it', { subject: `${source}:${unclosedQuoteLine}` });
  const header = (records[0]?.cells ?? []).map((h) => h.trim().toLowerCase());
  const index = LABEL_HEADER.map((name) => header.indexOf(name));
  const missing = LABEL_HEADER.filter((_, i) => index[i]! < 0);
  if (missing.length > 0) {
    const cells = records[0]?.cells ?? [];
    // a spreadsheet set to semicolons or tabs writes one cell per line: say so rather than list every column as missing
    const separator = cells.length === 1 && /[;\t]/.test(cells[0]!) ? `: it is read as one column ${JSON.stringify(cells[0]!.slice(0, 60))}; separate the columns with commas` : '';
    throw new AgeGenderError('INVALID_LABEL', `Expected a header with columns file,age,gender but the first line lacks ${missing.join(', ')}${separator}`, { subject: source });
  }
  const repeated = LABEL_HEADER.filter((name) => header.indexOf(name) !== header.lastIndexOf(name));
  if (repeated.length > 0) throw new AgeGenderError('INVALID_LABEL', `Expected each of file,age,gender once in the header but it names ${repeated.join(', ')} more than once`, { subject: source });
  const [fileAt, ageAt, genderAt] = index as [number, number, number];
  const labels: PhotoLabel[] = [];
  const firstLine = new Map<string, number>();
  for (const { line, cells } of records.slice(1)) {
    if (cells.every((c) => c.trim() === '')) continue;
    const where = { subject: `${source}:${line}` };
    const file = (cells[fileAt] ?? '').trim();
    const ageCell = (cells[ageAt] ?? '').trim();
    const age = Number(ageCell);
    const given = (cells[genderAt] ?? '').trim().toLowerCase();
    const gender = GENDER_SHORT[given] ?? given;
    if (file === '') throw new AgeGenderError('INVALID_LABEL', 'Expected a file name but the file column is empty', where);
    if (!AGE_CELL.test(ageCell) || age > 120) throw new AgeGenderError('INVALID_LABEL', `Expected an age between 0 and 120 but received "${cells[ageAt] ?? ''}"`, where);
    if (!(GENDERS as readonly string[]).includes(gender)) throw new AgeGenderError('INVALID_LABEL', `Expected gender ${GENDERS.join(' or ')} (or m, f) but received "${cells[genderAt] ?? ''}"`, where);
    const key = posix.normalize(file);
    const first = firstLine.get(key);
    if (first !== undefined) throw new AgeGenderError('INVALID_LABEL', `file ${file} is labelled twice (first on line ${first})`, where);
    firstLine.set(key, line);
    labels.push({ file, age, gender: gender as Gender });
  }
  if (labels.length === 0) throw new AgeGenderError('INVALID_LABEL', 'Expected at least one labelled photo but the file has only a header', { subject: source });
  return labels;
}

/** The value at quantile q (0–1) of sorted numbers, by linear interpolation; null when empty. */
function sortedQuantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Signed and absolute age error of paired true / predicted ages, by decade of the true age (every decade listed). */
export function signedErrorByDecade(actual: readonly number[], predicted: readonly number[]): DecadeError[] {
  return AGE_DECADES.map((decade) => {
    const idx = actual.map((a, i) => (ageDecade(a) === decade ? i : -1)).filter((i) => i >= 0);
    const a = idx.map((i) => actual[i]!);
    const p = idx.map((i) => predicted[i]!);
    return { decade, count: idx.length, meanError: meanError(a, p), mae: mae(a, p) };
  });
}

/**
 * The MAE left when each decade's mean signed error is subtracted from the errors of its faces: how
 * much of the MAE a by-decade shift (one population read younger or older than another) explains.
 * It uses the labels, so it attributes error; it is not a correction a model could apply.
 * `byDecade`: {@link signedErrorByDecade} of the same faces, when the caller has it already.
 * @example maeWithoutDecadeBias([30, 34, 50], [27, 29, 45]) // 30s: errors −3, −5 (mean −4) → 1, 1; 50s: −5 → 0 → 2/3
 */
export function maeWithoutDecadeBias(actual: readonly number[], predicted: readonly number[], byDecade?: readonly DecadeError[]): number | null {
  if (actual.length !== predicted.length) throw new AgeGenderError('INVALID_ARGUMENT', `Expected as many predictions as labels but received ${predicted.length} and ${actual.length}`);
  if (actual.length === 0) return null;
  const bias = new Map((byDecade ?? signedErrorByDecade(actual, predicted)).map((d) => [d.decade, d.meanError ?? 0]));
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(predicted[i]! - actual[i]! - bias.get(ageDecade(actual[i]!))!);
  return sum / actual.length;
}

/**
 * {@link maeWithoutDecadeBias} over the faces of the decades with at least `minFaces` faces (default
 * {@link DECADE_BIAS_MIN_FACES}), with the plain MAE of the same faces; null when no decade has that many.
 * @example decadeBias(actual, predicted)?.maeWithout // e.g. 5.42 against an MAE of 6.03 on 4,000 AAF photos
 */
export function decadeBias(actual: readonly number[], predicted: readonly number[], minFaces = DECADE_BIAS_MIN_FACES, reference?: readonly DecadeError[]): DecadeBias | null {
  if (actual.length !== predicted.length) throw new AgeGenderError('INVALID_ARGUMENT', `Expected as many predictions as labels but received ${predicted.length} and ${actual.length}`);
  const byDecade = signedErrorByDecade(actual, predicted);
  const enough = new Set(byDecade.filter((d) => d.count >= minFaces).map((d) => d.decade));
  const idx = actual.map((a, i) => (enough.has(ageDecade(a)) ? i : -1)).filter((i) => i >= 0);
  if (idx.length === 0) return null;
  const a = idx.map((i) => actual[i]!);
  const p = idx.map((i) => predicted[i]!);
  const bias: DecadeBias = { minFaces, faces: idx.length, mae: mae(a, p)!, maeWithout: maeWithoutDecadeBias(a, p, byDecade)! };
  if (!reference) return bias;
  // each decade's mean error less the reference's (where the reference has enough faces to tell)
  const referenceBias = new Map(reference.map((r) => [r.decade, r.count >= minFaces ? (r.meanError ?? 0) : 0]));
  const excess = byDecade.map((d) => ({ ...d, meanError: d.meanError === null ? null : d.meanError - (referenceBias.get(d.decade) ?? 0) }));
  return { ...bias, maeWithoutExcess: maeWithoutDecadeBias(a, p, excess)! };
}

const isAnswered = (g: string | null): boolean => g === 'male' || g === 'female';

/** The figures of a photo evaluation from its per-photo records; with `reference`, the by-decade bias is also split against it. */
export function summarisePhotos(records: readonly PhotoRecord[], reference?: PhotoReference): PhotoEvaluationSummary {
  const found = records.filter((r) => r.faces > 0 && r.predictedAge !== null);
  const actual = found.map((r) => r.age);
  const predicted = found.map((r) => r.predictedAge!);
  const am = ageMetrics(actual, predicted);
  const byDecade = signedErrorByDecade(actual, predicted);
  const answered = found.filter((r) => isAnswered(r.predictedGender));
  const correct = answered.filter((r) => r.predictedGender === r.gender).length;
  const times = records.flatMap((r) => (r.ms === null ? [] : [r.ms])).sort((a, b) => a - b);
  const share = (k: number, n: number): number | null => (n > 0 ? k / n : null);
  const failed = records.filter((r) => r.error !== null).length;
  return {
    photos: records.length,
    failed,
    found: { count: found.length, share: share(found.length, records.length - failed) },
    multipleFaces: records.filter((r) => r.faces > 1).length,
    age: { count: am.count, mae: am.mae, meanError: am.meanError, cs5: am.cs['5'] ?? null, cs8: am.within8, decadeBias: decadeBias(actual, predicted, DECADE_BIAS_MIN_FACES, reference?.byDecade) },
    gender: { answered: answered.length, coverage: share(answered.length, found.length), accuracy: share(correct, answered.length), accuracyAll: share(correct, found.length) },
    ms: { median: sortedQuantile(times, 0.5), mean: share(times.reduce((s, t) => s + t, 0), times.length), p90: sortedQuantile(times, 0.9) },
    byDecade,
    ...(reference ? { reference } : {}),
  };
}

export const PHOTO_RECORD_COLUMNS = Object.freeze(['file', 'age', 'gender', 'faces', 'predicted_age', 'age_error', 'female_probability', 'predicted_gender', 'gender_correct', 'ms', 'note', 'error'] as const);

const FEMALE_PROBABILITY_COLUMN = PHOTO_RECORD_COLUMNS.indexOf('female_probability');

/**
 * One CSV row per photo (header {@link PHOTO_RECORD_COLUMNS}); empty cells where there is no face
 * (and `note` where the file has one frame); numbers to 4 decimals but `female_probability` in full.
 */
export function photoRecordsCsv(records: readonly PhotoRecord[]): string {
  const rows = records.map((r) => {
    const error = r.predictedAge === null ? null : r.predictedAge - r.age;
    const correct = isAnswered(r.predictedGender) ? r.predictedGender === r.gender : null;
    const row = [r.file, r.age, r.gender, r.faces, r.predictedAge, error, r.femaleProbability, r.predictedGender, correct, r.ms, r.note ?? null, r.error];
    // P(female) in full (4 decimals would tie the confident faces at 0.0000 and 1.0000)
    return row.map((v, i) => (i === FEMALE_PROBABILITY_COLUMN ? v : fixedDecimals(v, 4)));
  });
  return toCsv(PHOTO_RECORD_COLUMNS, rows);
}

/**
 * The photos that failed, for the terminal: the first `shown` with their reasons, and how many more
 * (no lines when none failed).
 * @example failedPhotoLines(records) // ['failed: a.jpg (cannot read file: ENOENT)', …, '… and 7 more (see the error column of photo-predictions.csv)']
 */
export function failedPhotoLines(records: readonly PhotoRecord[], shown = 5): string[] {
  const failed = records.filter((r) => r.error !== null);
  const lines = failed.slice(0, shown).map((r) => `failed: ${r.file} (${r.error})`);
  if (failed.length > shown) lines.push(`… and ${failed.length - shown} more (see the error column of photo-predictions.csv)`);
  return lines;
}

function decadeBiasWords(b: DecadeBias | null | undefined, reference: PhotoReference | undefined): string {
  if (!b) return `MAE without the by-decade bias: n/a (no decade has ${DECADE_BIAS_MIN_FACES} faces)`;
  const excess = b.maeWithoutExcess === undefined || !reference ? '' : `, ${b.maeWithoutExcess.toFixed(2)} without only the part beyond the reference's (${reference.split} split of ${reference.evaluation})`;
  return `over the ${b.faces} faces in decades with ≥ ${b.minFaces}: MAE ${b.mae.toFixed(2)}, ${b.maeWithout.toFixed(2)} without the by-decade bias${excess}`;
}

/**
 * A short account of a photo evaluation for the terminal.
 * @example for (const line of formatPhotoSummary(summary)) console.log(line);
 */
export function formatPhotoSummary(s: PhotoEvaluationSummary): string[] {
  const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
  const f = (v: number | null, d = 2): string => (v === null ? 'n/a' : v.toFixed(d));
  // the sign of the value as shown: −0.003 reads 0.0, not -0.0
  const signed = (v: number): string => (Math.abs(v).toFixed(1) === '0.0' ? '0.0' : `${v > 0 ? '+' : ''}${v.toFixed(1)}`);
  const decades = s.byDecade.filter((d) => d.count > 0).map((d) => `${d.decade} ${signed(d.meanError!)} (n ${d.count})`);
  return [
    `photos: ${s.photos}${s.failed > 0 ? ` (${s.failed} could not be read or analysed, left out of recall)` : ''}; a face found in ${pct(s.found.share)} (${s.found.count} of ${s.photos - s.failed}); more than one face in ${s.multipleFaces}`,
    `age (faces found): MAE ${f(s.age.mae)}, mean signed error ${f(s.age.meanError)}, CS@5 ${pct(s.age.cs5)}, CS@8 ${pct(s.age.cs8)}; ${decadeBiasWords(s.age.decadeBias, s.reference)}`,
    `gender: accuracy ${pct(s.gender.accuracy)} on ${s.gender.answered} answered faces, coverage ${pct(s.gender.coverage)}`,
    `time per photo: median ${f(s.ms.median, 0)} ms, mean ${f(s.ms.mean, 0)} ms, p90 ${f(s.ms.p90, 0)} ms`,
    `signed age error by decade: ${decades.join(', ')}`,
  ];
}
