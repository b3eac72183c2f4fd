/**
 * `train(options)`: the whole recipe behind `agegender train`.
 *
 *  1. Read the workspace manifest (train / val / test splits from `agegender prepare`).
 *  2. Feature cache: run the frozen stem once per image (and its mirror), store the activation at
 *     the cut point + pooled stage features on disk (see featureCache.ts).
 *  3. Stage 1: encoder frozen; the two heads train on [frozen top output ‖ pooled features].
 *  4. Stage 2: the blocks after the cut point (by default `cutPoint: 'conv128_2'`, the whole conv256
 *     stage; from conv256_1 or conv256_2 on with 'conv256_down' / 'conv256_1') are unfrozen and
 *     trained with the heads from the cached cut activations, a random cached copy per sample (the
 *     original or its mirror; with `jitter`, also two rotated/zoomed/shifted/relit copies, see jitter.ts).
 *  5. Best epoch on val is saved as one network (model.json + weights.bin + metadata.json), then
 *     the saved folder is scored once on val and test with the project's evaluator.
 *
 * Every epoch writes a checkpoint; `resume: true` continues from the last one after a kill.
 *
 * @example
 *   await train({ workspace: 'workspace/utk', out: 'models/default', epochs: 4 });
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../core/errors.js';
import { binaryCounts, classificationMetrics, cumulativeScore, mae as maeOf } from '../eval/metrics.js';
import { deriveSeed, mulberry32, shuffleInPlace } from '../core/random.js';
import type { ManifestRow, SplitName } from '../core/types.js';
import { AGE_BINS, ageLabelDistribution, LABEL_SIGMA, labelSigmaAt, MAX_AGE } from '../model/ageBins.js';
import type { ModelMetadata } from '../model/api.js';
import { initBackend, type BackendInfo } from '../model/backend.js';
import { CUT_POINT, CUT_POINTS, cutLayout, ENCODER_ID, FaceRecEncoder, INPUT_SIZE, isCutPoint, loadFaceApiWeights, type CutLayout, type CutPoint } from '../model/encoder.js';
import type { InferenceSettings } from '../model/index.js';
import { chooseInference } from './choose-inference.js';
import { FORMAT_VERSION, LABEL_MAPS, PREPROCESSING, saveModel, topology } from '../model/io.js';
import { AgeGenderNet, HEAD_IN, type NetOutputs } from '../model/net.js';
import { AdamW, cosineLr } from './adamw.js';
import { consoleLogger, earlyStopping, jsonlLogger, nanGuard, type BatchLogs, type EpochLogs, type TrainCallback, type TrainEventName } from './callbacks.js';
import { readState, readTensors, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import { ensureFeatures, readEntry, type ExtractProgress } from './featureCache.js';
import { JITTER_COPIES, JITTER_RANGES, JITTER_VERSION } from './jitter.js';
import { balanceWeights, loadSplits, type TrainItem } from './data.js';

/** Every default of `train`, in one frozen place (CLI help reads these). */
export const TRAIN_DEFAULTS = Object.freeze({
  /** Stage-2 epochs: 6 with the conv128_2 cut (the shipped recipe, chosen on val; 4 was 0.05 years worse). */
  epochs: 6,
  /**
   * Where the frozen stem ends: conv128_2 (fine-tune the whole conv256 stage), conv128_1 (conv128_2
   * too: the shipped model since 2026-12-02 09:05, 0.04 years better on val, stage 2 ≈ 1.3× slower;
   * passed explicitly, the default stays the cheaper cut), conv256_down (conv256_1 onward; ≈ 1.4×
   * faster than conv128_2) or conv256_1 (conv256_2 + conv256_down_out only; ≈ 3.3× faster).
   */
  cutPoint: 'conv128_2' as CutPoint,
  /** Label distribution width σ(age) = labelSigma + labelSigmaSlope · age, in years. */
  labelSigma: LABEL_SIGMA,
  labelSigmaSlope: 0,
  /** Also train on two cached jittered copies of every training chip (jitter.ts). */
  jitter: false,
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
  /** Workspace made by `agegender prepare` (holds manifest.jsonl). */
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
  /** Also train on two cached jittered copies of every training chip (rotation, zoom, shift, lighting; one mirrored). */
  jitter?: boolean;
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
  /** Feature cache folder (default `<workspace>/cache/features`). */
  cacheDir?: string;
  /** Checkpoint folder (default `<workspace>/checkpoints/<basename of out>`). */
  checkpointDir?: string;
  /** JSONL metrics log (default `<checkpointDir>/metrics.jsonl`). */
  metricsLog?: string;
  /** Score the saved model on val and test at the end (default true). */
  score?: boolean;
  /** The command line that started this, recorded in metadata. */
  command?: string;
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

interface Features {
  items: TrainItem[];
  /** The cut the cached activations belong to (their shape and widths). */
  layout: CutLayout;
  /** Items whose cache entry holds a real mirrored variant (the others repeat the original). */
  mirroredCount: number;
  /** Copies per item: 1 (val: the original), 2 (original, mirror) or 4 (+ two jittered copies). */
  copies: number;
  /** N × copies × layout.cutSize float16 bits (orig, mirror[, jitter 0, jitter 1]). */
  cut: Uint16Array;
  /** N × copies × layout.pooledDim. */
  pooled: Float32Array;
  ages: Float32Array;
  female: Float32Array;
  weights: Float32Array;
}

function checkOptions(o: TrainOptions): void {
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
  if (o.labelSigmaSlope !== undefined && !(o.labelSigmaSlope >= 0 && o.labelSigmaSlope <= 1)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected number between 0 and 1 for labelSigmaSlope but received ${String(o.labelSigmaSlope)}`);
  }
}

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

/** Soft targets for every whole age 0…MAX_AGE. */
function labelTable(sigma: number, slope: number): Float32Array[] {
  return Array.from({ length: MAX_AGE + 1 }, (_, a) => ageLabelDistribution(a, labelSigmaAt(a, sigma, slope)));
}
let binsTensor: tf.Tensor1D | null = null;
/** 0…MAX_AGE as a tensor, made after the backend is ready. */
function bins(): tf.Tensor1D {
  binsTensor ??= tf.keep(tf.range(0, AGE_BINS, 1, 'float32'));
  return binsTensor;
}

/**
 * Per-batch losses: age = KL(label distribution ‖ prediction) + |E[age] − age| / ageScale (or one
 * of the two terms, `ageLoss`); gender = cross-entropy (also used by scripts/encoder-probe.ts).
 */
export function taskLosses(out: NetOutputs, ageTarget: tf.Tensor2D, ages: tf.Tensor1D, female: tf.Tensor1D, w: tf.Tensor1D, ageScale: number, ageLoss: AgeLoss = 'kl+l1'): { age: tf.Scalar; gender: tf.Scalar } {
  const logp = tf.logSoftmax(out.ageLogits);
  const kl = (): tf.Tensor1D => tf.sum(tf.mul(ageTarget, tf.sub(tf.log(tf.add(ageTarget, 1e-12)), logp)), 1);
  const l1 = (): tf.Tensor1D => tf.div(tf.abs(tf.sub(tf.sum(tf.mul(tf.exp(logp), bins()), 1), ages)), ageScale);
  const perSample = ageLoss === 'kl' ? kl() : ageLoss === 'l1' ? l1() : tf.add(kl(), l1());
  const lg = tf.logSoftmax(out.genderLogits);
  const ce = tf.neg(tf.add(tf.mul(tf.sub(1, female), tf.squeeze(tf.slice(lg, [0, 0], [-1, 1]), [1])), tf.mul(female, tf.squeeze(tf.slice(lg, [0, 1], [-1, 1]), [1]))));
  const wsum = tf.sum(w);
  return {
    age: tf.div(tf.sum(tf.mul(w, perSample)), wsum) as tf.Scalar,
    gender: tf.div(tf.sum(tf.mul(w, ce)), wsum) as tf.Scalar,
  };
}

/** Reads the cached copies of every item: the original only (`copies` 1), + its mirror (2), + the two jittered copies (4). */
async function loadFeatures(items: TrainItem[], hashes: string[], cacheDir: string, cutPoint: CutPoint, copies: 1 | 2 | 4, weights: Float32Array | null): Promise<Features> {
  const n = items.length;
  const v = copies;
  const layout = cutLayout(cutPoint);
  const { cutSize, pooledDim } = layout;
  const cut = new Uint16Array(n * v * cutSize);
  const pooled = new Float32Array(n * v * pooledDim);
  const { fromHalf } = await import('../model/half.js');
  let mirroredCount = 0;
  for (let i = 0; i < n; i++) {
    const sets = v === 4 ? (['mirror', 'jitter'] as const) : (['mirror'] as const);
    for (const [si, set] of sets.entries()) {
      const entry = await readEntry(cacheDir, hashes[i]!, cutPoint, set);
      const e = entry?.bits;
      if (!e) throw new AgeGenderError('WORKSPACE_INVALID', `feature cache entry (${set}) vanished`, { subject: items[i]!.source });
      if (set === 'mirror' && entry.mirrored) mirroredCount++;
      const per = Math.min(v, 2); // copies taken from this entry
      const first = i * v + si * 2;
      cut.set(e.subarray(0, per * cutSize), first * cutSize);
      for (let k = 0; k < per; k++) {
        const base = 2 * cutSize + k * pooledDim;
        for (let j = 0; j < pooledDim; j++) pooled[(first + k) * pooledDim + j] = fromHalf(e[base + j]!);
      }
    }
  }
  return {
    items,
    layout,
    mirroredCount,
    copies: v,
    cut,
    pooled,
    ages: Float32Array.from(items, (it) => it.age),
    female: Float32Array.from(items, (it) => (it.gender === 'female' ? 1 : 0)),
    weights: weights ?? new Float32Array(n).fill(1),
  };
}

function cutBatch(f: Features, idx: readonly number[], variants: readonly number[], v: number): tf.Tensor4D {
  const { cutSize, cutShape } = f.layout;
  const out = new Float32Array(idx.length * cutSize);
  const { decodeHalfInto } = halfMod!;
  for (let b = 0; b < idx.length; b++) {
    const off = (idx[b]! * v + variants[b]!) * cutSize;
    decodeHalfInto(f.cut.subarray(off, off + cutSize), out, b * cutSize);
  }
  return tf.tensor4d(out, [idx.length, ...cutShape]);
}

function pooledBatch(f: Features, idx: readonly number[], variants: readonly number[], v: number): tf.Tensor2D {
  const { pooledDim } = f.layout;
  const out = new Float32Array(idx.length * pooledDim);
  for (let b = 0; b < idx.length; b++) {
    const off = (idx[b]! * v + variants[b]!) * pooledDim;
    out.set(f.pooled.subarray(off, off + pooledDim), b * pooledDim);
  }
  return tf.tensor2d(out, [idx.length, pooledDim]);
}

function targets(f: Features, idx: readonly number[], table: readonly Float32Array[]): { ageTarget: tf.Tensor2D; ages: tf.Tensor1D; female: tf.Tensor1D; w: tf.Tensor1D } {
  const t = new Float32Array(idx.length * AGE_BINS);
  idx.forEach((i, b) => t.set(table[Math.min(MAX_AGE, Math.max(0, Math.round(f.ages[i]!)))]!, b * AGE_BINS));
  return {
    ageTarget: tf.tensor2d(t, [idx.length, AGE_BINS]),
    ages: tf.tensor1d(idx.map((i) => Math.min(MAX_AGE, f.ages[i]!))),
    female: tf.tensor1d(idx.map((i) => f.female[i]!)),
    w: tf.tensor1d(idx.map((i) => f.weights[i]!)),
  };
}

let halfMod: typeof import('../model/half.js') | null = null;

/** Trains, saves and scores a model. See the module comment. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  checkOptions(options);
  halfMod ??= await import('../model/half.js');
  const t0 = Date.now();
  const o = { ...TRAIN_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof TRAIN_DEFAULTS & TrainOptions;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const workspace = resolve(o.workspace);
  const out = resolve(o.out);
  const cacheDir = resolve(o.cacheDir ?? join(workspace, 'cache', 'features'));
  const ckptDir = resolve(o.checkpointDir ?? join(workspace, 'checkpoints', basename(out)));
  const metricsLog = resolve(o.metricsLog ?? join(ckptDir, 'metrics.jsonl'));
  const backend = await initBackend();
  log(`backend: ${backend.backend} (${backend.provider})`);

  // 1. data (validated before anything is written)
  const splits = await loadSplits(workspace, o.limit, o.seed);
  if (splits.train.length === 0 || splits.val.length === 0) {
    throw new AgeGenderError('WORKSPACE_INVALID', `need kept rows in train and val (found ${splits.train.length} / ${splits.val.length})`, { subject: join(workspace, 'manifest.jsonl') });
  }
  let state: CheckpointState | null = null;
  if (o.resume) {
    state = await readState(ckptDir);
    if (!state) log(`no checkpoint in ${ckptDir}: starting from scratch`);
  } else if (existsSync(ckptDir)) {
    await rm(ckptDir, { recursive: true, force: true });
  }
  await mkdir(ckptDir, { recursive: true });
  const callbacks: TrainCallback[] = [nanGuard(), jsonlLogger(metricsLog), consoleLogger(log), ...(o.callbacks ?? [])];
  const emit = async (event: TrainEventName, data: Record<string, unknown>): Promise<void> => {
    for (const cb of callbacks) await cb.onEvent?.(event, data);
  };

  const optionsKey = JSON.stringify({ limit: o.limit ?? null, balance: Boolean(o.balance), seed: o.seed, manifest: splits.manifestHash, epochs: o.epochs, stage1Epochs: o.stage1Epochs, batchSize: o.batchSize, lr: o.lr, stage1Lr: o.stage1Lr, labelSigma: o.labelSigma, labelSigmaSlope: o.labelSigmaSlope, ...(o.ageLoss !== 'kl+l1' ? { ageLoss: o.ageLoss } : {}), ...(o.cutPoint !== CUT_POINT ? { cutPoint: o.cutPoint } : {}), ...(o.jitter ? { jitter: JITTER_VERSION } : {}) });
  const labels = labelTable(o.labelSigma, o.labelSigmaSlope);
  if (state && state.optionsKey !== optionsKey) {
    throw new AgeGenderError('INVALID_ARGUMENT', 'the checkpoint was made with other options or another manifest; rerun without --resume', { subject: join(ckptDir, 'state.json') });
  }
  for (const cb of callbacks) await cb.onTrainBegin?.({ trainCount: splits.train.length, valCount: splits.val.length });

  // 2. feature cache
  const tExtract = Date.now();
  const faceApi = await loadFaceApiWeights();
  const extractor = new FaceRecEncoder(faceApi, { cutPoint: o.cutPoint });
  let lastEmit = 0;
  const all = [...splits.train, ...splits.val];
  let emitted: Promise<void> = Promise.resolve(); // progress events in order, without waiting for each
  const progress = (variants: string) => (p: ExtractProgress): void => {
    if (p.done - lastEmit >= 1000 || (p.done === p.total && lastEmit !== p.total)) {
      lastEmit = p.done;
      const data = { variants, done: p.done, total: p.total, computed: p.computed, seconds: (Date.now() - tExtract) / 1000 };
      emitted = emitted.then(() => emit('extract', data));
    }
  };
  const hashes = await ensureFeatures(extractor, all, cacheDir, { onProgress: progress('mirror') });
  if (o.jitter) {
    lastEmit = 0;
    await ensureFeatures(extractor, splits.train.map((it, i) => ({ source: it.source, hash: hashes[i]! })), cacheDir, { variants: 'jitter', onProgress: progress('jitter') });
  }
  await emitted;
  extractor.dispose();
  const extractSeconds = (Date.now() - tExtract) / 1000;
  const trainW = o.balance ? balanceWeights(splits.train) : null;
  const tr = await loadFeatures(splits.train, hashes.slice(0, splits.train.length), cacheDir, o.cutPoint, o.jitter ? 4 : 2, trainW);
  const va = await loadFeatures(splits.val, hashes.slice(splits.train.length), cacheDir, o.cutPoint, 1, null);
  const ageMean = tr.ages.reduce((a, b) => a + b, 0) / tr.ages.length;
  const ageScale = Math.max(1, Math.sqrt(tr.ages.reduce((a, b) => a + (b - ageMean) ** 2, 0) / tr.ages.length));
  log(`features ready: ${tr.items.length} train (${tr.mirroredCount} with a mirrored variant${o.jitter ? ', all with 2 jittered copies' : ''}), ${va.items.length} val in ${extractSeconds.toFixed(1)}s`);

  // 3. network + task-uncertainty weights (Kendall et al.): L = Σ exp(−s_t)·L_t + s_t
  const net = new AgeGenderNet(faceApi, { trainableTop: true, seed: o.seed, cutPoint: o.cutPoint });
  for (const t of Object.values(faceApi)) t.dispose();
  const logVars = { age: tf.variable(tf.scalar(0), true), gender: tf.variable(tf.scalar(0), true) };
  // stable names for optimizer state in checkpoints (tfjs variable names differ between processes)
  const stableNames = new Map<tf.Variable, string>([...net.namedWeights().map((w) => [w.tensor as tf.Variable, w.name] as const), [logVars.age, 'train/s_age'], [logVars.gender, 'train/s_gender']]);
  const topPrefixes = net.encoder.layout.topBlocks.map((b) => `${b}/`);
  const bestSnapshot = (): Array<{ name: string; tensor: tf.Tensor }> => net.namedWeights().filter((w) => w.name.startsWith('head/') || topPrefixes.some((p) => w.name.startsWith(p))).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
  let best = bestSnapshot();
  let bestValMae = state?.bestValMae ?? Infinity;
  let bestEpoch = state?.bestEpoch ?? 0;
  const history: Array<Record<string, unknown>> = state?.history ?? [];
  const elapsed: Record<string, number> = { ...(state?.elapsedSeconds ?? {}), extract: (state?.elapsedSeconds['extract'] ?? 0) + extractSeconds };
  const assignNamed = (m: tf.NamedTensorMap): void => {
    for (const [name, t] of Object.entries(m)) {
      const v = net.head.get(name) ?? net.encoder.vars.get(name) ?? (name === 'train/s_age' ? logVars.age : name === 'train/s_gender' ? logVars.gender : undefined);
      if (v) v.assign(t);
    }
  };
  let resumeTensors: tf.NamedTensorMap | null = null;
  if (state) {
    resumeTensors = await readTensors(join(ckptDir, state.folder, 'current'));
    assignNamed(resumeTensors);
    const bestT = await readTensors(join(ckptDir, state.folder, 'best'));
    for (const b of best) b.tensor.dispose();
    best = Object.entries(bestT).map(([name, tensor]) => ({ name, tensor }));
    // a finished stage 1 continues from its best epoch, not its last
    if (state.stage === 1 && state.stage1Done) assignNamed(Object.fromEntries(best.map((w) => [w.name, w.tensor])));
    await emit('resume', { stage: state.stage1Done && state.stage === 1 ? 2 : state.stage, fromEpoch: state.stage1Done && state.stage === 1 ? 1 : state.epoch + 1, stage1Done: state.stage1Done, checkpoint: state.folder });
  }

  const valTargets = targets(va, va.items.map((_, i) => i), labels);
  /** Forward over the val set (original images) → metrics and losses. */
  const validate = async (fromTopFeat: tf.Tensor2D | null): Promise<{ mae: number; cs8: number; acc: number; ageLoss: number; genderLoss: number }> => {
    const n = va.items.length;
    const B = 256;
    const ageE = new Float32Array(n);
    const fem = new Float32Array(n);
    let ageL = 0;
    let genL = 0;
    for (let s = 0; s < n; s += B) {
      const idx = Array.from({ length: Math.min(B, n - s) }, (_, k) => s + k);
      const zeros = idx.map(() => 0);
      const res = tf.tidy(() => {
        const outp = fromTopFeat
          ? net.headForward(tf.concat([tf.slice(fromTopFeat, [s, 0], [idx.length, va.layout.topDim]), pooledBatch(va, idx, zeros, 1)], 1))
          : net.forwardFromCut(cutBatch(va, idx, zeros, 1), pooledBatch(va, idx, zeros, 1));
        const t = targets(va, idx, labels);
        const l = taskLosses(outp, t.ageTarget, t.ages, t.female, t.w, ageScale, o.ageLoss);
        const e = tf.sum(tf.mul(tf.softmax(outp.ageLogits), bins()), 1);
        const g = tf.squeeze(tf.slice(tf.softmax(outp.genderLogits), [0, 1], [-1, 1]), [1]);
        return [e, g, tf.mul(l.age, idx.length), tf.mul(l.gender, idx.length)] as tf.Tensor[];
      });
      const [e, g, la, lgn] = await Promise.all(res.map((t) => t.data()));
      ageE.set(e as Float32Array, s);
      fem.set(g as Float32Array, s);
      ageL += (la as Float32Array)[0]!;
      genL += (lgn as Float32Array)[0]!;
      tf.dispose(res);
    }
    // the evaluator's own metric functions, so the logged val figures mean what the reports' do
    const actual = Array.from(va.ages);
    const predicted = Array.from(ageE);
    const gender = classificationMetrics(binaryCounts(Array.from(va.female, (f) => f === 1), Array.from(fem, (p) => p >= 0.5)));
    return { mae: maeOf(actual, predicted)!, cs8: cumulativeScore(actual, predicted, 8)!, acc: gender.accuracy!, ageLoss: ageL / n, genderLoss: genL / n };
  };

  /** One stage: shuffled epochs, AdamW + cosine, val each epoch, best kept, checkpoint each epoch. */
  const runStage = async (stage: 1 | 2, epochs: number, startEpoch: number, topFeat: { train: tf.Tensor2D; val: tf.Tensor2D } | null): Promise<void> => {
    const batch = stage === 1 ? o.stage1BatchSize : o.batchSize;
    const maxLr = stage === 1 ? o.stage1Lr : o.lr;
    const { top, head } = net.trainableVariables();
    const groups = [
      { vars: [...head], lrScale: 1, weightDecay: o.weightDecay },
      { vars: [logVars.age, logVars.gender], lrScale: 1, weightDecay: 0 },
      ...(stage === 2 ? [{ vars: top, lrScale: o.topLrScale, weightDecay: o.weightDecay }] : []),
    ];
    const opt = new AdamW(groups, {}, stableNames);
    const varList = groups.flatMap((g) => g.vars);
    if (resumeTensors && state && state.stage === stage && !(stage === 1 && state.stage1Done)) {
      opt.loadState(resumeTensors, state.optimizerStep);
    }
    const n = tr.items.length;
    const steps = Math.ceil(n / batch);
    const total = steps * epochs;
    for (const cb of callbacks) await cb.onStageBegin?.({ stage, epochs, startEpoch, trainCount: n, valCount: va.items.length });
    const tStage = Date.now();
    // seconds this stage already took before a resume (read once: `elapsed` is updated every epoch)
    const stageBase = state && state.stage === stage ? state.elapsedSeconds[`stage${stage}`] ?? 0 : 0;
    for (let epoch = startEpoch; epoch <= epochs; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.({ stage, epoch, epochs });
      const tE = Date.now();
      const rng = mulberry32(deriveSeed(o.seed, `stage${stage}-epoch${epoch}`));
      const order = shuffleInPlace(Array.from({ length: n }, (_, i) => i), rng);
      let sumL = 0;
      let sumA = 0;
      let sumG = 0;
      let lr: number = maxLr;
      for (let b = 0; b < steps; b++) {
        const idx = order.slice(b * batch, (b + 1) * batch);
        // which cached copy each sample trains on (with 2 copies: the same draws as `rng() < 0.5 ? 0 : 1`)
        const variants = idx.map(() => Math.floor(rng() * tr.copies));
        const step = (epoch - 1) * steps + b;
        lr = cosineLr(step, total, maxLr, Math.min(o.warmupSteps, Math.floor(total / 10) + 1));
        const dropSeed = deriveSeed(o.seed, `drop-${stage}-${step}`);
        const t = targets(tr, idx, labels);
        let ageLossT: tf.Scalar | null = null;
        let genLossT: tf.Scalar | null = null;
        const { value, grads } = tf.variableGrads(() => {
          let outp: NetOutputs;
          if (stage === 1 && topFeat) {
            const rows = tf.tensor1d(idx.map((i, k) => i * tr.copies + variants[k]!), 'int32');
            outp = net.headForward(tf.concat([tf.gather(topFeat.train, rows), pooledBatch(tr, idx, variants, tr.copies)], 1), o.dropout, dropSeed);
          } else {
            outp = net.forwardFromCut(cutBatch(tr, idx, variants, tr.copies), pooledBatch(tr, idx, variants, tr.copies), o.dropout, dropSeed);
          }
          const l = taskLosses(outp, t.ageTarget, t.ages, t.female, t.w, ageScale, o.ageLoss);
          ageLossT = tf.keep(l.age);
          genLossT = tf.keep(l.gender);
          return tf.addN([tf.mul(tf.exp(tf.neg(logVars.age)), l.age), logVars.age, tf.mul(tf.exp(tf.neg(logVars.gender)), l.gender), logVars.gender]) as tf.Scalar;
        }, varList);
        opt.apply(grads, lr);
        const [lv, av, gv] = await Promise.all([value.data(), ageLossT!.data(), genLossT!.data()]);
        tf.dispose([value, ageLossT!, genLossT!, t.ageTarget, t.ages, t.female, t.w]);
        tf.dispose(Object.values(grads));
        const logs: BatchLogs = { stage, epoch, batch: b + 1, batches: steps, loss: lv[0]!, ageLoss: av[0]!, genderLoss: gv[0]!, lr };
        sumL += logs.loss * idx.length;
        sumA += logs.ageLoss * idx.length;
        sumG += logs.genderLoss * idx.length;
        for (const cb of callbacks) await cb.onBatchEnd?.(logs);
      }
      const val = await validate(stage === 1 && topFeat ? topFeat.val : null);
      const logs: EpochLogs = {
        stage, epoch, epochs, loss: sumL / n, ageLoss: sumA / n, genderLoss: sumG / n,
        valMae: val.mae, valCs8: val.cs8, valGenderAccuracy: val.acc, valAgeLoss: val.ageLoss, valGenderLoss: val.genderLoss,
        seconds: (Date.now() - tE) / 1000, lr,
      };
      history.push({ ...logs });
      let stop = false;
      for (const cb of callbacks) {
        const r = await cb.onEpochEnd?.(logs);
        if (r && r.stop) stop = true;
      }
      if (val.mae < bestValMae) {
        bestValMae = val.mae;
        bestEpoch = epoch;
        for (const w of best) w.tensor.dispose();
        best = bestSnapshot();
      }
      elapsed[`stage${stage}`] = stageBase + (Date.now() - tStage) / 1000;
      const current = [...net.namedWeights().filter((w) => w.name.startsWith('head/') || top.includes(w.tensor as tf.Variable)), { name: 'train/s_age', tensor: logVars.age as tf.Tensor }, { name: 'train/s_gender', tensor: logVars.gender as tf.Tensor }, ...opt.state()];
      const stageDone = stop || epoch === epochs;
      state = await saveCheckpoint(ckptDir, { stage, epoch, stage1Done: stage === 2 || stageDone, bestValMae, bestEpoch, optimizerStep: opt.step, optionsKey, history, startedAt: state?.startedAt ?? new Date(t0).toISOString(), elapsedSeconds: elapsed }, current, best);
      await emit('checkpoint', { stage, epoch, folder: state.folder });
      if (stageDone) break;
    }
    opt.dispose();
    // restore the best epoch of this stage
    assignNamed(Object.fromEntries(best.map((w) => [w.name, w.tensor])));
    for (const cb of callbacks) await cb.onStageEnd?.({ stage, bestEpoch, bestValMae });
  };

  /**
   * Runs a stage from the epoch after the checkpoint's, with early stopping (primed with the val MAEs
   * of the stage's epochs already run); when a resumed run had finished it, or stopped it early,
   * restores the best weights instead. In stage 2 the first half of the cosine schedule does not
   * count against the patience: its high-learning-rate epochs can worsen val for two epochs running
   * before improving on it (an 8-epoch run was cut off after epoch 3 that way, 2026-12-02).
   */
  const runOrRestore = async (stage: 1 | 2, epochs: number, patience: number, topFeat: { train: tf.Tensor2D; val: tf.Tensor2D } | null): Promise<void> => {
    const start = state && state.stage === stage ? state.epoch + 1 : 1;
    const seen = history.filter((h) => h['stage'] === stage && typeof h['epoch'] === 'number' && typeof h['valMae'] === 'number').map((h) => ({ epoch: h['epoch'] as number, valMae: h['valMae'] as number }));
    const stopper = earlyStopping({ patience, graceEpochs: stage === 2 ? Math.floor(epochs / 2) : 0, seen });
    // finished, or stopped early before the interruption: nothing left to run
    if (start > epochs || stopper.stopped) {
      assignNamed(Object.fromEntries(best.map((w) => [w.name, w.tensor])));
      return;
    }
    callbacks.push(stopper);
    await runStage(stage, epochs, start, topFeat);
    callbacks.pop();
  };

  // stage 1 (skipped when a checkpoint says it is done)
  const stage1Done = state ? state.stage === 2 || state.stage1Done : false;
  if (!stage1Done) {
    const tS1 = Date.now();
    const computeTop = (f: Features, v: number): tf.Tensor2D => {
      const parts: tf.Tensor2D[] = [];
      const n = f.items.length;
      for (let s = 0; s < n; s += 128) {
        const idx = Array.from({ length: Math.min(128, n - s) }, (_, k) => s + k);
        for (let k = 0; k < v; k++) parts.push(tf.tidy(() => net.encoder.top(cutBatch(f, idx, idx.map(() => k), v))));
      }
      // reorder to item-major (i*v + k)
      const out = tf.tidy(() => {
        if (v === 1) return tf.concat(parts, 0);
        const chunks: tf.Tensor2D[] = [];
        for (let c = 0; c < parts.length; c += v) chunks.push(tf.reshape(tf.stack(parts.slice(c, c + v), 1), [-1, f.layout.topDim]));
        return tf.concat(chunks, 0);
      });
      tf.dispose(parts);
      return out;
    };
    const topFeat = { train: computeTop(tr, tr.copies), val: computeTop(va, 1) };
    if (!state) {
      // input standardisation from the training features (original images)
      const stats = tf.tidy(() => {
        const idx = tr.items.map((_, i) => i);
        const feats = tf.concat([tf.gather(topFeat.train, tf.tensor1d(idx.map((i) => i * tr.copies), 'int32')), pooledBatch(tr, idx, idx.map(() => 0), tr.copies)], 1);
        const { mean, variance } = tf.moments(feats, 0);
        return [mean, tf.sqrt(tf.add(variance, 1e-6))];
      });
      net.setStandardisation((await stats[0]!.data()) as Float32Array, (await stats[1]!.data()) as Float32Array);
      tf.dispose(stats);
      for (const b of best) b.tensor.dispose();
      best = bestSnapshot();
    }
    elapsed['topFeatures'] = (Date.now() - tS1) / 1000;
    await runOrRestore(1, o.stage1Epochs, o.stage1Patience, topFeat);
    tf.dispose([topFeat.train, topFeat.val]);
    if (state) state = { ...state, stage1Done: true };
  }
  // stage 2
  if (o.epochs > 0) {
    // bestValMae carries over from stage 1: a fine-tuned epoch is kept only if it beats the frozen-encoder model on val
    await runOrRestore(2, o.epochs, o.patience, null);
  }
  if (resumeTensors) tf.dispose(Object.values(resumeTensors));
  tf.dispose(Object.values(valTargets));

  // 5. save as one network, then score the saved folder
  const metadata: ModelMetadata = {
    formatVersion: FORMAT_VERSION,
    name: basename(out),
    encoder: ENCODER_ID,
    inputSize: INPUT_SIZE,
    createdAt: new Date().toISOString(),
    command: o.command ?? `train(${JSON.stringify({ workspace: o.workspace, out: o.out, epochs: o.epochs, balance: Boolean(o.balance), limit: o.limit ?? null })})`,
    datasetManifestHash: splits.manifestHash,
    metrics: {},
    cutPoint: o.cutPoint,
    preprocessing: PREPROCESSING,
    labelMaps: LABEL_MAPS,
    topology: topology({ sigma: o.labelSigma, slope: o.labelSigmaSlope }, net.encoder.layout),
    headIn: HEAD_IN,
    training: {
      backend: `${backend.backend} (${backend.provider})`,
      seed: o.seed,
      balance: Boolean(o.balance),
      limit: o.limit ?? null,
      trainCount: tr.items.length,
      trainWithMirror: tr.mirroredCount,
      trainJitteredCopies: o.jitter ? JITTER_COPIES : 0,
      valCount: va.items.length,
      bestEpoch,
      bestValMaeFromCache: bestValMae,
      history,
      options: { epochs: o.epochs, cutPoint: o.cutPoint, jitter: o.jitter ? { version: JITTER_VERSION, copies: JITTER_COPIES, ranges: JITTER_RANGES } : false, stage1Epochs: o.stage1Epochs, batchSize: o.batchSize, lr: o.lr, stage1Lr: o.stage1Lr, topLrScale: o.topLrScale, weightDecay: o.weightDecay, dropout: o.dropout, patience: o.patience, labelSigma: o.labelSigma, labelSigmaSlope: o.labelSigmaSlope, ageLoss: o.ageLoss },
      loss: `age: ${ageLossText(o.ageLoss, labelWidthText(o.labelSigma, o.labelSigmaSlope))}; gender: 2-class cross-entropy; combined with learned task-uncertainty weights`,
      finalTaskLogVariances: { age: (await logVars.age.data())[0], gender: (await logVars.gender.data())[0] },
    },
    licences: {
      encoderWeights: '@vladmandic/face-api face_recognition_model (MIT); originally dlib ResNet face recognition model',
      trainingData: 'UTKFace: non-commercial research use only',
    },
  };
  const tSave = Date.now();
  await saveModel(net, out, metadata, { sigma: o.labelSigma, slope: o.labelSigmaSlope });
  net.dispose();
  tf.dispose([logVars.age, logVars.gender]);
  for (const w of best) w.tensor.dispose();
  elapsed['save'] = (Date.now() - tSave) / 1000;

  let metrics: Record<string, unknown> = {};
  let inference: InferenceSettings | undefined;
  if (o.score ?? true) {
    const tScore = Date.now();
    const rowsFor = (items: TrainItem[], split: SplitName): ManifestRow[] =>
      items.map((it) => ({ source: it.source, name: basename(it.source), size: 0, sha256: null, phash: null, width: null, height: null, age: it.age, gender: it.gender, ethnicity: it.ethnicity, datetime: null, status: 'kept', reason: '', cluster: null, duplicateOf: null, split }));
    if (splits.val.length > 0) {
      // inference settings (flip TTA) chosen on val, recorded in the folder; test scored once with them
      const chosen = await chooseInference({ modelDir: out, rows: [...rowsFor(splits.val, 'val'), ...rowsFor(splits.test, 'test')], command: metadata.command, log });
      metrics = chosen.metrics;
      inference = chosen.chosen;
    }
    elapsed['score'] = (Date.now() - tScore) / 1000;
  }
  elapsed['total'] = (Date.now() - t0) / 1000; // this process
  elapsed['sinceFirstStart'] = (Date.now() - Date.parse(state?.startedAt ?? new Date(t0).toISOString())) / 1000; // across resumes
  metrics['timingsSeconds'] = elapsed;
  const final = { ...metadata, ...(inference ? { inference } : {}), metrics };
  const { writeJsonAtomic } = await import('../core/atomic.js');
  await writeJsonAtomic(join(out, 'metadata.json'), final);
  await writeJsonAtomic(join(out, 'metrics.json'), metrics);
  for (const cb of callbacks) await cb.onTrainEnd?.({ out, metrics });
  await emit('trainEnd', { out, metrics });
  return { out, backend, metrics, timings: elapsed, bestEpoch };
}
