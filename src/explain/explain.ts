import type { AgeGenderModel } from '../model/api.js';
import type { ImageInput, RawImage } from '../io/types.js';
import { prepareChip } from './input.js';
import { checkSeeds, LIME_DEFAULTS, limeStability, topKAgreement, type ExplainTask, type FillMode, type LimeExplanation } from './lime.js';
import { occlusionSensitivity, superpixelOcclusion, type OcclusionMap } from './occlusion.js';
import { explanationPng } from './overlay.js';
import { slic } from './superpixels.js';

export interface ExplainOptions {
  task?: ExplainTask;
  samples?: number;
  seed?: number;
  /** Seeds for the stability figure, at least one (default: seed, seed+1, seed+2). Pass one seed to skip stability. */
  stabilitySeeds?: number[];
  fill?: FillMode;
  topK?: number;
  /** Also compute occlusion sensitivity (default true). */
  occlusion?: boolean;
  subject?: string;
}

export interface ExplainResult {
  chip: RawImage;
  lime: LimeExplanation;
  /** Mean pairwise top-k agreement of LIME across the stability seeds (null with one seed). */
  stability: number | null;
  occlusion: OcclusionMap | null;
  /** Agreement of LIME's top-k with the top-k of one-superpixel-at-a-time occlusion (null without occlusion). */
  limeVsOcclusion: number | null;
  png: Buffer;
}

/**
 * Explains one image end to end: decode and size to a 200×200 chip, SLIC, LIME over several seeds
 * (stability), occlusion sensitivity, and the [input | LIME | occlusion] PNG.
 * @example const r = await explainImage(model, 'face.jpg', { task: 'gender', samples: 1000 });
 */
export async function explainImage(model: AgeGenderModel, input: ImageInput, options: ExplainOptions = {}): Promise<ExplainResult> {
  const seed = options.seed ?? LIME_DEFAULTS.seed;
  const seeds = checkSeeds(options.stabilitySeeds ?? [seed, seed + 1, seed + 2], 'stabilitySeeds');
  const chip = await prepareChip(input, options.subject);
  const segmentation = slic(chip);
  const limeOptions = { task: options.task, samples: options.samples, fill: options.fill, topK: options.topK, segmentation };
  const stable = await limeStability(model, chip, seeds, limeOptions);
  const lime = stable.explanations[0]!;
  let occlusion: OcclusionMap | null = null;
  let limeVsOcclusion: number | null = null;
  if (options.occlusion ?? true) {
    occlusion = await occlusionSensitivity(model, chip, { task: options.task, fill: options.fill });
    const sp = await superpixelOcclusion(model, chip, segmentation, { task: options.task, fill: options.fill, topK: lime.top.length });
    limeVsOcclusion = topKAgreement([lime.top, sp.top]);
  }
  const png = await explanationPng(chip, lime, occlusion ?? undefined);
  return { chip, lime, stability: seeds.length > 1 ? stable.agreement : null, occlusion, limeVsOcclusion, png };
}
