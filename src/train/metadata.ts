/** The metadata step: what the model folder records about how it was trained. */
import { basename } from 'node:path';
import type { ModelMetadata } from '../model/api.js';
import type { BackendInfo } from '../model/backend.js';
import { ENCODER_ID, INPUT_SIZE } from '../model/encoder.js';
import { FORMAT_VERSION, LABEL_MAPS, PREPROCESSING, topology } from '../model/io.js';
import { HEAD_IN } from '../model/net.js';
import type { SplitItems } from './data.js';
import type { TrainData } from './features.js';
import { JITTER_COPIES, JITTER_RANGES, JITTER_VERSION } from './jitter.js';
import { ALIGNER_ERROR, PHOTO_AUGMENT_COPIES, PHOTO_AUGMENT_VERSION, PHOTO_DEGRADATIONS } from './photo-augment.js';
import type { Learner } from './learner.js';
import type { AgeLoss, TrainConfig } from './options.js';
import type { RunProgress } from './progress.js';

/** σ as written in the metadata: `2.5` or `1.5 + 0.05·age`. */
function labelWidthText(sigma: number, slope: number): string {
  return slope > 0 ? `${sigma} + ${slope}·age` : String(sigma);
}

/** The age loss as written in the metadata. */
function ageLossText(loss: AgeLoss, sigma: string): string {
  const kl = `KL(Gaussian label distribution σ=${sigma} ‖ softmax over 101 bins)`;
  const l1 = '|E[age] − age| / std(train ages)';
  return loss === 'kl' ? kl : loss === 'l1' ? `${l1} (expected value of the softmax over 101 bins)` : `${kl} + ${l1}`;
}

/** The command recorded in the metadata: the given command line, or the `train(...)` call's main options. */
function commandText(o: TrainConfig): string {
  return o.command ?? `train(${JSON.stringify({ workspace: o.workspace, out: o.out, epochs: o.epochs, balance: Boolean(o.balance), limit: o.limit ?? null })})`;
}

/** The recipe's options as recorded (`training.options`). */
function recordedOptions(o: TrainConfig): Record<string, unknown> {
  return {
    epochs: o.epochs,
    cutPoint: o.cutPoint,
    jitter: o.jitter ? { version: JITTER_VERSION, copies: JITTER_COPIES, ranges: JITTER_RANGES } : false,
    photoAugment: o.photoAugment ? { version: PHOTO_AUGMENT_VERSION, copies: PHOTO_AUGMENT_COPIES, degradations: PHOTO_DEGRADATIONS, alignerError: ALIGNER_ERROR } : false,
    consistency: o.consistency,
    stage1Epochs: o.stage1Epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    stage1Lr: o.stage1Lr,
    topLrScale: o.topLrScale,
    weightDecay: o.weightDecay,
    dropout: o.dropout,
    patience: o.patience,
    labelSigma: o.labelSigma,
    labelSigmaSlope: o.labelSigmaSlope,
    ageLoss: o.ageLoss,
  };
}

/**
 * The options that decide what a training run produces, as the metadata records them (`training.seed`,
 * `.balance`, `.ethnicityAgeBalance`, `.limit` and `training.options`). `recordedTrainingOptions` reads
 * the same keys back from a model folder's metadata, so the two can be compared key by key.
 */
export function trainingOptionsToRecord(o: TrainConfig): Record<string, unknown> {
  return { seed: o.seed, balance: Boolean(o.balance), ethnicityAgeBalance: Boolean(o.ethnicityAgeBalance), limit: o.limit ?? null, ...recordedOptions(o) };
}

/** The keys of `trainingOptionsToRecord` as a model's metadata records them (undefined where not recorded). */
export function recordedTrainingOptions(metadata: { training?: Record<string, unknown> }): Record<string, unknown> {
  const t = metadata.training ?? {};
  const options = (t['options'] ?? {}) as Record<string, unknown>;
  return { seed: t['seed'], balance: t['balance'], ethnicityAgeBalance: t['ethnicityAgeBalance'], limit: t['limit'], ...options };
}

export interface MetadataInputs {
  o: TrainConfig;
  /** The model folder. */
  out: string;
  backend: BackendInfo;
  splits: SplitItems;
  data: TrainData;
  learner: Learner;
  progress: RunProgress;
}

/** The model folder's metadata before scoring (`metrics` empty; the score step fills it in). */
export async function trainingMetadata({ o, out, backend, splits, data, learner, progress }: MetadataInputs): Promise<ModelMetadata> {
  return {
    formatVersion: FORMAT_VERSION,
    name: basename(out),
    encoder: ENCODER_ID,
    inputSize: INPUT_SIZE,
    createdAt: new Date().toISOString(),
    command: commandText(o),
    datasetManifestHash: splits.manifestHash,
    metrics: {},
    cutPoint: o.cutPoint,
    preprocessing: PREPROCESSING,
    labelMaps: LABEL_MAPS,
    topology: topology({ sigma: o.labelSigma, slope: o.labelSigmaSlope }, learner.net.encoder.layout),
    headIn: HEAD_IN,
    training: {
      backend: `${backend.backend} (${backend.provider})`,
      seed: o.seed,
      balance: Boolean(o.balance),
      ethnicityAgeBalance: Boolean(o.ethnicityAgeBalance),
      limit: o.limit ?? null,
      trainCount: data.train.items.length,
      trainWithMirror: data.train.mirroredCount,
      trainJitteredCopies: o.jitter ? JITTER_COPIES : 0,
      trainPhotoCopies: o.photoAugment ? PHOTO_AUGMENT_COPIES : 0,
      valCount: data.val.items.length,
      bestEpoch: progress.bestEpoch,
      bestValMaeFromCache: progress.bestValMae,
      history: progress.history,
      options: recordedOptions(o),
      loss: `age: ${ageLossText(o.ageLoss, labelWidthText(o.labelSigma, o.labelSigmaSlope))}; gender: 2-class cross-entropy; ${o.consistency ? `stage 2: + ${o.consistency} × consistency (KL and expected-age L1 of an augmented copy against the chip's own prediction); ` : ''}combined with learned task-uncertainty weights`,
      finalTaskLogVariances: { age: (await learner.logVars.age.data())[0], gender: (await learner.logVars.gender.data())[0] },
    },
    licences: {
      encoderWeights: '@vladmandic/face-api face_recognition_model (MIT); originally dlib ResNet face recognition model',
      trainingData: 'UTKFace: non-commercial research use only',
    },
  };
}
