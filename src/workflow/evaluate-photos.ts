/**
 * Score the photo path on a folder of photos with a labels CSV (`file,age,gender`, one labelled face
 * per photo, the All-Age-Faces dev set's format): the library side of
 * `agegender evaluate --photos <dir> --labels <csv> --out <dir>`. Each photo goes through
 * decode → detect → align → predict (or, with `detect: false`, is taken as one chip through the
 * quality gate of `predict --no-detect`: a chip it refuses is a miss); the largest face found is scored. A photo in which no face is found counts as a detection miss; one that cannot be
 * read, decoded or analysed is recorded with its error, left out of detection recall, and the run
 * goes on. Writes `photo-predictions.csv` then `photo-evaluation.json` atomically into `out`. Each
 * photo's record goes to `photo-records.ndjson.partial` there as soon as it is scored, so a run cut
 * short (Ctrl-C, kill -9) continues with `resume: true` (photo-partial.ts).
 *
 * @example
 *   const { summary } = await evaluatePhotos({ photos: 'aaf/photos', labels: 'aaf/labels.csv', out: 'runs/aaf' });
 *   console.log(summary.found.share, summary.age.mae, summary.gender.accuracy, summary.ms.median);
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';
import { AgeGenderError, fsErrorReason, reasonOf } from '../core/errors.js';
import { checkNotInput, checkOutputFile, checkOutputFolder } from '../core/output-path.js';
import { refuseUnfinishedRun, startPartial } from '../core/partial-file.js';
import { photoEvaluationProblem } from '../eval/photo-evaluation-schema.js';
import { parsePhotoLabels, photoRecordsCsv, signedErrorByDecade, summarisePhotos, type PhotoEvaluation, type PhotoLabel, type PhotoRecord, type PhotoReference } from '../eval/photos.js';

export type { PhotoEvaluation } from '../eval/photos.js';
export { photoPartialPath } from './photo-partial.js';
import { decodeImageWithHeader, firstFrameNoteField, readImageFile } from '../io/decode.js';
import type { AgeGenderModel } from '../model/api.js';
import { identityMismatch, modelIdentity, sameNetwork } from '../model/identity.js';
import { readStoredEvaluation, type StoredEvaluation } from '../workspace/evaluation.js';
import { withModel, type ModelSource } from '../model/load.js';
import { ANALYZE_DEFAULTS, analyzeOrNoFaces, PHOTO_MAX_SIDE, type AnalyzedFace } from '../pipeline/analyze.js';
import type { FaceDetector } from '../pipeline/detect.js';
import { checkSameRun, keptRecords, modelKey, photoPartialHeader, photoPartialPath, readPhotoPartial, type PhotoInputsKey, type PhotoRunKey } from './photo-partial.js';

export const PHOTO_EVALUATION_FILES = Object.freeze({ result: 'photo-evaluation.json', predictions: 'photo-predictions.csv' });

export interface EvaluatePhotosOptions extends ModelSource {
  /** Folder holding the photos the labels name. */
  photos: string;
  /** Labels CSV with the columns file,age,gender. */
  labels: string;
  /** Folder to write the result into (created when missing). */
  out: string;
  /** Detect faces (default true); false: every photo is one aligned chip, through the quality gate of `predict --no-detect`. */
  detect?: boolean;
  /** A loaded detector (the caller disposes it; it also gates the chips with `detect: false`); loaded here when none is given. */
  detector?: FaceDetector;
  /** Score only this many photos: every k-th label, so ages and genders keep their spread. */
  limit?: number;
  /**
   * Continue the run that was cut short in `out` from its records so far (`photo-records.ndjson.partial`):
   * the photos scored are kept, those that failed are scored again. Refused when that run had other
   * options (photos, labels, limit, detect, detector, model, gender threshold). Without it, a `.partial`
   * in `out` is refused rather than written over. No `.partial`: a fresh run.
   */
  resume?: boolean;
  /**
   * A chip evaluation folder of the same model (`agegender evaluate --out <dir>`): its signed age error
   * by decade splits the photos' by-decade bias into the model's own regression to the mean and the
   * photo population's shift (`summary.age.decadeBias.maeWithoutExcess`). Read before the model is
   * loaded; INVALID_ARGUMENT when another network (or flip TTA setting) made it.
   */
  reference?: string;
  /** Photos done (those kept from the earlier run included) and how many there are; first called before any is scored. */
  onProgress?: (done: number, total: number) => void;
}

export interface PhotoEvaluationRun {
  result: PhotoEvaluation;
  records: PhotoRecord[];
  files: { result: string; predictions: string };
  /** Photos whose records were kept from the run resumed (not scored again). */
  kept: number;
}

/** `limit` labels spread evenly over the list (every k-th), or all of them. */
export function spreadSubset<T>(items: readonly T[], limit: number | undefined): T[] {
  if (limit === undefined) return [...items];
  if (!Number.isInteger(limit) || limit < 1) throw new AgeGenderError('INVALID_ARGUMENT', `Expected a positive integer for limit but received ${limit}`);
  if (limit >= items.length) return [...items];
  const step = items.length / limit;
  return Array.from({ length: limit }, (_, i) => items[Math.floor(i * step)]!);
}

/** The largest face (by box area): in a labelled single-subject photo, the subject. */
export function largestFace(faces: readonly AnalyzedFace[]): AnalyzedFace | null {
  let best: AnalyzedFace | null = null;
  for (const f of faces) if (!best || f.box.width * f.box.height > best.box.width * best.box.height) best = f;
  return best;
}

/** One photo through the pipeline, timed from reading the file to the prediction. */
async function scorePhoto(model: AgeGenderModel, detector: FaceDetector, detect: boolean, dir: string, label: PhotoLabel): Promise<PhotoRecord> {
  const started = performance.now();
  // a file of several frames or pages is analysed at its first, and its record says so, as predict's
  let note: { note?: string } = {};
  const path = join(dir, label.file);
  try {
    const bytes = await readImageFile(path, label.file);
    const { image, header } = await decodeImageWithHeader(bytes, label.file, detect ? { maxSide: PHOTO_MAX_SIDE } : {});
    note = firstFrameNoteField(header);
    // with detect off the quality gate still runs (the detector confirms a face filling the chip), as in predict --no-detect
    const { faces } = await analyzeOrNoFaces(model, detector, image, { detect });
    const ms = performance.now() - started;
    const face = largestFace(faces);
    const p = face?.prediction ?? null;
    return { ...label, faces: faces.length, predictedAge: p?.age ?? null, femaleProbability: p?.femaleProbability ?? null, predictedGender: p ? String(p.gender) : null, ms, ...note, error: null };
  } catch (error) {
    // a missing photo names where it was looked for: a wrong --photos, or labels naming files from elsewhere, shows at once
    const missing = error instanceof AgeGenderError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    return { ...label, faces: 0, predictedAge: null, femaleProbability: null, predictedGender: null, ms: null, ...note, error: missing ? `${reasonOf(error)} (looked for ${path})` : reasonOf(error) };
  }
}

/** UNREADABLE_FILE when the photo folder cannot be read, INVALID_ARGUMENT when it is not a folder. */
async function checkPhotoFolder(path: string): Promise<void> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (cause) {
    throw new AgeGenderError('UNREADABLE_FILE', `cannot read the photo folder: ${fsErrorReason(cause)}`, { subject: path, cause });
  }
  if (!isFolder) throw new AgeGenderError('INVALID_ARGUMENT', 'Expected a folder of photos but this is a file', { subject: path });
}

/** The labels file's text; UNREADABLE_FILE, or INVALID_ARGUMENT when it is a folder, naming it. */
async function readLabelsText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EISDIR') throw new AgeGenderError('INVALID_ARGUMENT', 'Expected a labels CSV file but this is a folder', { subject: path, cause });
    throw new AgeGenderError('UNREADABLE_FILE', `cannot read the labels file: ${fsErrorReason(cause)}`, { subject: path, cause });
  }
}

/** Where a run writes, each checked before any work (see {@link evaluatePhotos}). */
async function checkedOutputs(outDir: string, labelsPath: string): Promise<{ files: PhotoEvaluationRun['files']; partial: string }> {
  const out = await checkOutputFolder(outDir);
  const files = { result: join(out, PHOTO_EVALUATION_FILES.result), predictions: join(out, PHOTO_EVALUATION_FILES.predictions) };
  const partial = photoPartialPath(out);
  // a folder where a file goes is refused now, not after every photo is scored; so is the labels file
  // (a photo-predictions.csv from an earlier run has the columns file,age,gender: it can be the labels)
  for (const file of [files.predictions, files.result, partial]) {
    await checkOutputFile(file);
    await checkNotInput(file, labelsPath, 'labels file');
  }
  return { files, partial };
}

/** Scores the labels not in `kept`, appending each record to the `.partial` as it is done; every record, in label order. */
async function scoreLabels(model: AgeGenderModel, detector: FaceDetector, run: { key: PhotoRunKey; labels: readonly PhotoLabel[]; kept: ReadonlyMap<string, PhotoRecord>; partial: string }, options: EvaluatePhotosOptions): Promise<PhotoRecord[]> {
  const { key, labels, kept, partial } = run;
  const writer = await startPartial(partial, [photoPartialHeader(key), ...[...kept.values()].map((r) => JSON.stringify(r))]);
  const scored = new Map<string, PhotoRecord>();
  try {
    options.onProgress?.(kept.size, labels.length);
    for (const label of labels) {
      if (kept.has(label.file)) continue;
      const record = await scorePhoto(model, detector, key.detect, key.photos, label);
      scored.set(label.file, record);
      await writer.append(`${JSON.stringify(record)}\n`); // written before the next photo is scored: a kill loses at most the photo in hand
      options.onProgress?.(kept.size + scored.size, labels.length);
    }
    await writer.finish();
  } finally {
    await writer.close();
  }
  return labels.map((label) => kept.get(label.file) ?? scored.get(label.file)!);
}

/**
 * Scores every labelled photo (or `limit` of them) and writes the result. The records go to
 * `<out>/photo-records.ndjson.partial` as each photo is done; with `resume`, a run cut short
 * continues from it (photo-partial.ts); the `.partial` is removed once the result is written.
 * Errors before any model is loaded: UNREADABLE_FILE / INVALID_ARGUMENT when `photos` is missing or
 * not a folder, UNREADABLE_FILE / INVALID_LABEL for the labels file, INVALID_ARGUMENT when `out` is a
 * file or cannot be written, or holds a folder named as one of the files written, or one of them is
 * the labels file, or when a `.partial` is there and `resume` is not set, or it was made with other
 * options (checked again once the model is loaded: another model or gender threshold is refused too);
 * UNREADABLE_FILE / INVALID_ARGUMENT for a `reference` folder without a readable evaluation (and, once
 * the model is loaded, INVALID_ARGUMENT when another model made it).
 */
export async function evaluatePhotos(options: EvaluatePhotosOptions): Promise<PhotoEvaluationRun> {
  const photos = resolve(options.photos);
  const labelsPath = resolve(options.labels);
  await checkPhotoFolder(photos);
  const labelsText = await readLabelsText(labelsPath);
  const labels = spreadSubset(parsePhotoLabels(labelsText, labelsPath), options.limit);
  const { files, partial } = await checkedOutputs(options.out, labelsPath);
  const detect = options.detect ?? true;
  const resume = options.resume ?? false;
  refuseUnfinishedRun(partial, resume);
  const inputsKey: PhotoInputsKey = { photos, labels: labelsPath, labelsSha256: createHash('sha256').update(labelsText).digest('hex'), limit: options.limit ?? null, detect };
  const earlier = resume && existsSync(partial) ? await readPhotoPartial(partial) : null;
  if (earlier) checkSameRun(earlier.run, inputsKey, partial);
  const reference = options.reference === undefined ? null : { dir: resolve(options.reference), stored: await readStoredEvaluation(resolve(options.reference)) };
  return withModel(options, async (model) => {
    const byDecade = reference ? referenceByDecade(reference.dir, reference.stored, model) : undefined;
    const detector = options.detector ?? (await (await import('../pipeline/detect.js')).loadFaceDetector());
    let records: PhotoRecord[];
    let kept = 0;
    try {
      const key: PhotoRunKey = { ...inputsKey, ...modelKey(modelIdentity(model), detector.name) };
      if (earlier) checkSameRun(earlier.run, key, partial);
      const keep = keptRecords(earlier, labels);
      kept = keep.size;
      records = await scoreLabels(model, detector, { key, labels, kept: keep, partial }, options);
    } finally {
      if (!options.detector) detector.dispose();
    }
    const result: PhotoEvaluation = {
      photos,
      labels: labelsPath,
      model: model.metadata.name,
      modelIdentity: modelIdentity(model),
      runtime: model.runtime,
      detector: detect ? detector.name : null,
      alignment: detect ? ANALYZE_DEFAULTS.align : null,
      createdAt: new Date().toISOString(),
      summary: summarisePhotos(records, byDecade),
    };
    await writeFileAtomic(files.predictions, photoRecordsCsv(records));
    await writeJsonAtomic(files.result, result);
    await rm(partial, { force: true });
    return { result, records, files, kept };
  });
}

/** The reference's signed age error by decade; INVALID_ARGUMENT naming the folder when another network or flip TTA setting made it. */
function referenceByDecade(dir: string, stored: StoredEvaluation, model: AgeGenderModel): PhotoReference {
  const recorded = stored.result.model;
  const current = modelIdentity(model);
  if (!recorded || !sameNetwork(recorded, current) || (recorded.flipTta ?? null) !== current.flipTta) {
    const tta = (flipTta: boolean | null | undefined): string => (flipTta === null || flipTta === undefined ? '' : `, flip TTA ${flipTta ? 'on' : 'off'}`);
    const what = recorded ? `model ${recorded.name} (created ${recorded.createdAt}${tta(recorded.flipTta)})` : 'an unnamed model';
    throw new AgeGenderError('INVALID_ARGUMENT', `the reference evaluation was made by ${what}, not by the model evaluated now (${current.name}, created ${current.createdAt}${tta(current.flipTta)}): its by-decade error says nothing about this one`, { subject: dir });
  }
  const actual = stored.records.map((r) => r.age);
  return { evaluation: dir, split: String(stored.result.split), byDecade: signedErrorByDecade(actual, stored.records.map((r) => r.predictedAge)) };
}

/**
 * A `photo-evaluation.json` read back (for the report's model card). Errors name the file:
 * UNREADABLE_FILE when it cannot be read, INVALID_ARGUMENT when it is not a photo evaluation.
 */
export async function readPhotoEvaluation(path: string): Promise<PhotoEvaluation> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AgeGenderError('UNREADABLE_FILE', `cannot read the photo evaluation: ${fsErrorReason(cause)}`, { subject: path, cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new AgeGenderError('INVALID_ARGUMENT', 'Expected a photo-evaluation.json written by `agegender evaluate --photos` but the file is not JSON', { subject: path, cause });
  }
  const problem = photoEvaluationProblem(value);
  if (problem) throw new AgeGenderError('INVALID_ARGUMENT', `Expected a photo-evaluation.json written by \`agegender evaluate --photos\` but ${problem}`, { subject: path });
  return value as PhotoEvaluation;
}

/**
 * Checks that a photo evaluation describes `model` before a report quotes it. Throws
 * INVALID_ARGUMENT naming `path` when it was made by another model (name, creation time or weights);
 * returns a warning (else null) when the network matches but flip TTA or the gender threshold
 * differ, or the file does not record them.
 */
export function checkPhotoEvaluationModel(photos: PhotoEvaluation, model: AgeGenderModel, path: string): string | null {
  const current = modelIdentity(model);
  const recorded = photos.modelIdentity;
  if (!recorded) {
    if (photos.model !== current.name) throw new AgeGenderError('INVALID_ARGUMENT', `the photo evaluation is of model ${photos.model}, not of ${current.name}, the model being reported`, { subject: path });
    return `${path}: the photo evaluation records only the model's name (${photos.model}), not its weights or gender threshold: its figures may not describe this model`;
  }
  if (!sameNetwork(recorded, current)) {
    const why = identityMismatch(recorded, current) ?? "made with other weights (the model's weights changed)";
    throw new AgeGenderError('INVALID_ARGUMENT', `the photo evaluation does not describe the model being reported: ${why}`, { subject: path });
  }
  const settings = identityMismatch(recorded, current);
  return settings === null ? null : `${path}: the photo evaluation was ${settings}; the model card states the settings its figures were measured with`;
}
