import { mulberry32 } from '../core/random.js';
import { AgeGenderError } from '../core/errors.js';
import { describe, integerInRange, numberInRange, oneOf } from '../core/validate.js';
import type { AgeGenderModel } from '../model/api.js';
import type { RawImage } from '../io/types.js';
import { slic, type Segmentation, type SlicOptions } from './superpixels.js';

export const EXPLAIN_TASKS = Object.freeze(['age', 'gender'] as const);
export type ExplainTask = (typeof EXPLAIN_TASKS)[number];

export const FILL_MODES = Object.freeze(['mean', 'blur'] as const);
/** How hidden superpixels are filled: the image's mean colour, or a strongly blurred copy. */
export type FillMode = (typeof FILL_MODES)[number];

export const LIME_DEFAULTS = Object.freeze({
  samples: 1000,
  seed: 1,
  batchSize: 50,
  fill: 'mean' as FillMode,
  kernelWidth: 0.25,
  ridge: 1,
  topK: 5,
});

/** What is being explained: the expected age, or the probability of the predicted gender label. */
export interface ExplainTarget {
  task: ExplainTask;
  /** `age`, `female` or `male` (gender explains the label the model predicted). */
  output: 'age' | 'female' | 'male';
}

export interface LimeOptions {
  task?: ExplainTask;
  /** Perturbed images (default 1000; the first is the unperturbed image). */
  samples?: number;
  /** Seed of the on/off masks. */
  seed?: number;
  batchSize?: number;
  fill?: FillMode;
  /** Width of the exponential kernel over cosine distance (default 0.25, as in the lime package). */
  kernelWidth?: number;
  /** Ridge penalty (default 1, as in the lime package). */
  ridge?: number;
  topK?: number;
  /** A precomputed segmentation (shared across seeds when measuring stability). */
  segmentation?: Segmentation;
  slic?: SlicOptions;
  /** Stops the run between batches once aborted (rejecting with the signal's reason), e.g. at a request's deadline. */
  signal?: AbortSignal;
}

export interface LimeExplanation {
  target: ExplainTarget;
  /** Model output on the unperturbed image. */
  baseline: number;
  segmentation: Segmentation;
  /** Per-superpixel weight: change in the output when the superpixel is shown (vs hidden). */
  weights: Float64Array;
  intercept: number;
  /** Weighted R² of the local linear model on its samples. */
  r2: number;
  /** Top-k superpixels by |weight|, strongest first. */
  top: number[];
  samples: number;
  seed: number;
}

/** The explained output for a batch of images. */
export async function scoreTarget(model: AgeGenderModel, images: readonly RawImage[], target: ExplainTarget): Promise<number[]> {
  const scores = await model.scoreRaw(images);
  return scores.map((s) => (target.output === 'age' ? s.age : target.output === 'female' ? s.femaleProbability : 1 - s.femaleProbability));
}

/** Decides what to explain from the model's output on the unperturbed image. */
export async function resolveTarget(model: AgeGenderModel, image: RawImage, task: ExplainTask): Promise<{ target: ExplainTarget; baseline: number }> {
  const [s] = await model.scoreRaw([image]);
  if (!s) throw new AgeGenderError('MODEL_INVALID', 'scoreRaw returned no score for the image');
  if (task === 'age') return { target: { task, output: 'age' }, baseline: s.age };
  const female = s.femaleProbability >= 0.5;
  return { target: { task, output: female ? 'female' : 'male' }, baseline: female ? s.femaleProbability : 1 - s.femaleProbability };
}

/** The image used where superpixels are hidden. */
export function fillImage(image: RawImage, mode: FillMode): Uint8Array {
  const n = image.width * image.height;
  const out = new Uint8Array(n * 3);
  if (mode === 'mean') {
    const sum = [0, 0, 0];
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) sum[c]! += image.data[i * 3 + c]!;
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(sum[c]! / n);
    return out;
  }
  // three box-blur passes ≈ a Gaussian with σ ≈ radius
  const radius = Math.max(2, Math.round(Math.min(image.width, image.height) / 20));
  let src: Float32Array = Float32Array.from(image.data);
  for (let pass = 0; pass < 3; pass++) {
    src = boxBlur(src, image.width, image.height, radius, true);
    src = boxBlur(src, image.width, image.height, radius, false);
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.round(src[i]!);
  return out;
}

function boxBlur(src: Float32Array, w: number, h: number, r: number, horizontal: boolean): Float32Array {
  const out = new Float32Array(src.length);
  const [outer, inner] = horizontal ? [h, w] : [w, h];
  const at = (o: number, i: number): number => (horizontal ? o * w + i : i * w + o);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let i = -r; i <= r; i++) sum += src[at(o, Math.min(inner - 1, Math.max(0, i))) * 3 + c]!;
      for (let i = 0; i < inner; i++) {
        out[at(o, i) * 3 + c] = sum / (2 * r + 1);
        sum += src[at(o, Math.min(inner - 1, i + r + 1)) * 3 + c]! - src[at(o, Math.max(0, i - r)) * 3 + c]!;
      }
    }
  }
  return out;
}

/** The image with the superpixels whose mask bit is 0 replaced by `fill`. */
export function perturb(image: RawImage, seg: Segmentation, mask: Uint8Array, fill: Uint8Array): RawImage {
  const data = new Uint8Array(image.data.length);
  const n = image.width * image.height;
  for (let p = 0; p < n; p++) {
    const src = mask[seg.labels[p]!] ? image.data : fill;
    const o = p * 3;
    data[o] = src[o]!;
    data[o + 1] = src[o + 1]!;
    data[o + 2] = src[o + 2]!;
  }
  return { data, width: image.width, height: image.height, channels: 3 };
}

/**
 * Solves the weighted ridge regression y ≈ b + X·β (intercept not penalised) in closed form:
 * centre X and y by their weighted means, then (XcᵀWXc + λI)β = XcᵀWyc by Cholesky.
 * @example weightedRidge([[1],[0]], [3, 1], [1, 1], 0) // { coefficients: [2], intercept: 1 }
 */
export function weightedRidge(
  x: ArrayLike<ArrayLike<number>>,
  y: ArrayLike<number>,
  weights: ArrayLike<number>,
  lambda: number,
): { coefficients: Float64Array; intercept: number; r2: number } {
  const n = y.length;
  const d = n > 0 ? x[0]!.length : 0;
  let wSum = 0;
  const xMean = new Float64Array(d);
  let yMean = 0;
  for (let i = 0; i < n; i++) {
    const wi = weights[i]!;
    wSum += wi;
    yMean += wi * y[i]!;
    for (let j = 0; j < d; j++) xMean[j]! += wi * x[i]![j]!;
  }
  if (wSum <= 0) throw new RangeError('Expected positive total weight in ridge regression');
  yMean /= wSum;
  for (let j = 0; j < d; j++) xMean[j]! /= wSum;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  const xc = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = weights[i]!;
    if (wi === 0) continue;
    for (let j = 0; j < d; j++) xc[j] = x[i]![j]! - xMean[j]!;
    const yc = y[i]! - yMean;
    for (let j = 0; j < d; j++) {
      const wxj = wi * xc[j]!;
      b[j]! += wxj * yc;
      for (let k = 0; k <= j; k++) a[j * d + k]! += wxj * xc[k]!;
    }
  }
  for (let j = 0; j < d; j++) {
    a[j * d + j]! += lambda;
    for (let k = 0; k < j; k++) a[k * d + j] = a[j * d + k]!;
  }
  const coefficients = solveSpd(a, b, d);
  let intercept = yMean;
  for (let j = 0; j < d; j++) intercept -= coefficients[j]! * xMean[j]!;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    let pred = intercept;
    for (let j = 0; j < d; j++) pred += coefficients[j]! * x[i]![j]!;
    ssRes += weights[i]! * (y[i]! - pred) ** 2;
    ssTot += weights[i]! * (y[i]! - yMean) ** 2;
  }
  return { coefficients, intercept, r2: ssTot > 0 ? 1 - ssRes / ssTot : 1 };
}

/** Solves A·x = b for symmetric positive-definite A (d×d, row-major) by Cholesky; a tiny jitter rescues semi-definite A. */
function solveSpd(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) l[i * d + i] = Math.sqrt(Math.max(s, 1e-12));
      else l[i * d + j] = s / l[j * d + j]!;
    }
  }
  const z = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * d + k]! * z[k]!;
    z[i] = s / l[i * d + i]!;
  }
  const out = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < d; k++) s -= l[k * d + i]! * out[k]!;
    out[i] = s / l[i * d + i]!;
  }
  return out;
}

/** Indices of the k largest |values|, strongest first (ties: lower index first). */
export function topByMagnitude(values: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!) || a - b)
    .slice(0, k);
}

/**
 * LIME for one face chip: seeded random on/off superpixel masks, hidden superpixels filled, perturbed
 * images scored in batches through `model.scoreRaw`, samples weighted by an exponential kernel over
 * cosine distance to the unperturbed mask, and a weighted ridge regression whose coefficients are the
 * superpixel importances.
 * @example const ex = await lime(model, chip, { task: 'age', samples: 1000, seed: 1 }); ex.top // [12, 40, …]
 */
export async function lime(model: AgeGenderModel, image: RawImage, options: LimeOptions = {}): Promise<LimeExplanation> {
  const task = oneOf(options.task ?? 'age', 'task', EXPLAIN_TASKS);
  const samples = integerInRange(options.samples ?? LIME_DEFAULTS.samples, 'samples', 10, 100_000);
  const seed = integerInRange(options.seed ?? LIME_DEFAULTS.seed, 'seed', 0, 2 ** 32 - 1);
  const batchSize = integerInRange(options.batchSize ?? LIME_DEFAULTS.batchSize, 'batchSize', 1, 10_000);
  const fill = oneOf(options.fill ?? LIME_DEFAULTS.fill, 'fill', FILL_MODES);
  const kernelWidth = numberInRange(options.kernelWidth ?? LIME_DEFAULTS.kernelWidth, 'kernelWidth', 1e-6, 100);
  const ridge = numberInRange(options.ridge ?? LIME_DEFAULTS.ridge, 'ridge', 0, 1e9);
  const topK = integerInRange(options.topK ?? LIME_DEFAULTS.topK, 'topK', 1, 1000);
  if (image.channels !== 3) throw new AgeGenderError('INVALID_ARGUMENT', `Expected an RGB image (3 channels) but received ${image.channels} channels`);
  const seg = options.segmentation ?? slic(image, options.slic);
  const d = seg.count;
  const { target, baseline } = await resolveTarget(model, image, task);
  const fillData = fillImage(image, fill);

  const rand = mulberry32(seed);
  const masks: Uint8Array[] = [];
  for (let s = 0; s < samples; s++) {
    const mask = new Uint8Array(d);
    for (let j = 0; j < d; j++) mask[j] = s === 0 || rand() < 0.5 ? 1 : 0;
    masks.push(mask);
  }
  const y = new Float64Array(samples);
  for (let start = 0; start < samples; start += batchSize) {
    options.signal?.throwIfAborted();
    const batch = masks.slice(start, start + batchSize).map((m) => perturb(image, seg, m, fillData));
    const scores = await scoreTarget(model, batch, target);
    if (scores.length !== batch.length) throw new AgeGenderError('MODEL_INVALID', `scoreRaw returned ${scores.length} scores for ${batch.length} images`);
    scores.forEach((v, i) => (y[start + i] = v));
  }
  // cosine distance to the all-on mask: 1 − on / sqrt(on · d); kernel sqrt(exp(−dist² / width²))
  const weights = masks.map((m) => {
    let on = 0;
    for (const v of m) on += v;
    const distance = on === 0 ? 1 : 1 - on / Math.sqrt(on * d);
    return Math.sqrt(Math.exp(-(distance * distance) / (kernelWidth * kernelWidth)));
  });
  const fit = weightedRidge(masks, y, weights, ridge);
  return {
    target,
    baseline,
    segmentation: seg,
    weights: fit.coefficients,
    intercept: fit.intercept,
    r2: fit.r2,
    top: topByMagnitude(fit.coefficients, topK),
    samples,
    seed,
  };
}

/** Mean pairwise overlap |A ∩ B| / k of top-k sets. @example topKAgreement([[1,2],[2,1],[1,3]]) // (1 + 0.5 + 0.5) / 3 */
export function topKAgreement(sets: readonly (readonly number[])[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < sets.length; i++)
    for (let j = i + 1; j < sets.length; j++) {
      const a = new Set(sets[i]);
      const k = Math.max(sets[i]!.length, sets[j]!.length);
      let shared = 0;
      for (const v of sets[j]!) if (a.has(v)) shared++;
      sum += k > 0 ? shared / k : 1;
      pairs++;
    }
  return pairs > 0 ? sum / pairs : 1;
}

export interface StabilityResult {
  explanations: LimeExplanation[];
  /** Mean pairwise top-k agreement across seeds (1 = identical top-k sets). */
  agreement: number;
}

/** INVALID_ARGUMENT unless `seeds` is a non-empty array (named `name` in the message). */
export function checkSeeds(seeds: unknown, name: string): readonly number[] {
  if (!Array.isArray(seeds) || seeds.length === 0) throw new AgeGenderError('INVALID_ARGUMENT', `Expected a non-empty array of seeds for ${name} but received ${describe(seeds)}`);
  return seeds as readonly number[];
}

/** Runs LIME with several seeds (at least one) on one shared segmentation and measures top-k agreement. */
export async function limeStability(model: AgeGenderModel, image: RawImage, seeds: readonly number[], options: LimeOptions = {}): Promise<StabilityResult> {
  checkSeeds(seeds, 'seeds');
  const segmentation = options.segmentation ?? slic(image, options.slic);
  const explanations: LimeExplanation[] = [];
  for (const seed of seeds) explanations.push(await lime(model, image, { ...options, seed, segmentation }));
  return { explanations, agreement: topKAgreement(explanations.map((e) => e.top)) };
}
