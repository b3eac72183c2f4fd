import { ETHNICITIES, GENDERS, type FaceLabels } from '../core/types.js';

export const MAX_AGE = 120;

export type LabelParse =
  | { ok: true; labels: FaceLabels; datetime: string | null }
  | { ok: false; reason: string };

// The datetime's trailing dot is sometimes missing in the wild (`…357jpg.chip.jpg`): the labels are still readable.
const NAME_PATTERN = /^(\d+)_(\d+)_(\d+)_(\d+)\.?jpg\.chip\.jpg$/i;
const EXPECTED_NAME = '<age>_<gender>_<race>_<datetime>.jpg.chip.jpg';
const FIELD_NAMES = ['age', 'gender', 'race', 'datetime'] as const;

/** Why a name does not match {@link NAME_PATTERN}: the field count, the first field that is not a number, or the ending. */
function malformedReason(name: string): string {
  const dot = name.indexOf('.');
  const fields = (dot < 0 ? name : name.slice(0, dot)).split('_');
  const ending = dot < 0 ? '' : name.slice(dot);
  const bad = fields.findIndex((f, k) => !(k === 3 ? /^\d+(jpg)?$/i : /^\d+$/).test(f));
  let why: string;
  if (fields.length < 4) why = `found ${fields.length} of 4 fields`;
  else if (fields.length > 4) why = `found ${fields.length} fields, not 4`;
  else if (bad >= 0) why = `${FIELD_NAMES[bad]} "${fields[bad]}" is not a whole number`;
  else why = ending === '' ? 'no ".jpg.chip.jpg" ending' : `it ends in "${ending}", not ".jpg.chip.jpg"`;
  return `name does not match ${EXPECTED_NAME} (${why})`;
}

/**
 * Parses UTKFace labels from a file name `<age>_<gender>_<race>_<datetime>.jpg.chip.jpg`.
 * Returns a reason instead of throwing: malformed names are data, not crashes.
 * @example parseUtkName('26_1_2_20170116174525125.jpg.chip.jpg') // { ok: true, labels: { age: 26, gender: 'female', ethnicity: 'Asian' }, ... }
 */
export function parseUtkName(name: string): LabelParse {
  const match = NAME_PATTERN.exec(name);
  if (!match) return { ok: false, reason: malformedReason(name) };
  const age = Number(match[1]);
  const gender = Number(match[2]);
  const race = Number(match[3]);
  if (age < 1 || age > MAX_AGE) return { ok: false, reason: `age ${age} is outside 1–${MAX_AGE}` };
  if (gender > 1) return { ok: false, reason: `gender ${gender} is not 0 (male) or 1 (female)` };
  if (race > 4) return { ok: false, reason: `race ${race} is not one of 0–4` };
  return {
    ok: true,
    labels: { age, gender: GENDERS[gender]!, ethnicity: ETHNICITIES[race]! },
    datetime: match[4] ?? null,
  };
}

/** Age buckets used for stratification and slicing. */
export const AGE_BUCKETS = Object.freeze([
  { name: '0-2', min: 0, max: 2 },
  { name: '3-9', min: 3, max: 9 },
  { name: '10-19', min: 10, max: 19 },
  { name: '20-29', min: 20, max: 29 },
  { name: '30-39', min: 30, max: 39 },
  { name: '40-49', min: 40, max: 49 },
  { name: '50-59', min: 50, max: 59 },
  { name: '60-69', min: 60, max: 69 },
  { name: '70+', min: 70, max: Infinity },
] as const);

export function ageBucket(age: number): string {
  for (const bucket of AGE_BUCKETS) if (age >= bucket.min && age <= bucket.max) return bucket.name;
  return '70+';
}

/** Labels equal in every field (the keep-one policy's notion of "the same labels"). */
export function sameLabels(a: FaceLabels, b: FaceLabels): boolean {
  return a.age === b.age && a.gender === b.gender && a.ethnicity === b.ethnicity;
}

export function formatLabels(l: FaceLabels): string {
  return `${l.age}/${l.gender}/${l.ethnicity}`;
}
