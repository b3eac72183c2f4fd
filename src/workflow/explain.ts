/**
 * Explain one image and write the [input | LIME | occlusion] PNG: the library side of
 * `agegender explain`. With `workers` > 1 the perturbed images are scored on worker threads.
 *
 * @example
 *   const { result } = await explainFile('face.jpg', { task: 'age', out: 'face.age.png' });
 */
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { checkOutputFile } from '../core/output-path.js';
import { writeFileAtomic } from '../core/atomic.js';
import { explainImage, type ExplainResult } from '../explain/explain.js';
import { prepareChip } from '../explain/input.js';
import type { ExplainTask, FillMode } from '../explain/lime.js';
import { withModel, type ModelSource } from '../model/load.js';

export interface ExplainFileOptions extends ModelSource {
  task: ExplainTask;
  samples: number;
  seed: number;
  fill: FillMode;
  /** Also compute occlusion sensitivity. */
  occlusion: boolean;
  /** PNG file to write, or a folder to write `<image name>.<task>.explain.png` in (default: that name in the working folder). */
  out?: string;
  /** Worker threads scoring the perturbed images, each loading `modelDir` (default 1: in-process). */
  workers?: number;
}

export interface ExplainedFile {
  result: ExplainResult;
  /** The PNG written. */
  out: string;
  /** Seconds spent explaining and writing (model loading excluded). */
  seconds: number;
}

/** The PNG's path: `out` itself, or the default name inside `out` when it is a folder (an existing one, or a path ending in a slash). */
export async function explainOutPath(image: string, task: ExplainTask, out?: string): Promise<string> {
  const name = `${basename(image)}.${task}.explain.png`;
  if (out === undefined) return resolve(name);
  const isFolder = /[/\\]$/.test(out) || (await stat(out).then((s) => s.isDirectory(), () => false));
  return resolve(isFolder ? join(out, name) : out);
}

/** Checks where the PNG goes (INVALID_ARGUMENT: a folder in its way, an unwritable folder) and decodes and checks the image before loading any model; explains it, and writes the PNG atomically. */
export async function explainFile(image: string, options: ExplainFileOptions): Promise<ExplainedFile> {
  const out = await checkOutputFile(await explainOutPath(image, options.task, options.out));
  const chip = await prepareChip(image);
  const workers = options.workers ?? 1;
  return withModel(options, async (local) => {
    const { createPredictPool } = await import('../pipeline/predict-pool.js');
    const { pooledModel } = await import('../pipeline/pooled-model.js');
    const pool = workers > 1 ? await createPredictPool({ modelDir: options.modelDir, workers }) : null;
    const model = pool ? pooledModel(local, pool) : local;
    try {
      const started = performance.now();
      const result = await explainImage(model, chip, { task: options.task, samples: options.samples, seed: options.seed, fill: options.fill, occlusion: options.occlusion, subject: image });
      await writeFileAtomic(out, result.png);
      return { result, out, seconds: (performance.now() - started) / 1000 };
    } finally {
      await pool?.close();
    }
  });
}
