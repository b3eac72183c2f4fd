/** Labels as annotated in UTKFace. Gender is the binary label as annotated, not gender identity. */
export const GENDERS = Object.freeze(['male', 'female'] as const);
export type Gender = (typeof GENDERS)[number];
/** What a prediction says about gender: a label, or `'uncertain'` when the model abstains (src/core/gender.ts). */
export type GenderAnswer = Gender | 'uncertain';

export const ETHNICITIES = Object.freeze(['White', 'Black', 'Asian', 'Indian', 'Others'] as const);
export type Ethnicity = (typeof ETHNICITIES)[number];

export interface FaceLabels {
  /** Age in whole years. */
  age: number;
  gender: Gender;
  ethnicity: Ethnicity;
}

export const SPLITS = Object.freeze(['train', 'val', 'test'] as const);
export type SplitName = (typeof SPLITS)[number];

/** What happened to a file during `prepare`. */
export const FILE_STATUSES = Object.freeze([
  'kept',
  'unreadable',
  'invalid-label',
  'duplicate-exact',
  'duplicate-near',
  'conflict',
  'flagged-near',
] as const);
export type FileStatus = (typeof FILE_STATUSES)[number];

/** One row of the workspace manifest: one input file. */
export interface ManifestRow {
  /** Where the bytes came from: a path, or `archive.zip!/entry/path` for zip entries. */
  source: string;
  /** File name without folders (carries the UTKFace labels). */
  name: string;
  size: number;
  sha256: string | null;
  /** 16 hex digits, imagehash bit order. */
  phash: string | null;
  width: number | null;
  height: number | null;
  age: number | null;
  gender: Gender | null;
  ethnicity: Ethnicity | null;
  /** Collection datetime from the name (yyyymmddHHMMSSFFF), when present. */
  datetime: string | null;
  status: FileStatus;
  /** Why the status is what it is (empty for kept files). */
  reason: string;
  /** Duplicate cluster id (connected component over exact + near edges), or null for singletons. */
  cluster: number | null;
  /** For duplicates: the source of the kept representative. */
  duplicateOf: string | null;
  split: SplitName | null;
}

/** A prediction for one face. */
export interface AgeGenderPrediction {
  /** Expected age in years. */
  age: number;
  /** Central 80% interval of the predicted age distribution, in years. */
  ageInterval: [number, number];
  /**
   * The more likely label, or `'uncertain'` when its probability is below the gender threshold
   * (`model.genderThreshold`, src/core/gender.ts).
   */
  gender: GenderAnswer;
  /** Probability of the more likely gender label (0.5–1), also when the answer is `'uncertain'`. */
  genderProbability: number;
  /** Probability of the `female` label (0–1), for calibration and AUC. */
  femaleProbability: number;
}
