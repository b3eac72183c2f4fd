/**
 * `train`'s options: the frozen defaults (CLI help reads them), the checks made before any work,
 * the resolved configuration a run uses, and the key a checkpoint must match to be resumed.
 */
import { AgeGenderError } from '../core/errors.js';
import type { BackendInfo } from '../model/backend.js';
import { LABEL_SIGMA } from '../model/ageBins.js';
import { CUT_POINT, CUT_POINTS, isCutPoint, type CutPoint } from '../model/encoder.js';
import type { TrainCallback } from './callbacks.js';
import { JITTER_VERSION } from './jitter.js';
import { PHOTO_AUGMENT_VERSION } from './photo-augment.js';

/** Every default of `train`, in one frozen place (CLI help reads these). */
export const TRAIN_DEFAULTS = Object.freeze({
  /** Stage-2 epochs: 6 (chosen on val with the conv128_2 cut: 4 was 0.05 years worse; the shipped conv128_1-cut model has 6 too). */
  epochs: 6,
  /**
   * Where the frozen stem ends: conv128_2 (fine-tune the whole conv256 stage), conv128_1 (conv128_2
   * too: the shipped model's cut, 0.04 years better on val, stage 2 ≈ 1.3× slower;
   * passed explicitly, the default stays the cheaper cut), conv256_down (conv256_1 onward; ≈ 1.4×
   * faster than conv128_2) or conv256_1 (conv256_2 + conv256_down_out only; ≈ 3.3× faster).
   */
  cutPoint: 'conv128_2' as CutPoint,
  /** Label distribution width σ(age) = labelSigma + labelSigmaSlope · age, in years. */
  labelSigma: LABEL_SIGMA,
  labelSigmaSlope: 0,
  /** Also train on two cached jittered copies of every training chip (jitter.ts). */
  jitter: false,
  /** Also train on two cached photo-like copies of every training chip (photo-augment.ts). */
  photoAugment: false,
  /**
   * Weight of the stage-2 consistency loss between a chip and one of its augmented copies (0: off;
   * needs `jitter` and/or `photoAugment`). With it, a stage-2 step holds `batchSize` / 2 chips, each
   * twice: an epoch costs twice as much.
   */
  consistency: 0,
  /** Age loss (AGE_LOSSES): the distribution's KL plus L1 on the expected value, the shipped choice. */
  ageLoss: 'kl+l1' as AgeLoss,
  stage1Epochs: 30,
  seed: 42,
  batchSize: 64,
  stage1BatchSize: 256,
  lr: 1e-3,
  stage1Lr: 3e-3,
  topLrScale: 0.3,
  weightDecay: 0.01,
  dropout: 0.3,
  patience: 2,
  stage1Patience: 6,
  warmupSteps: 100,
});

/**
 * Age losses `train` can use, all on the same 101-bin softmax read out as its expected value:
 * `kl+l1` = KL(Gaussian label distribution ‖ softmax) + |E[age] − age| / std(train ages) (default);
 * `kl` = the KL term alone (label-distribution learning); `l1` = the L1 term alone (regression on a
 * normalised target through the expected value; the distribution's shape is then unconstrained).
 */
export const AGE_LOSSES = Object.freeze(['kl+l1', 'kl', 'l1'] as const);
export type AgeLoss = (typeof AGE_LOSSES)[number];

export interface TrainOptions {
  /** Workspace made by `agegender prepare` (holds the manifest). */
  workspace: string;
  /** Model folder to write. */
  out: string;
  /** Stage 2 (fine-tuning) epochs (default 6). */
  epochs?: number;
  /** Where the frozen stem ends (default conv128_2: the whole conv256 stage is fine-tuned; conv256_down and conv256_1 freeze one or two blocks more). */
  cutPoint?: CutPoint;
  stage1Epochs?: number;
  resume?: boolean;
  /** Reweight samples by ethnicity × gender × age bucket. */
  balance?: boolean;
  /** Reweight samples so every ethnicity has the training set's age distribution (data.ts `ethnicityAgeWeights`); not with `balance`. */
  ethnicityAgeBalance?: boolean;
  /** Also train on two cached jittered copies of every training chip (rotation, zoom, shift, lighting; one mirrored). */
  jitter?: boolean;
  /** Also train on two cached photo-like copies of every training chip (grayscale, colour cast, blur, low resolution, JPEG, the aligner's geometric error; one mirrored). */
  photoAugment?: boolean;
  /**
   * Weight of a stage-2 consistency loss (default 0, off): every chip of a batch is seen twice, as
   * its original (or mirror) and as one of its augmented copies, and the copy's age distribution and
   * gender are pulled towards the original's (epoch.ts). Needs `jitter` and/or `photoAugment`.
   */
  consistency?: number;
  /** Use at most N training rows (val and test: N/4, at least 8). */
  limit?: number;
  seed?: number;
  batchSize?: number;
  lr?: number;
  stage1Lr?: number;
  /** Age label distribution width at age 0 (years; default 2.5) and its growth per year of age (default 0). */
  labelSigma?: number;
  labelSigmaSlope?: number;
  /** Age loss (default `kl+l1`; see AGE_LOSSES). */
  ageLoss?: AgeLoss;
  weightDecay?: number;
  patience?: number;
  /** Feature cache folder (default: the workspace's feature cache, see workspace/layout.ts). */
  cacheDir?: string;
  /** Checkpoint folder (default: the workspace's checkpoint folder for `out`: its basename plus a short hash of its resolved path). */
  checkpointDir?: string;
  /** JSONL metrics log (default: the checkpoint folder's metrics log). */
  metricsLog?: string;
  /** Score the saved model on val and test at the end (default true). */
  score?: boolean;
  /** The command line that started this, recorded in metadata. */
  command?: string;
  /** This run's own callbacks; they follow the built-in ones (NaN guard, JSONL log, console log). */
  callbacks?: TrainCallback[];
  log?: (line: string) => void;
}

export interface TrainResult {
  out: string;
  backend: BackendInfo;
  metrics: Record<string, unknown>;
  timings: Record<string, number>;
  bestEpoch: number;
}

/** The options a run uses: every default filled in. */
export type TrainConfig = typeof TRAIN_DEFAULTS & TrainOptions;

/** Throws INVALID_ARGUMENT for an option out of range, naming it. */
export function checkOptions(o: TrainOptions): void {
  const int = (v: number | undefined, name: string, min: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) {
      throw new AgeGenderError('INVALID_ARGUMENT', `Expected integer ≥ ${min} for ${name} but received ${String(v)}`);
    }
  };
  int(o.epochs, 'epochs', 0);
  int(o.stage1Epochs, 'stage1Epochs', 0);
  int(o.limit, 'limit', 1);
  int(o.batchSize, 'batchSize', 1);
  int(o.patience, 'patience', 1);
  for (const [name, v] of [['lr', o.lr], ['stage1Lr', o.stage1Lr], ['labelSigma', o.labelSigma]] as const) {
    if (v !== undefined && !(v > 0)) throw new AgeGenderError('INVALID_ARGUMENT', `Expected positive number for ${name} but received ${String(v)}`);
  }
  if (o.cutPoint !== undefined && !isCutPoint(o.cutPoint)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected one of ${CUT_POINTS.join(', ')} for cutPoint but received ${JSON.stringify(o.cutPoint)}`);
  }
  if (o.ageLoss !== undefined && !(AGE_LOSSES as readonly string[]).includes(o.ageLoss)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected one of ${AGE_LOSSES.join(', ')} for ageLoss but received ${JSON.stringify(o.ageLoss)}`);
  }
  if (o.consistency !== undefined && !(Number.isFinite(o.consistency) && o.consistency >= 0)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected number ≥ 0 for consistency but received ${String(o.consistency)}`);
  }
  if (o.consistency && !o.jitter && !o.photoAugment) {
    throw new AgeGenderError('INVALID_ARGUMENT', 'Expected jitter or photoAugment with consistency but received neither: the consistency loss compares a chip with its augmented copies');
  }
  if (o.balance && o.ethnicityAgeBalance) throw new AgeGenderError('INVALID_ARGUMENT', 'Expected at most one of balance and ethnicityAgeBalance but received both');
  if (o.labelSigmaSlope !== undefined && !(o.labelSigmaSlope >= 0 && o.labelSigmaSlope <= 1)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected number between 0 and 1 for labelSigmaSlope but received ${String(o.labelSigmaSlope)}`);
  }
}

/** Checks the options, then fills in every default (an option given as `undefined` takes the default). */
export function resolveOptions(options: TrainOptions): TrainConfig {
  checkOptions(options);
  return { ...TRAIN_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as TrainConfig;
}

/** What a checkpoint records of the options and data; a resume with another key is refused. */
export function resumeKey(o: TrainConfig, manifestHash: string): string {
  return JSON.stringify({
    limit: o.limit ?? null,
    balance: Boolean(o.balance),
    ...(o.ethnicityAgeBalance ? { ethnicityAgeBalance: true } : {}),
    seed: o.seed,
    manifest: manifestHash,
    epochs: o.epochs,
    stage1Epochs: o.stage1Epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    stage1Lr: o.stage1Lr,
    labelSigma: o.labelSigma,
    labelSigmaSlope: o.labelSigmaSlope,
    ...(o.ageLoss !== 'kl+l1' ? { ageLoss: o.ageLoss } : {}),
    ...(o.cutPoint !== CUT_POINT ? { cutPoint: o.cutPoint } : {}),
    ...(o.jitter ? { jitter: JITTER_VERSION } : {}),
    ...(o.photoAugment ? { photoAugment: PHOTO_AUGMENT_VERSION } : {}),
    ...(o.consistency ? { consistency: o.consistency } : {}),
    // library-only options; named only when changed, so the keys of default runs stay as they were
    ...(o.weightDecay !== TRAIN_DEFAULTS.weightDecay ? { weightDecay: o.weightDecay } : {}),
    ...(o.patience !== TRAIN_DEFAULTS.patience ? { patience: o.patience } : {}),
  });
}
