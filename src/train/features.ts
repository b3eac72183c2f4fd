/**
 * The features step: make sure every train and val chip has a feature cache entry (the frozen stem
 * run once per image and its mirror, plus two jittered copies of training chips with `jitter` and
 * two photo-like copies with `photoAugment`), then read the cached copies into memory (batches.ts
 * cuts batches from them).
 */
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../core/errors.js';
import { cutLayout, FaceRecEncoder, loadFaceApiWeights, type CutPoint } from '../model/encoder.js';
import { fromHalf } from '../model/half.js';
import type { Features } from './batches.js';
import type { CallbackList } from './callbacks.js';
import { balanceWeights, ethnicityAgeWeights, type SplitItems, type TrainItem } from './data.js';
import { ensureFeatures, readEntry, type ExtractProgress, type VariantSet } from './featureCache.js';
import type { TrainConfig } from './options.js';

/** What the stages train and validate on. */
export interface TrainData {
  train: Features;
  val: Features;
  /** The L1 term's scale: the standard deviation of the training ages (at least 1 year). */
  ageScale: number;
}

/** The features step's result; `faceApi` (the encoder's weights, loaded once) goes on to build the network. */
export interface PreparedFeatures {
  data: TrainData;
  faceApi: tf.NamedTensorMap;
  seconds: number;
}

/** The variant sets a training run reads, in the order their copies sit per item. */
export function trainVariantSets(o: { jitter?: boolean; photoAugment?: boolean }): VariantSet[] {
  return ['mirror', ...(o.jitter ? (['jitter'] as const) : []), ...(o.photoAugment ? (['photo'] as const) : [])];
}

/**
 * Reads the cached copies of every item: the original only (`'original'`), or both copies of each
 * variant set in `sets` (the original and its mirror, then e.g. the two jittered or photo-like copies).
 */
export async function loadFeatures(items: TrainItem[], hashes: string[], cacheDir: string, cutPoint: CutPoint, sets: readonly VariantSet[] | 'original', weights: Float32Array | null): Promise<Features> {
  const n = items.length;
  const v = sets === 'original' ? 1 : 2 * sets.length;
  const layout = cutLayout(cutPoint);
  const { cutSize, pooledDim } = layout;
  const cut = new Uint16Array(n * v * cutSize);
  const pooled = new Float32Array(n * v * pooledDim);
  let mirroredCount = 0;
  for (let i = 0; i < n; i++) {
    for (const [si, set] of (sets === 'original' ? (['mirror'] as const) : sets).entries()) {
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

/**
 * Computes the missing cache entries of train + val (and the jittered or photo-like copies of train
 * with `jitter` / `photoAugment`), emitting `extract` progress events every 1000 items and at the
 * end. Returns the content hashes in item order.
 */
async function extract(o: TrainConfig, splits: SplitItems, faceApi: tf.NamedTensorMap, cacheDir: string, callbacks: CallbackList, t0: number): Promise<string[]> {
  const extractor = new FaceRecEncoder(faceApi, { cutPoint: o.cutPoint });
  let lastEmit = 0;
  let emitted: Promise<void> = Promise.resolve(); // progress events in order, without waiting for each
  const progress = (variants: string) => (p: ExtractProgress): void => {
    if (p.done - lastEmit >= 1000 || (p.done === p.total && lastEmit !== p.total)) {
      lastEmit = p.done;
      const data = { variants, done: p.done, total: p.total, computed: p.computed, seconds: (Date.now() - t0) / 1000 };
      emitted = emitted.then(() => callbacks.emit('extract', data));
    }
  };
  const hashes = await ensureFeatures(extractor, [...splits.train, ...splits.val], cacheDir, { onProgress: progress('mirror') });
  for (const set of trainVariantSets(o).filter((s) => s !== 'mirror')) {
    lastEmit = 0;
    await ensureFeatures(extractor, splits.train.map((it, i) => ({ source: it.source, hash: hashes[i]! })), cacheDir, { variants: set, onProgress: progress(set) });
  }
  await emitted;
  extractor.dispose();
  return hashes;
}

/** The features step: cache, then read train (with its mirrors and jittered copies) and val (originals). */
export async function prepareFeatures(o: TrainConfig, splits: SplitItems, cacheDir: string, callbacks: CallbackList, log: (line: string) => void): Promise<PreparedFeatures> {
  const t0 = Date.now();
  const faceApi = await loadFaceApiWeights();
  const hashes = await extract(o, splits, faceApi, cacheDir, callbacks, t0);
  const seconds = (Date.now() - t0) / 1000;
  const trainW = o.balance ? balanceWeights(splits.train) : o.ethnicityAgeBalance ? ethnicityAgeWeights(splits.train) : null;
  const train = await loadFeatures(splits.train, hashes.slice(0, splits.train.length), cacheDir, o.cutPoint, trainVariantSets(o), trainW);
  const val = await loadFeatures(splits.val, hashes.slice(splits.train.length), cacheDir, o.cutPoint, 'original', null);
  const ageMean = train.ages.reduce((a, b) => a + b, 0) / train.ages.length;
  const ageScale = Math.max(1, Math.sqrt(train.ages.reduce((a, b) => a + (b - ageMean) ** 2, 0) / train.ages.length));
  const extra = [o.jitter ? '2 jittered copies' : '', o.photoAugment ? '2 photo-like copies' : ''].filter(Boolean).join(' and ');
  log(`features ready: ${train.items.length} train (${train.mirroredCount} with a mirrored variant${extra ? `, all with ${extra}` : ''}), ${val.items.length} val in ${seconds.toFixed(1)}s`);
  return { data: { train, val, ageScale }, faceApi, seconds };
}
