import { integerInRange } from '../core/validate.js';
import type { AgeGenderModel } from '../model/api.js';
import type { ImageInput, RawImage } from '../io/types.js';
import { prepareChip } from './input.js';
import { checkSeeds, LIME_DEFAULTS, limeStability, topKAgreement, type ExplainTask, type FillMode, type LimeExplanation } from './lime.js';
import { OCCLUSION_DEFAULTS, occlusionPositions, occlusionSensitivity, superpixelOcclusion, type OcclusionMap } from './occlusion.js';
import { explanationPng } from './overlay.js';
import { slic } from './superpixels.js';

export interface ExplainOptions {
  task?: ExplainTask;
  samples?: number;
  seed?: number;
  /** Seeds for the stability figure, at least one (default: seed, seed+1, seed+2, modulo 2³²). Pass one seed to skip stability. */
  stabilitySeeds?: number[];
  fill?: FillMode;
  topK?: number;
  /** Also compute occlusion sensitivity (default true). */
  occlusion?: boolean;
  subject?: string;
  /** Called after each batch the model scores, with the images scored so far and the total to score. */
  onProgress?: (done: number, total: number) => void;
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
  const seed = integerInRange(options.seed ?? LIME_DEFAULTS.seed, 'seed', 0, 2 ** 32 - 1);
  // the next two seeds wrap round at 2³², so every valid seed has its stability seeds
  const seeds = checkSeeds(options.stabilitySeeds ?? [seed, (seed + 1) % 2 ** 32, (seed + 2) % 2 ** 32], 'stabilitySeeds');
  const chip = await prepareChip(input, options.subject);
  const segmentation = slic(chip);
  const withOcclusion = options.occlusion ?? true;
  if (options.onProgress) {
    // each LIME run and each occlusion pass also scores the unperturbed image once
    const samples = options.samples ?? LIME_DEFAULTS.samples;
    const positions = occlusionPositions(chip.width, chip.height, OCCLUSION_DEFAULTS.patch, OCCLUSION_DEFAULTS.stride).length;
    const total = seeds.length * (samples + 1) + (withOcclusion ? positions + 1 + segmentation.count + 1 : 0);
    model = countingModel(model, total, options.onProgress);
  }
  const limeOptions = { task: options.task, samples: options.samples, fill: options.fill, topK: options.topK, segmentation };
  const stable = await limeStability(model, chip, seeds, limeOptions);
  const lime = stable.explanations[0]!;
  let occlusion: OcclusionMap | null = null;
  let limeVsOcclusion: number | null = null;
  if (withOcclusion) {
    occlusion = await occlusionSensitivity(model, chip, { task: options.task, fill: options.fill });
    const sp = await superpixelOcclusion(model, chip, segmentation, { task: options.task, fill: options.fill, topK: lime.top.length });
    limeVsOcclusion = topKAgreement([lime.top, sp.top]);
  }
  const png = await explanationPng(chip, lime, occlusion ?? undefined);
  return { chip, lime, stability: seeds.length > 1 ? stable.agreement : null, occlusion, limeVsOcclusion, png };
}

/** `model` whose `scoreRaw` reports the images scored so far (of `total`) after each batch. */
function countingModel(model: AgeGenderModel, total: number, onProgress: (done: number, total: number) => void): AgeGenderModel {
  let done = 0;
  const scoreRaw: AgeGenderModel['scoreRaw'] = async (images) => {
    const scores = await model.scoreRaw(images);
    done += images.length;
    onProgress(Math.min(done, total), total);
    return scores;
  };
  return Object.create(model, { scoreRaw: { value: scoreRaw } }) as AgeGenderModel;
}
