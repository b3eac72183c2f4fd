/**
 * The face-api face-recognition ResNet (dlib's ResNet-34-style metric net, 150×150 input),
 * rebuilt as plain tfjs ops with its weights as `tf.Variable`s so the top stage can be trained.
 * Weights: `node_modules/@vladmandic/face-api/model/face_recognition_model*` (MIT licence).
 * Preprocessing is face-api's: square-pad (chips are square), bilinear resize to 150×150
 * (alignCorners false), subtract mean RGB [122.782, 117.001, 104.298], divide by 255.
 *
 * The net is split at a cut point: `stem` (frozen; its output is what the feature cache stores)
 * and `top` (the rest of the network, trainable); see {@link cutLayout}.
 *
 * @example
 *   const weights = await loadFaceApiWeights();
 *   const enc = new FaceRecEncoder(weights);
 *   const { cut, pooled } = enc.stem(enc.preprocess(batchUint8));
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../core/errors.js';

/** Stable id of the encoder: part of every cache key and of the model metadata. */
export const ENCODER_ID = 'faceapi-facerec-resnet34@1.7.15';
/**
 * Where the frozen stem ends (the last stem block): `conv256_1` trains conv256_2 + conv256_down_out;
 * `conv256_down` trains conv256_1 as well (train's default, `TRAIN_DEFAULTS.cutPoint`); `conv128_2`
 * trains the whole conv256 stage (conv256_down onward); `conv128_1` trains conv128_2 as well. The
 * first two cut activations are 4×4×256, the last two 8×8×128 (twice the cache); the head input is
 * 736 wide at every cut (see {@link cutLayout}).
 */
export const CUT_POINTS = Object.freeze(['conv256_1', 'conv256_down', 'conv128_2', 'conv128_1'] as const);
export type CutPoint = (typeof CUT_POINTS)[number];
/** The cut of an encoder built without one, and of a model folder whose model.json names none (older folders). */
export const CUT_POINT: CutPoint = 'conv256_1';
/** Whether `value` names a cut point this version knows. */
export function isCutPoint(value: unknown): value is CutPoint {
  return typeof value === 'string' && (CUT_POINTS as readonly string[]).includes(value);
}
export const INPUT_SIZE = 150;
export const MEAN_RGB = Object.freeze([122.782, 117.001, 104.298] as const);
export const PIXEL_DIVISOR = 255;
/** Width of the head input at every cut: GAP of the last block (256) + GAP of conv32_3, conv64_3, conv128_2 and of conv256_down or the last stem block after it (480). */
export const FEATURE_DIM = 256 + 32 + 64 + 128 + 256;

/** Every residual block after conv32_down + max-pool, in order. */
const BLOCKS = Object.freeze(['conv32_1', 'conv32_2', 'conv32_3', 'conv64_down', 'conv64_1', 'conv64_2', 'conv64_3', 'conv128_down', 'conv128_1', 'conv128_2', 'conv256_down', 'conv256_1', 'conv256_2', 'conv256_down_out'] as const);
/** Output height = width of each stage's blocks at the 150×150 input. */
const STAGE_SIDE: Readonly<Record<number, number>> = Object.freeze({ 32: 35, 64: 17, 128: 8, 256: 4 });

/** Channels of a block's output (its stage: conv32_* → 32 …). */
function blockChannels(block: string): number {
  return Number(/^conv(\d+)/.exec(block)![1]);
}

/** How the network splits at a cut point. */
export interface CutLayout {
  cutPoint: CutPoint;
  /** Frozen blocks (their output at the cut is what the feature cache stores). */
  stemBlocks: readonly string[];
  /** The unfrozen blocks (trained from cached activations at the cut point). */
  topBlocks: readonly string[];
  /**
   * Blocks whose global average is part of the head input: the three stage ends and the cut, or
   * conv256_down when the cut comes before it. Those in the stem are cached (`pooledDim` wide);
   * those in the top are pooled by `top()` after the last block's GAP (`topDim` wide in all).
   */
  poolAt: readonly string[];
  /** The activation at the cut, per image (NHWC without batch). */
  cutShape: readonly [number, number, number];
  /** Elements of that activation. */
  cutSize: number;
  /** Width of the stem's pooled features (cached with the cut activation). */
  pooledDim: number;
  /** Width of `top()`'s output. `topDim + pooledDim` = FEATURE_DIM. */
  topDim: number;
}

const layouts = new Map<CutPoint, CutLayout>();

/** The split at `cutPoint` (made once per cut: the feature cache asks for it on every read); throws MODEL_INVALID for a name it does not know. */
export function cutLayout(cutPoint: string = CUT_POINT): CutLayout {
  if (!isCutPoint(cutPoint)) {
    throw new AgeGenderError('MODEL_INVALID', `unknown cut point ${JSON.stringify(cutPoint)} (expected one of ${CUT_POINTS.join(', ')})`);
  }
  let layout = layouts.get(cutPoint);
  if (!layout) layouts.set(cutPoint, (layout = makeLayout(cutPoint)));
  return layout;
}

function makeLayout(cutPoint: CutPoint): CutLayout {
  const at = BLOCKS.indexOf(cutPoint) + 1;
  const stemBlocks: readonly string[] = BLOCKS.slice(0, at);
  const poolAt = ['conv32_3', 'conv64_3', 'conv128_2', stemBlocks.includes('conv256_down') ? cutPoint : 'conv256_down'];
  const width = (blocks: readonly string[]): number => blocks.reduce((sum, b) => sum + blockChannels(b), 0);
  const channels = blockChannels(cutPoint);
  const side = STAGE_SIDE[channels]!;
  return Object.freeze({
    cutPoint,
    stemBlocks: Object.freeze(stemBlocks),
    topBlocks: Object.freeze(BLOCKS.slice(at)),
    poolAt: Object.freeze(poolAt),
    cutShape: Object.freeze([side, side, channels] as const),
    cutSize: side * side * channels,
    pooledDim: width(poolAt.filter((b) => stemBlocks.includes(b))),
    topDim: 256 + width(poolAt.filter((b) => !stemBlocks.includes(b))),
  });
}

/** Path of face-api's face-recognition weights manifest inside node_modules. */
export function faceApiModelDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@vladmandic/face-api/package.json');
  return join(dirname(pkg), 'model');
}

/** Loads a tfjs weights-manifest + .bin pair (any quantization tfjs knows) into named tensors. */
export async function loadWeightsManifest(manifestPath: string): Promise<tf.NamedTensorMap> {
  let manifest: tf.io.WeightsManifestConfig;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as tf.io.WeightsManifestConfig;
  } catch (cause) {
    throw new AgeGenderError('MODEL_INVALID', 'cannot read weights manifest', { subject: manifestPath, cause });
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const file = join(dirname(manifestPath), p);
      try {
        buffers.push(await readFile(file));
      } catch (cause) {
        throw new AgeGenderError('MODEL_INVALID', 'missing weights file', { subject: file, cause });
      }
    }
  }
  const all = Buffer.concat(buffers);
  const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return tf.io.decodeWeights(ab, specs);
}

/** face-api's original weights. */
export async function loadFaceApiWeights(): Promise<tf.NamedTensorMap> {
  return loadWeightsManifest(join(faceApiModelDir(), 'face_recognition_model-weights_manifest.json'));
}

/**
 * Chips (uint8 or float, N×H×W×3 RGB, any size) → the normalised 150×150 network input, exactly as
 * face-api prepares it. `flip` mirrors horizontally (augmentation and test-time augmentation).
 * Shared by training and by every inference runtime.
 */
export function preprocessChips(batch: tf.Tensor4D, flip = false): tf.Tensor4D {
  return tf.tidy(() => {
    let x = tf.cast(batch, 'float32');
    const [, h, w] = x.shape;
    if (h !== w) {
      // face-api's padToSquare, centred
      const d = Math.abs(h - w);
      const a = Math.floor(d / 2);
      x = h > w ? tf.pad(x, [[0, 0], [0, 0], [a, d - a], [0, 0]]) : tf.pad(x, [[0, 0], [a, d - a], [0, 0], [0, 0]]);
    }
    if (x.shape[1] !== INPUT_SIZE) x = tf.image.resizeBilinear(x, [INPUT_SIZE, INPUT_SIZE], false, false);
    if (flip) x = tf.reverse(x, 2);
    return tf.div(tf.sub(x, tf.tensor1d([...MEAN_RGB])), PIXEL_DIVISOR);
  });
}

interface ConvP { filters: tf.Tensor4D; bias: tf.Tensor1D }

function convLayer(x: tf.Tensor4D, p: ConvP, stride: 1 | 2, relu: boolean): tf.Tensor4D {
  // face-api computes ((conv(x) + bias) * scale.w + scale.b); the scale is folded into the conv
  // at load time (same function, fewer ops), so one fused conv does it.
  return tf.fused.conv2d({ x, filter: p.filters, strides: stride, pad: stride === 2 ? 'valid' : 'same', bias: p.bias, activation: relu ? 'relu' : 'linear' });
}

/**
 * Folds face-api's per-layer scale (`scale/weights`, `scale/biases`) into conv filters and bias:
 * filters·w, bias·w + b. Names without a scale pass through. Returns new tensors.
 */
export function foldScales(weights: tf.NamedTensorMap): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  for (const [name, t] of Object.entries(weights)) {
    if (name.endsWith('/scale/weights') || name.endsWith('/scale/biases')) continue;
    const m = /^(.*)\/conv\/(filters|bias)$/.exec(name);
    const sw = m ? weights[`${m[1]}/scale/weights`] : undefined;
    const sb = m ? weights[`${m[1]}/scale/biases`] : undefined;
    if (!m || !sw || !sb) {
      out[name] = t.clone();
      continue;
    }
    out[name] = tf.tidy(() => (m[2] === 'filters' ? tf.mul(t, sw) : tf.add(tf.mul(t, sw), sb)));
  }
  return out;
}

/**
 * The network. Weight names follow face-api's (`conv64_1/conv1/conv/filters` …).
 * Tensors passed in are wrapped as variables; `trainableTop` decides which are trainable.
 */
export class FaceRecEncoder {
  readonly vars: Map<string, tf.Variable>;
  readonly layout: CutLayout;
  private readonly poolAt: ReadonlySet<string>;

  /**
   * `weights`: face-api names; scale layers are folded when present (so saved folded weights load too).
   * `cutPoint`: where the frozen stem ends (default conv256_1).
   */
  constructor(weights: tf.NamedTensorMap, options: { trainableTop?: boolean; cutPoint?: string } = {}) {
    this.layout = cutLayout(options.cutPoint);
    this.poolAt = new Set(this.layout.poolAt);
    const topBlocks = this.layout.topBlocks;
    this.vars = new Map();
    const folded = foldScales(weights);
    for (const [name, t] of Object.entries(folded)) {
      if (name === 'fc') continue; // the 128-d descriptor projection is not used
      const isTop = topBlocks.some((b) => name.startsWith(`${b}/`));
      // unnamed: tfjs variable names are process-global and several models may be loaded at once
      this.vars.set(name, tf.variable(t, Boolean(options.trainableTop && isTop)));
      t.dispose();
    }
    for (const req of ['conv32_down/conv/filters', 'conv256_down_out/conv2/conv/bias']) {
      if (!this.vars.has(req)) throw new AgeGenderError('MODEL_INVALID', `encoder weight ${req} missing`);
    }
  }

  private conv(prefix: string): ConvP {
    const g = (n: string): tf.Variable => {
      const v = this.vars.get(`${prefix}/${n}`);
      if (!v) throw new AgeGenderError('MODEL_INVALID', `encoder weight ${prefix}/${n} missing`);
      return v;
    };
    return { filters: g('conv/filters') as unknown as tf.Tensor4D, bias: g('conv/bias') as unknown as tf.Tensor1D };
  }

  private residual(x: tf.Tensor4D, name: string): tf.Tensor4D {
    let out = convLayer(x, this.conv(`${name}/conv1`), 1, true);
    out = convLayer(out, this.conv(`${name}/conv2`), 1, false);
    return tf.relu(tf.add(out, x) as tf.Tensor4D);
  }

  private residualDown(x: tf.Tensor4D, name: string): tf.Tensor4D {
    let out = convLayer(x, this.conv(`${name}/conv1`), 2, true);
    out = convLayer(out, this.conv(`${name}/conv2`), 1, false);
    let pooled = tf.avgPool(x, 2, 2, 'valid');
    if (pooled.shape[1] !== out.shape[1] || pooled.shape[2] !== out.shape[2]) {
      // face-api pads the conv path with a zero row and column at the end
      out = tf.pad(out, [[0, 0], [0, pooled.shape[1] - out.shape[1]], [0, pooled.shape[2] - out.shape[2]], [0, 0]]);
    }
    if (pooled.shape[3] !== out.shape[3]) {
      pooled = tf.pad(pooled, [[0, 0], [0, 0], [0, 0], [0, out.shape[3] - pooled.shape[3]]]);
    }
    return tf.relu(tf.add(pooled, out) as tf.Tensor4D);
  }

  /** See {@link preprocessChips}. */
  preprocess(batch: tf.Tensor4D, flip = false): tf.Tensor4D {
    return preprocessChips(batch, flip);
  }

  /** Frozen part: input → activation at the cut point plus pooled multi-stage features. */
  stem(x: tf.Tensor4D): { cut: tf.Tensor4D; pooled: tf.Tensor2D } {
    return tf.tidy(() => {
      let out = convLayer(x, this.conv('conv32_down'), 2, true);
      out = tf.maxPool(out, 3, 2, 'valid');
      const pools: tf.Tensor2D[] = [];
      for (const b of this.layout.stemBlocks) {
        out = b.includes('_down') ? this.residualDown(out, b) : this.residual(out, b);
        if (this.poolAt.has(b)) pools.push(tf.mean(out, [1, 2]));
      }
      return { cut: out, pooled: tf.concat(pools, 1) };
    });
  }

  /** Trainable part: cut activation → GAP of the last block (256), then GAP of the top's `poolAt` blocks (`layout.topDim` in all). */
  top(cut: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let out = cut;
      const pools: tf.Tensor2D[] = [];
      for (const b of this.layout.topBlocks) {
        out = b.includes('_down') ? this.residualDown(out, b) : this.residual(out, b);
        if (this.poolAt.has(b)) pools.push(tf.mean(out, [1, 2]));
      }
      const last = tf.mean(out, [1, 2]) as tf.Tensor2D;
      return pools.length === 0 ? last : tf.concat([last, ...pools], 1);
    });
  }

  trainableVariables(): tf.Variable[] {
    return [...this.vars.values()].filter((v) => v.trainable);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
