/**
 * prepare → train → evaluate → report in one call, reusing what each step finds: the hash cache,
 * the feature cache, a model folder trained on the same manifest with the same training options, an
 * interrupted training run's checkpoint made with the same options and manifest (any other checkpoint
 * is discarded), and the evaluation the report needs. The library side of `agegender pipeline`.
 *
 * @example
 *   await runPipeline({ inputs: ['UTKFace/'], workspace: 'workspace/utk', modelDir: 'workspace/utk/model', report: 'report.html', log: console.log });
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { AgeGenderError } from '../core/errors.js';
import { SPLITS } from '../core/types.js';
import { join, resolve } from 'node:path';
import type { DedupPolicy } from '../data/dedup.js';
import { prepare, type PrepareProgress } from '../data/prepare.js';
import { formatSummary, type PrepareSummary } from '../data/summary.js';
import { formatEvaluation } from '../eval/format.js';
import { MODEL_FILES, trainedOnManifest } from '../model/folder.js';
import type { TrainCallback } from '../train/callbacks.js';
import { readState } from '../train/checkpoint.js';
import { recordedTrainingOptions, trainingOptionsToRecord } from '../train/metadata.js';
import { resolveOptions, resumeKey, type TrainConfig, type TrainOptions } from '../train/options.js';
import { keyDifferences } from '../train/resume.js';
import { train, type TrainResult } from '../train/train.js';
import { workspacePaths } from '../workspace/layout.js';
import { manifestSha256 } from '../workspace/manifest.js';
import { evaluateWorkspace, type WorkspaceEvaluation } from './evaluate.js';
import { reportWorkspace, writtenReport, type WorkspaceReport } from './report.js';

export interface PipelineOptions {
  /** Folders and/or .zip archives of UTKFace-style chips. */
  inputs: readonly string[];
  workspace: string;
  /** Model folder to train, or to reuse when it was trained on this manifest with these training options. */
  modelDir: string;
  /** HTML report to write. */
  report: string;
  policy?: DedupPolicy;
  /** Seed of the split and of training (default 42). */
  seed?: number;
  epochs?: number;
  stage1Epochs?: number;
  balance?: boolean;
  /** Use at most N training images. */
  limit?: number;
  /** Train afresh (discarding any checkpoint) even when the model folder matches the manifest and options. */
  retrain?: boolean;
  /** The command line, recorded in the summary and the model's metadata. */
  command?: string;
  /** Step headings and each step's account (prepare summary, evaluation, files written). */
  log?: (line: string) => void;
  onPrepareProgress?: (event: PrepareProgress) => void;
  /** Callbacks for this training run (e.g. a progress bar). */
  trainCallbacks?: TrainCallback[];
  /** Training's own lines (epochs, checkpoints; default: stderr), e.g. through the progress bar's log so they are not written beside the bar. */
  trainLog?: (line: string) => void;
  /** Makes a fresh progress callback for each evaluation run (the evaluate step, and the report's when it cannot reuse it). */
  evaluationProgress?: () => (done: number, total: number) => void;
}

export interface PipelineResult {
  summary: PrepareSummary;
  /** null when the model folder was reused. */
  trained: TrainResult | null;
  evaluation: WorkspaceEvaluation;
  report: WorkspaceReport;
}

/**
 * The training options (trainingOptionsToRecord's keys) in which the model folder's metadata differs
 * from `config`, as `name (model: x, now: y)`; empty when they all match. A folder whose metadata
 * cannot be read differs in every key (`not recorded`).
 */
export function changedTrainingOptions(modelDir: string, config: TrainConfig): string[] {
  let recorded: Record<string, unknown> = {};
  try {
    recorded = recordedTrainingOptions(JSON.parse(readFileSync(join(modelDir, MODEL_FILES.metadata), 'utf8')) as { training?: Record<string, unknown> });
  } catch {
    // unreadable metadata: nothing recorded
  }
  const text = (v: unknown): string => (v === undefined ? 'not recorded' : JSON.stringify(v));
  return Object.entries(trainingOptionsToRecord(config))
    .filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(recorded[k]))
    .map(([k, v]) => `${k} (model: ${text(recorded[k])}, now: ${text(v)})`);
}

/**
 * Whether the pipeline's training run resumes the checkpoint in `ckptDir`: only when there is one,
 * `retrain` is off and it was made with `key` (the same options and manifest). Otherwise the run is
 * fresh, and train() discards the checkpoint instead of refusing it.
 */
export async function resumeCheckpoint(ckptDir: string, key: string, retrain: boolean, log: (line: string) => void): Promise<boolean> {
  let state: Awaited<ReturnType<typeof readState>>;
  try {
    state = await readState(ckptDir);
  } catch (e) {
    log(`discarding the checkpoint in ${ckptDir}: ${(e as Error).message}`);
    return false;
  }
  if (!state) return false;
  if (retrain) {
    log(`--retrain: discarding the checkpoint in ${ckptDir} and training afresh`);
    return false;
  }
  if (state.optionsKey !== key) {
    const differs = keyDifferences(state.optionsKey, key);
    log(`discarding the checkpoint in ${ckptDir}: it was made with other training options or another manifest${differs.length > 0 ? ` (${differs.join(', ')})` : ''}`);
    return false;
  }
  log(`resuming the interrupted run from its checkpoint in ${ckptDir}`);
  return true;
}

/**
 * Trains unless the model folder was trained on this manifest with these training options; an
 * interrupted run with the same options and manifest resumes from its checkpoint, any other starts afresh.
 */
async function trainStep(o: PipelineOptions, workspace: string, summary: PrepareSummary, log: (line: string) => void): Promise<TrainResult | null> {
  const options: TrainOptions = {
    workspace,
    out: resolve(o.modelDir),
    epochs: o.epochs,
    stage1Epochs: o.stage1Epochs,
    seed: o.seed,
    limit: o.limit,
    balance: Boolean(o.balance),
    score: true,
    command: o.command,
    callbacks: o.trainCallbacks,
    log: o.trainLog,
  };
  const config = resolveOptions(options);
  if (!o.retrain && trainedOnManifest(o.modelDir, summary.manifestSha256)) {
    const changed = changedTrainingOptions(o.modelDir, config);
    if (changed.length === 0) {
      log(`${o.modelDir} was trained on this manifest (${summary.manifestSha256?.slice(0, 12)}…) with these training options: reusing it (--retrain to train again)`);
      return null;
    }
    log(`${o.modelDir} was trained on this manifest with other training options: ${changed.join('; ')}. Training again`);
  }
  const paths = workspacePaths(workspace);
  const manifestHash = summary.manifestSha256 ?? (await manifestSha256(workspace));
  const ckptDir = paths.checkpointDir(o.modelDir);
  const resume = await resumeCheckpoint(ckptDir, resumeKey(config, manifestHash), Boolean(o.retrain), log);
  if (!resume) await rm(ckptDir, { recursive: true, force: true }); // said above; train() would say it again
  return train({ ...options, resume });
}

/**
 * WORKSPACE_INVALID (naming the manifest) when prepare left a split without a kept face: training
 * needs train and val, the evaluation and report need test. Checked before training, not after it.
 */
function checkEverySplitHasFaces(summary: PrepareSummary, manifest: string): void {
  const counts = summary.split.counts;
  const empty = SPLITS.filter((s) => counts[s] === 0);
  if (empty.length === 0) return;
  throw new AgeGenderError(
    'WORKSPACE_INVALID',
    `the inputs left no kept face in the ${empty.join(' and ')} split${empty.length === 1 ? '' : 's'} (train ${counts.train} · val ${counts.val} · test ${counts.test}): pipeline trains on train, chooses on val and scores test, so each needs faces. Add images, or run prepare, train and evaluate one by one`,
    { subject: manifest },
  );
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const log = o.log ?? (() => undefined);
  const workspace = resolve(o.workspace);
  log('== prepare');
  const summary = await prepare({ inputs: o.inputs, workspace, policy: o.policy, seed: o.seed, command: o.command, onProgress: o.onPrepareProgress });
  log(formatSummary(summary));
  checkEverySplitHasFaces(summary, workspacePaths(workspace).manifest);

  log('== train');
  const trained = await trainStep(o, workspace, summary, log);

  log('== evaluate (test split)');
  const evaluation = await evaluateWorkspace({ modelDir: o.modelDir, workspace, split: 'test', onProgress: o.evaluationProgress?.() });
  for (const line of formatEvaluation(evaluation.result, evaluation.files)) log(line);

  log('== report');
  const report = await reportWorkspace({ modelDir: o.modelDir, workspace, split: 'test', out: o.report, evaluation: workspacePaths(workspace).evaluationDir('test'), log, onProgress: o.evaluationProgress?.() });
  log(writtenReport(report));
  return { summary, trained, evaluation, report };
}
