import type { Command } from 'commander';
import { probabilityPercent } from '../../core/format.js';
import { oneOf, parseNumberOption } from '../../core/validate.js';
import { SUPPORTED_FORMATS } from '../../io/decode.js';
import type { ExplainResult } from '../../explain/explain.js';
import { EXPLAIN_TASKS, FILL_MODES, LIME_DEFAULTS } from '../../explain/lime.js';
import { segmentCentroids } from '../../explain/superpixels.js';
import { explainFile, type ExplainedFile } from '../../workflow/explain.js';
import { createProgressBar } from '../progress.js';

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
  /** commander's --no-detect (true unless given). */
  detect?: boolean;
  face?: string;
}

/** What `explain` prints: the explained output, LIME's fit, its top superpixels, stability, the file written (and, as predict, a note when only the first of several frames was used). */
export function explainLines(image: string, { result: r, out, seconds, face, note }: ExplainedFile): string[] {
  const f = (v: number | null, d = 3): string => (v === null ? 'n/a' : v.toFixed(d));
  const unit = r.lime.target.output === 'age' ? 'years' : `P(${r.lime.target.output})`;
  const which = face
    ? `face ${face.index} of ${face.of} (box ${Math.round(face.box.x)},${Math.round(face.box.y)} ${Math.round(face.box.width)}×${Math.round(face.box.height)}${face.turned ? `, found with the photo turned ${face.turned}°` : ''}${face.of > 1 ? '; --face picks another' : ''}): `
    : '';
  const lines = [
    `${image}: ${which}explaining ${unit === 'years' ? `age = ${f(r.lime.baseline, 2)} years` : `${unit} = ${probabilityPercent(r.lime.baseline)}`}`,
    `LIME: ${r.lime.samples} samples, ${r.lime.segmentation.count} superpixels, seed ${r.lime.seed}, local R² ${f(r.lime.r2)}`,
  ];
  const centroids = segmentCentroids(r.lime.segmentation);
  for (const s of r.lime.top) {
    const [x, y] = centroids[s]!;
    lines.push(`  superpixel ${s} at (${x.toFixed(0)}, ${y.toFixed(0)}): ${r.lime.weights[s]! >= 0 ? '+' : ''}${f(r.lime.weights[s]!)} ${unit}`);
  }
  lines.push(`stability: top-${r.lime.top.length} agreement across 3 seeds ${f(r.stability, 2)}`);
  if (r.limeVsOcclusion !== null) lines.push(`LIME vs occlusion: top-${r.lime.top.length} agreement ${f(r.limeVsOcclusion, 2)}`);
  if (note !== undefined) lines.push(`${image}: note: ${note}`);
  lines.push(`wrote ${out} (${seconds.toFixed(1)} s)`);
  return lines;
}

/** Parses the options (usage errors before any work), explains through the workflow and prints. */
export async function runExplain(image: string, opts: ExplainCommandOptions, log: (line: string) => void = console.log): Promise<ExplainResult> {
  const task = oneOf(opts.task, '--task', EXPLAIN_TASKS);
  // a bar on a terminal (stderr) only: the run scores thousands of images
  const bar = createProgressBar('explain', '{bar} {percentage}% | {value}/{total} images scored | {eta_formatted} left');
  const explained = await explainFile(image, {
    task,
    onProgress: (done, total) => bar.update(done, total),
    samples: parseNumberOption(opts.samples, '--samples', 10, 100_000, true),
    seed: parseNumberOption(opts.seed, '--seed', 0, 2 ** 31 - 1, true),
    fill: oneOf(opts.fill, '--fill', FILL_MODES),
    occlusion: opts.occlusion,
    ...(opts.out === undefined ? {} : { out: opts.out }),
    workers: parseNumberOption(opts.workers ?? '1', '--workers', 1, 64, true),
    detect: opts.detect ?? true,
    ...(opts.face === undefined ? {} : { face: parseNumberOption(opts.face, '--face', 1, 1000, true) }),
    ...(opts.model === undefined ? {} : { modelDir: opts.model }),
  }).finally(() => bar.stop());
  for (const line of explainLines(image, explained)) log(line);
  return explained.result;
}

/** `agegender explain <image>`: LIME superpixels + occlusion sensitivity as an overlay PNG. */
export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('explain one face: LIME top superpixels and occlusion sensitivity on its aligned chip, written as a PNG')
    .argument('<image>', `photo or face chip (${SUPPORTED_FORMATS})`)
    .option('--task <task>', `what to explain (${EXPLAIN_TASKS.join(', ')})`, 'age')
    .option('--samples <n>', 'LIME perturbed samples', String(LIME_DEFAULTS.samples))
    .option('--seed <n>', 'LIME seed (stability uses seed, seed+1, seed+2)', String(LIME_DEFAULTS.seed))
    .option('--fill <mode>', `fill for hidden superpixels (${FILL_MODES.join(', ')})`, LIME_DEFAULTS.fill)
    .option('--model <dir>', 'model folder (default: the shipped model)')
    .option('--out <path>', 'PNG to write, or a folder to write <image>.<task>.explain.png in (<image>.face<N>.<task>.explain.png for --face N > 1; default: that name here)')
    .option('--face <n>', 'which face of a photo, in the order predict lists them (default 1)')
    .option('--no-detect', 'take the image as one aligned UTKFace-style chip (padded to a square and resized to 200×200, as predict --no-detect sees it) instead of finding its faces')
    .option('--no-occlusion', 'skip occlusion sensitivity')
    .option('--workers <n>', 'worker threads scoring the perturbed images (one per core is fastest)', '1')
    .action(async (image: string, opts: ExplainCommandOptions) => {
      await runExplain(image, opts);
    });
}
