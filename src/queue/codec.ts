/**
 * A job's results as stored in Redis: compact JSON (sources packed as in jobs.ts, each image a
 * tuple), deflated (file names in one job share most of their bytes), decoded back into the `PredictFileResult`s `predictFiles` gave, so `queue results` writes
 * exactly the rows `agegender predict` would.
 *
 * Stored form: `{ d, n, r }` where `r[i]` is `[width, height, faces]` (each face
 * `[x, y, w, h, score, age, ageLow, ageHigh, gender, genderProbability, femaleProbability, quality]`,
 * quality as `[score, detector, landmarkFit, sharpness, exposure]`) or
 * `[null, null, null, code, message]` for a failed image; `t` (only when some photo was found turned)
 * maps an image's index to its `turned`, `f` (only when some photo had faces cut) to its `facesFound`,
 * and `m` (only when some image had a note) to its `note`.
 *
 * @example
 *   const bytes = encodeJobResults(results);
 *   decodeJobResults(bytes); // deep-equals results
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ErrorCode } from '../core/errors.js';
import type { GenderAnswer } from '../core/types.js';
import type { PredictFace, PredictFileResult } from '../pipeline/predict-files.js';
import type { QuarterTurn } from '../pipeline/turn.js';
import { packSources, unpackSources, type PackedSources } from './jobs.js';

type QualityTuple = [number, number | null, number | null, number, number];
type FaceTuple = [number, number, number, number, number | null, number, number, number, GenderAnswer, number, number, QualityTuple];
type ResultTuple = [number | null, number | null, FaceTuple[] | null, ErrorCode?, string?];

interface StoredResults extends PackedSources {
  r: ResultTuple[];
  t?: Record<number, QuarterTurn>;
  f?: Record<number, number>;
  m?: Record<number, string>;
}

function faceTuple(f: PredictFace): FaceTuple {
  const q = f.quality;
  return [f.box.x, f.box.y, f.box.width, f.box.height, f.score, f.age, f.ageInterval[0], f.ageInterval[1], f.gender, f.genderProbability, f.femaleProbability, [q.score, q.detector, q.landmarkFit, q.sharpness, q.exposure]];
}

function faceOf(t: FaceTuple): PredictFace {
  const [x, y, width, height, score, age, low, high, gender, genderProbability, femaleProbability, [q, detector, landmarkFit, sharpness, exposure]] = t;
  return { box: { x, y, width, height }, score, age, ageInterval: [low, high], gender, genderProbability, femaleProbability, quality: { score: q, detector, landmarkFit, sharpness, exposure } };
}

export function encodeJobResults(results: readonly PredictFileResult[]): Buffer {
  const packed = packSources(results.map((r) => r.file));
  const r = results.map((res): ResultTuple => (res.error ? [null, null, null, res.error.code, res.error.message] : [res.width, res.height, res.faces.map(faceTuple)]));
  const turned = results.flatMap((res, i) => (res.turned === undefined ? [] : [[i, res.turned] as const]));
  const found = results.flatMap((res, i) => (res.facesFound === undefined ? [] : [[i, res.facesFound] as const]));
  const notes = results.flatMap((res, i) => (res.note === undefined ? [] : [[i, res.note] as const]));
  const extras = { ...(turned.length ? { t: Object.fromEntries(turned) } : {}), ...(found.length ? { f: Object.fromEntries(found) } : {}), ...(notes.length ? { m: Object.fromEntries(notes) } : {}) };
  return deflateRawSync(JSON.stringify({ ...packed, r, ...extras } satisfies StoredResults));
}

export function decodeJobResults(stored: Buffer): PredictFileResult[] {
  return decodeStored(JSON.parse(inflateRawSync(stored).toString('utf8')) as StoredResults);
}

function decodeStored(stored: StoredResults): PredictFileResult[] {
  const files = unpackSources(stored);
  return stored.r.map(([width, height, faces, code, message], i) => ({
    file: files[i]!,
    width,
    height,
    faces: (faces ?? []).map(faceOf),
    ...(stored.t?.[i] === undefined ? {} : { turned: stored.t[i] }),
    ...(stored.f?.[i] === undefined ? {} : { facesFound: stored.f[i] }),
    ...(stored.m?.[i] === undefined ? {} : { note: stored.m[i] }),
    error: code === undefined ? null : { code, message: message ?? '' },
  }));
}

/** Every image of a job failed for one reason (a job out of tries, or not finished yet). */
export function failedResults(sources: readonly string[], code: ErrorCode, message: string): PredictFileResult[] {
  return sources.map((file) => ({ file, width: null, height: null, faces: [], error: { code, message } }));
}
