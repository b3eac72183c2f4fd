import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import type { SplitName } from '../core/types.js';

/**
 * The one place that knows the workspace layout. Every path under a workspace (what `prepare` writes,
 * what `train` caches and checkpoints, what `evaluate` stores) is spelled here and nowhere else.
 *
 * ```
 * <workspace>/
 *   manifest.jsonl  manifest.csv  summary.json       prepare
 *   cache/hashes.json                                prepare's fingerprint cache
 *   cache/features/                                  train's encoder feature cache
 *   checkpoints/<model name>-<hash>/state.json, metrics.jsonl   train's resumable state (one folder per resolved --out)
 *   evaluation/<split>/evaluation.json, predictions.csv  evaluate / tune / report
 *   splits/<split>/                                  prepare --materialize
 * ```
 */
export const WORKSPACE_FILES = Object.freeze({
  manifest: 'manifest.jsonl',
  manifestCsv: 'manifest.csv',
  summary: 'summary.json',
  hashCache: join('cache', 'hashes.json'),
  featureCache: join('cache', 'features'),
  checkpoints: 'checkpoints',
  evaluation: 'evaluation',
  splits: 'splits',
});

/** File names inside a checkpoint folder and an evaluation folder. */
export const CHECKPOINT_FILES = Object.freeze({ state: 'state.json', metricsLog: 'metrics.jsonl' });
export const EVALUATION_FILES = Object.freeze({ result: 'evaluation.json', predictions: 'predictions.csv' });

/** Absolute paths of one workspace. */
export interface WorkspacePaths {
  readonly root: string;
  readonly manifest: string;
  readonly manifestCsv: string;
  readonly summary: string;
  readonly hashCache: string;
  readonly featureCache: string;
  readonly splits: string;
  /** `splits/<split>/` (prepare --materialize). */
  splitDir(split: SplitName): string;
  /**
   * `checkpoints/<basename of the model folder>-<8 hex of sha256(resolved model folder)>/`: keyed by the
   * whole resolved path, so `expA/model` and `expB/model` never share (and destroy) each other's checkpoint.
   */
  checkpointDir(modelOut: string): string;
  /** `evaluation/<split>/`. */
  evaluationDir(split: SplitName): string;
}

/** The paths of the workspace at `dir` (resolved against the working directory). */
export function workspacePaths(dir: string): WorkspacePaths {
  const root = resolve(dir);
  const at = (rel: string) => join(root, rel);
  return Object.freeze({
    root,
    manifest: at(WORKSPACE_FILES.manifest),
    manifestCsv: at(WORKSPACE_FILES.manifestCsv),
    summary: at(WORKSPACE_FILES.summary),
    hashCache: at(WORKSPACE_FILES.hashCache),
    featureCache: at(WORKSPACE_FILES.featureCache),
    splits: at(WORKSPACE_FILES.splits),
    splitDir: (split: SplitName) => join(root, WORKSPACE_FILES.splits, split),
    checkpointDir: (modelOut: string) => join(root, WORKSPACE_FILES.checkpoints, checkpointName(modelOut)),
    evaluationDir: (split: SplitName) => join(root, WORKSPACE_FILES.evaluation, split),
  });
}

/** The checkpoint folder's name for a model folder: its basename (readable) plus a short hash of its resolved path (unique). */
export function checkpointName(modelOut: string): string {
  const abs = resolve(modelOut);
  return `${basename(abs)}-${createHash('sha256').update(abs).digest('hex').slice(0, 8)}`;
}

/** `state.json` and `metrics.jsonl` inside a checkpoint folder. */
export function checkpointFiles(dir: string): { state: string; metricsLog: string } {
  return { state: join(dir, CHECKPOINT_FILES.state), metricsLog: join(dir, CHECKPOINT_FILES.metricsLog) };
}

/** `evaluation.json` and `predictions.csv` inside an evaluation folder. */
export function evaluationFiles(dir: string): { result: string; predictions: string } {
  return { result: join(dir, EVALUATION_FILES.result), predictions: join(dir, EVALUATION_FILES.predictions) };
}
