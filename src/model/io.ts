/**
 * The model folder: `model.json` (topology + TF.js weights manifest), `weights.bin` (float16),
 * `metadata.json` (preprocessing, label maps, encoder id, dataset hash, metrics, command) and
 * `metrics.json` (val + test). Reading checks every file and the format version.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';
import { AgeGenderError } from '../core/errors.js';
import { ETHNICITIES, GENDERS } from '../core/types.js';
import type { ModelMetadata } from './api.js';
import { MODEL_FILES } from './folder.js';
import { AGE_BINS, LABEL_SIGMA, MAX_AGE } from './ageBins.js';
import { CUT_POINT, CUT_POINTS, cutLayout, ENCODER_ID, INPUT_SIZE, isCutPoint, MEAN_RGB, PIXEL_DIVISOR, type CutLayout, type CutPoint } from './encoder.js';
import { encodeHalf } from './half.js';
import { HEAD_IN, HIDDEN, type AgeGenderNet } from './net.js';

/** Bumped when the folder layout or the network changes incompatibly. */
export const FORMAT_VERSION = 1;
export const MODEL_FORMAT = 'agegender-net';
/** The folder's file names (defined in folder.ts, which loads no TF.js). */
export { MODEL_FILES };

export interface ModelJson {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  modelTopology: Record<string, unknown>;
  weightsManifest: tf.io.WeightsManifestConfig;
}

/** What preprocessing the saved model expects; written into metadata. */
export const PREPROCESSING = Object.freeze({
  colour: 'RGB',
  squarePad: 'centred, zeros (face-api padToSquare)',
  resize: `bilinear to ${INPUT_SIZE}×${INPUT_SIZE}, alignCorners=false, halfPixelCenters=false`,
  meanRgb: [...MEAN_RGB],
  divisor: PIXEL_DIVISOR,
  input: 'aligned face chip (UTKFace-style 200×200)',
});

export const LABEL_MAPS = Object.freeze({
  gender: [...GENDERS],
  ethnicity: [...ETHNICITIES],
  ageBins: { from: 0, to: MAX_AGE, step: 1, readout: 'expected value of the softmax over bins' },
});

/** Width of the age label distribution the weights were trained with: σ(age) = sigma + slope · age. */
export interface LabelWidth {
  sigma: number;
  slope: number;
}

export function topology(label: LabelWidth = { sigma: LABEL_SIGMA, slope: 0 }, layout: CutLayout = cutLayout()): Record<string, unknown> {
  return {
    encoder: ENCODER_ID,
    cutPoint: layout.cutPoint,
    stemBlocks: [...layout.stemBlocks],
    topBlocks: [...layout.topBlocks],
    headIn: HEAD_IN,
    hidden: HIDDEN,
    ageBins: AGE_BINS,
    labelSigma: label.sigma,
    ...(label.slope > 0 ? { labelSigmaSlope: label.slope } : {}),
    outputs: ['ageLogits', 'genderLogits'],
  };
}

/**
 * Writes model.json + weights.bin + metadata.json (+ metrics.json when metrics are given).
 * `label`: the label width training used (recorded in the topology; default σ = 2.5).
 */
export async function saveModel(net: AgeGenderNet, dir: string, metadata: ModelMetadata, label?: LabelWidth): Promise<void> {
  const named = net.namedWeights();
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint16Array[] = [];
  for (const { name, tensor } of named) {
    const values = tensor.dataSync() as Float32Array;
    parts.push(encodeHalf(values));
    specs.push({ name, shape: tensor.shape, dtype: 'float32', quantization: { dtype: 'float16' } });
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const buf = new Uint16Array(total);
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  const modelJson: ModelJson = {
    format: MODEL_FORMAT,
    formatVersion: FORMAT_VERSION,
    modelTopology: topology(label, net.encoder.layout),
    weightsManifest: [{ paths: [MODEL_FILES.weights], weights: specs }],
  };
  await writeFileAtomic(join(dir, MODEL_FILES.weights), new Uint8Array(buf.buffer));
  await writeJsonAtomic(join(dir, MODEL_FILES.metadata), { ...metadata, formatVersion: FORMAT_VERSION });
  await writeJsonAtomic(join(dir, MODEL_FILES.metrics), metadata.metrics);
  await writeJsonAtomic(join(dir, MODEL_FILES.model), modelJson);
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AgeGenderError('MODEL_INVALID', 'model file is missing or unreadable', { subject: path, cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new AgeGenderError('MODEL_INVALID', 'model file is not valid JSON', { subject: path, cause });
  }
}

export interface ModelFolder {
  weights: tf.NamedTensorMap;
  metadata: ModelMetadata;
  modelJson: ModelJson;
  /** Where the saved network's frozen stem ends (`modelTopology.cutPoint`; folders without one: conv256_1). */
  cutPoint: CutPoint;
  /** SHA-256 (hex) of the weight bytes, in manifest order. */
  weightsSha256: string;
}

/** Reads and checks a model folder; weights come back as float32 tensors (caller disposes). */
export async function readModelFolder(dir: string): Promise<ModelFolder> {
  const modelPath = join(dir, MODEL_FILES.model);
  const modelJson = (await readJson(modelPath)) as Partial<ModelJson>;
  if (modelJson.format !== MODEL_FORMAT) {
    throw new AgeGenderError('MODEL_INVALID', `not an agegender model (format ${JSON.stringify(modelJson.format)}, expected "${MODEL_FORMAT}")`, { subject: modelPath });
  }
  if (modelJson.formatVersion !== FORMAT_VERSION) {
    throw new AgeGenderError(
      'MODEL_INCOMPATIBLE',
      `model format version ${String(modelJson.formatVersion)} is not supported by this agegender (it reads version ${FORMAT_VERSION})`,
      { subject: modelPath },
    );
  }
  const cutPoint = (modelJson.modelTopology as Record<string, unknown> | undefined)?.['cutPoint'] ?? CUT_POINT;
  if (!isCutPoint(cutPoint)) {
    throw new AgeGenderError('MODEL_INCOMPATIBLE', `cut point ${JSON.stringify(cutPoint)} is not one this agegender knows (${CUT_POINTS.join(', ')})`, { subject: modelPath });
  }
  const metaPath = join(dir, MODEL_FILES.metadata);
  const metadata = (await readJson(metaPath)) as ModelMetadata;
  if (metadata.formatVersion !== FORMAT_VERSION) {
    throw new AgeGenderError('MODEL_INCOMPATIBLE', `metadata format version ${String(metadata.formatVersion)} is not supported (expected ${FORMAT_VERSION})`, { subject: metaPath });
  }
  const manifest = modelJson.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) throw new AgeGenderError('MODEL_INVALID', 'weightsManifest is missing', { subject: modelPath });
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const file = join(dir, p);
      try {
        buffers.push(await readFile(file));
      } catch (cause) {
        throw new AgeGenderError('MODEL_INVALID', 'weights file is missing or unreadable', { subject: file, cause });
      }
    }
  }
  const all = Buffer.concat(buffers);
  const expectedBytes = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * (w.quantization?.dtype === 'float16' ? 2 : 4), 0);
  if (all.byteLength !== expectedBytes) {
    throw new AgeGenderError('MODEL_INVALID', `weights are ${all.byteLength} bytes, the manifest describes ${expectedBytes}`, { subject: join(dir, manifest[0]!.paths[0] ?? '') });
  }
  const weights = tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer, specs);
  return { weights, metadata, modelJson: modelJson as ModelJson, cutPoint, weightsSha256: createHash('sha256').update(all).digest('hex') };
}
