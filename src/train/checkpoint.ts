/**
 * Checkpoints: every epoch the trainable weights, the optimizer state and the best-on-val weights
 * go into a fresh `ckpt-<n>/` folder; then the state file (workspace/layout.ts) is replaced atomically to point at it.
 * A `kill -9` at any moment leaves the previous checkpoint intact.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';
import { AgeGenderError } from '../core/errors.js';
import { checkpointFiles } from '../workspace/layout.js';

export const CHECKPOINT_VERSION = 1;

export interface CheckpointState {
  version: number;
  /** Stage of the last completed epoch. */
  stage: 1 | 2;
  /** Last completed epoch within that stage (1-based). */
  epoch: number;
  /** True once stage 1 is finished (its best weights restored). */
  stage1Done: boolean;
  bestValMae: number;
  bestEpoch: number;
  optimizerStep: number;
  folder: string;
  /** The options that matter for resuming; a mismatch is refused. */
  optionsKey: string;
  history: Array<Record<string, unknown>>;
  startedAt: string;
  elapsedSeconds: Record<string, number>;
}

export async function writeTensors(path: string, tensors: Array<{ name: string; tensor: tf.Tensor }>): Promise<void> {
  const index: Array<{ name: string; shape: number[]; offset: number }> = [];
  let total = 0;
  const datas: Float32Array[] = [];
  for (const { name, tensor } of tensors) {
    const d = (await tensor.data()) as Float32Array;
    index.push({ name, shape: tensor.shape, offset: total });
    datas.push(d);
    total += d.length;
  }
  const buf = new Float32Array(total);
  let off = 0;
  for (const d of datas) {
    buf.set(d, off);
    off += d.length;
  }
  await writeFileAtomic(`${path}.bin`, new Uint8Array(buf.buffer));
  await writeJsonAtomic(`${path}.json`, index);
}

export async function readTensors(path: string): Promise<tf.NamedTensorMap> {
  const index = JSON.parse(await readFile(`${path}.json`, 'utf8')) as Array<{ name: string; shape: number[]; offset: number }>;
  const raw = await readFile(`${path}.bin`);
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const out: tf.NamedTensorMap = {};
  for (const e of index) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    out[e.name] = tf.tensor(all.subarray(e.offset, e.offset + n), e.shape);
  }
  return out;
}

export async function readState(dir: string): Promise<CheckpointState | null> {
  const p = checkpointFiles(dir).state;
  if (!existsSync(p)) return null;
  const s = JSON.parse(await readFile(p, 'utf8')) as CheckpointState;
  if (s.version !== CHECKPOINT_VERSION) throw new AgeGenderError('MODEL_INCOMPATIBLE', `checkpoint version ${s.version} is not ${CHECKPOINT_VERSION}`, { subject: p });
  return s;
}

/** The tensors of the checkpoint `state` points at: `current` (trained weights, optimizer state) and `best` (caller disposes). */
export async function readCheckpoint(dir: string, state: CheckpointState): Promise<{ current: tf.NamedTensorMap; best: tf.NamedTensorMap }> {
  const current = await readTensors(join(dir, state.folder, 'current'));
  const best = await readTensors(join(dir, state.folder, 'best'));
  return { current, best };
}

/** Writes a checkpoint folder then points the state file at it; removes older folders. */
export async function saveCheckpoint(
  dir: string,
  state: Omit<CheckpointState, 'folder' | 'version'>,
  current: Array<{ name: string; tensor: tf.Tensor }>,
  best: Array<{ name: string; tensor: tf.Tensor }>,
): Promise<CheckpointState> {
  const folder = `ckpt-s${state.stage}-e${state.epoch}-${Date.now()}`;
  await mkdir(join(dir, folder), { recursive: true });
  await writeTensors(join(dir, folder, 'current'), current);
  await writeTensors(join(dir, folder, 'best'), best);
  const full: CheckpointState = { ...state, version: CHECKPOINT_VERSION, folder };
  await writeJsonAtomic(checkpointFiles(dir).state, full);
  for (const f of await readdir(dir)) if (f.startsWith('ckpt-') && f !== folder) await rm(join(dir, f), { recursive: true, force: true });
  return full;
}
