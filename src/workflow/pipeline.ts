/**
 * prepare → train → evaluate → report in one call, reusing what each step finds: the hash cache,
 * the feature cache, a model folder trained on the same manifest, an interrupted training run's
 * checkpoint, and the evaluation the report needs. The library side of `agegender pipeline`.
 *
 * @example
 *   await runPipeline({ inputs: ['UTKFace/'], workspace: 'workspace/utk', modelDir: 'workspace/utk/model', report: 'report.html', log: console.log });
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DedupPolicy } from '../data/dedup.js';
import { prepare, type PrepareProgress } from '../data/prepare.js';
import { formatSummary, type PrepareSummary } from '../data/summary.js';
import { formatEvaluation } from '../eval/format.js';
import { trainedOnManifest } from '../model/folder.js';
import type { TrainCallback } from '../train/callbacks.js';
import { train, type TrainResult } from '../train/train.js';
import { checkpointFiles, workspacePaths } from '../workspace/layout.js';
import { evaluateWorkspace, type WorkspaceEvaluation } from './evaluate.js';
import { reportWorkspace, writtenReport, type WorkspaceReport } from './report.js';

export interface PipelineOptions {
  /** Folders and/or .zip archives of UTKFace-style chips. */
  inputs: readonly string[];
  workspace: string;
  /** Model folder to train, or to reuse when it was trained on this manifest. */
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
  /** Train even when the model folder matches the manifest. */
  retrain?: boolean;
  /** The command line, recorded in the summary and the model's metadata. */
  command?: string;
  /** Step headings and each step's account (prepare summary, evaluation, files written). */
  log?: (line: string) => void;
  onPrepareProgress?: (event: PrepareProgress) => void;
  /** Callbacks for this training run (e.g. a progress bar). */
  trainCallbacks?: TrainCallback[];
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

/** Trains unless the model folder was trained on this manifest; an interrupted run resumes from its checkpoint. */
async function trainStep(o: PipelineOptions, workspace: string, summary: PrepareSummary, log: (line: string) => void): Promise<TrainResult | null> {
  if (!o.retrain && trainedOnManifest(o.modelDir, summary.manifestSha256)) {
    log(`${o.modelDir} was trained on this manifest (${summary.manifestSha256?.slice(0, 12)}…): reusing it (--retrain to train again)`);
    return null;
  }
  const checkpoint = checkpointFiles(workspacePaths(workspace).checkpointDir(o.modelDir));
  return train({
    workspace,
    out: resolve(o.modelDir),
    epochs: o.epochs,
    stage1Epochs: o.stage1Epochs,
    seed: o.seed,
    limit: o.limit,
    balance: Boolean(o.balance),
    resume: existsSync(checkpoint.state),
    score: true,
    command: o.command,
    callbacks: o.trainCallbacks,
  });
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const log = o.log ?? (() => undefined);
  const workspace = resolve(o.workspace);
  log('== prepare');
  const summary = await prepare({ inputs: o.inputs, workspace, policy: o.policy, seed: o.seed, command: o.command, onProgress: o.onPrepareProgress });
  log(formatSummary(summary));

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
