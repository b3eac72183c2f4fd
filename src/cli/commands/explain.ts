import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../core/atomic.js';
import { oneOf, parseNumberOption } from '../../core/validate.js';
import { explainImage, type ExplainResult } from '../../explain/explain.js';
import { prepareChip } from '../../explain/input.js';
import { EXPLAIN_TASKS, FILL_MODES, LIME_DEFAULTS } from '../../explain/lime.js';
import { segmentCentroids } from '../../explain/superpixels.js';
import { loadModelFrom } from '../../model/load.js';
import type { AgeGenderModel } from '../../model/api.js';

export interface ExplainCommandOptions {
  task: string;
  samples: string;
  seed: string;
  fill: string;
  model?: string;
  out?: string;
  occlusion: boolean;
  /** Worker threads scoring the perturbed images (default 1: in-process). */
  workers?: string;
}

/** Explains one image and writes the [input | LIME | occlusion] PNG; returns the result. */
export async function runExplain(
  image: string,
  opts: ExplainCommandOptions,
  log: (line: string) => void = console.log,
  load: (dir: string | undefined) => Promise<AgeGenderModel> = loadModelFrom,
): Promise<ExplainResult> {
  const task = oneOf(opts.task, '--task', EXPLAIN_TASKS);
  const samples = parseNumberOption(opts.samples, '--samples', 10, 100_000, true);
  const seed = parseNumberOption(opts.seed, '--seed', 0, 2 ** 31 - 1, true);
  const fill = oneOf(opts.fill, '--fill', FILL_MODES);
  const out = resolve(opts.out ?? `${basename(image)}.${task}.explain.png`);
  // decode and check the image before paying for the model
  const chip = await prepareChip(image);
  const workers = parseNumberOption(opts.workers ?? '1', '--workers', 1, 64, true);
  const local = await load(opts.model);
  const { createPredictPool } = await import('../../pipeline/predict-pool.js');
  const { pooledModel } = await import('../../pipeline/pooled-model.js');
  const pool = workers > 1 ? await createPredictPool({ modelDir: opts.model, workers }) : null;
  const model = pool ? pooledModel(local, pool) : local;
  try {
    const started = performance.now();
    const r = await explainImage(model, chip, { task, samples, seed, fill, occlusion: opts.occlusion, subject: image });
    await writeFileAtomic(out, r.png);
    const f = (v: number | null, d = 3): string => (v === null ? 'n/a' : v.toFixed(d));
    const unit = r.lime.target.output === 'age' ? 'years' : `P(${r.lime.target.output})`;
    log(`${image}: explaining ${r.lime.target.output} = ${f(r.lime.baseline, 2)} ${unit === 'years' ? 'years' : ''}`.trimEnd());
    log(`LIME: ${r.lime.samples} samples, ${r.lime.segmentation.count} superpixels, seed ${r.lime.seed}, local R² ${f(r.lime.r2)}`);
    const centroids = segmentCentroids(r.lime.segmentation);
    for (const s of r.lime.top) {
      const [x, y] = centroids[s]!;
      log(`  superpixel ${s} at (${x.toFixed(0)}, ${y.toFixed(0)}): ${r.lime.weights[s]! >= 0 ? '+' : ''}${f(r.lime.weights[s]!)} ${unit}`);
    }
    log(`stability: top-${r.lime.top.length} agreement across 3 seeds ${f(r.stability, 2)}`);
    if (r.limeVsOcclusion !== null) log(`LIME vs occlusion: top-${r.lime.top.length} agreement ${f(r.limeVsOcclusion, 2)}`);
    log(`wrote ${out} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return r;
  } finally {
    model.dispose();
    await pool?.close();
  }
}

/** `agegender explain <image>`: LIME superpixels + occlusion sensitivity as an overlay PNG. */
export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('explain one face chip: LIME top superpixels and occlusion sensitivity, written as a PNG')
    .argument('<image>', 'image file (JPEG, PNG, WebP; resized to a 200×200 chip)')
    .option('--task <task>', `what to explain (${EXPLAIN_TASKS.join(', ')})`, 'age')
    .option('--samples <n>', 'LIME perturbed samples', String(LIME_DEFAULTS.samples))
    .option('--seed <n>', 'LIME seed (stability uses seed, seed+1, seed+2)', String(LIME_DEFAULTS.seed))
    .option('--fill <mode>', `fill for hidden superpixels (${FILL_MODES.join(', ')})`, LIME_DEFAULTS.fill)
    .option('--model <dir>', 'model folder (default: the shipped model)')
    .option('--out <file>', 'PNG to write (default: <image>.<task>.explain.png)')
    .option('--no-occlusion', 'skip occlusion sensitivity')
    .option('--workers <n>', 'worker threads scoring the perturbed images (one per core is fastest)', '1')
    .action(async (image: string, opts: ExplainCommandOptions) => {
      await runExplain(image, opts);
    });
}
