import { integerInRange, oneOf } from '../core/validate.js';
import type { AgeGenderModel } from '../model/api.js';
import type { RawImage } from '../io/types.js';
import { EXPLAIN_TASKS, FILL_MODES, fillImage, perturb, resolveTarget, scoreTarget, topByMagnitude, type ExplainTarget, type ExplainTask, type FillMode } from './lime.js';
import type { Segmentation } from './superpixels.js';

export interface OcclusionOptions {
  task?: ExplainTask;
  /** Side of the square occluder in pixels (default 40). */
  patch?: number;
  /** Step between occluder positions (default 20). */
  stride?: number;
  fill?: FillMode;
  batchSize?: number;
}

export const OCCLUSION_DEFAULTS = Object.freeze({ patch: 40, stride: 20, fill: 'mean' as FillMode, batchSize: 50 });

export interface OcclusionMap {
  target: ExplainTarget;
  baseline: number;
  width: number;
  height: number;
  /** Per pixel: mean drop of the output (baseline − occluded) over the patches covering it. */
  map: Float32Array;
}

/** Top-left corners of the occluder's positions over a w×h image, row by row. */
export function occlusionPositions(w: number, h: number, patch: number, stride: number): Array<[number, number]> {
  const positions: Array<[number, number]> = [];
  for (let y = 0; y + patch <= h || (y === 0 && patch > h); y += stride) {
    for (let x = 0; x + patch <= w || (x === 0 && patch > w); x += stride) positions.push([x, y]);
    if (y + patch >= h) break;
  }
  return positions;
}

/**
 * Occlusion sensitivity (Zeiler & Fergus 2014): slide a filled square over the image and record how much
 * the explained output drops. Positive values mark regions that support the output.
 * @example const occ = await occlusionSensitivity(model, chip, { task: 'age' });
 */
export async function occlusionSensitivity(model: AgeGenderModel, image: RawImage, options: OcclusionOptions = {}): Promise<OcclusionMap> {
  const task = oneOf(options.task ?? 'age', 'task', EXPLAIN_TASKS);
  const patch = integerInRange(options.patch ?? OCCLUSION_DEFAULTS.patch, 'patch', 2, Math.max(image.width, image.height));
  const stride = integerInRange(options.stride ?? OCCLUSION_DEFAULTS.stride, 'stride', 1, patch);
  const fill = fillImage(image, oneOf(options.fill ?? OCCLUSION_DEFAULTS.fill, 'fill', FILL_MODES));
  const batchSize = options.batchSize ?? OCCLUSION_DEFAULTS.batchSize;
  const { target, baseline } = await resolveTarget(model, image, task);
  const { width: w, height: h } = image;
  const positions = occlusionPositions(w, h, patch, stride);
  const sum = new Float32Array(w * h);
  const count = new Float32Array(w * h);
  for (let start = 0; start < positions.length; start += batchSize) {
    const chunk = positions.slice(start, start + batchSize);
    const images = chunk.map(([x0, y0]) => {
      const data = Uint8Array.from(image.data);
      for (let y = y0; y < Math.min(h, y0 + patch); y++)
        for (let x = x0; x < Math.min(w, x0 + patch); x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = fill[(y * w + x) * 3 + c]!;
      return { data, width: w, height: h, channels: 3 as const };
    });
    const scores = await scoreTarget(model, images, target);
    chunk.forEach(([x0, y0], i) => {
      const drop = baseline - scores[i]!;
      for (let y = y0; y < Math.min(h, y0 + patch); y++)
        for (let x = x0; x < Math.min(w, x0 + patch); x++) {
          sum[y * w + x]! += drop;
          count[y * w + x]!++;
        }
    });
  }
  const map = new Float32Array(w * h);
  for (let i = 0; i < map.length; i++) map[i] = count[i]! > 0 ? sum[i]! / count[i]! : 0;
  return { target, baseline, width: w, height: h, map };
}

/**
 * Occlusion of one superpixel at a time: the drop of the output when it alone is hidden. Comparable with
 * LIME's weights (same superpixels, same sign convention), so the two methods' top-k can be compared.
 */
export async function superpixelOcclusion(
  model: AgeGenderModel,
  image: RawImage,
  seg: Segmentation,
  options: { task?: ExplainTask; fill?: FillMode; batchSize?: number; topK?: number } = {},
): Promise<{ target: ExplainTarget; baseline: number; drops: Float64Array; top: number[] }> {
  const task = oneOf(options.task ?? 'age', 'task', EXPLAIN_TASKS);
  const fill = fillImage(image, oneOf(options.fill ?? OCCLUSION_DEFAULTS.fill, 'fill', FILL_MODES));
  const batchSize = options.batchSize ?? OCCLUSION_DEFAULTS.batchSize;
  const { target, baseline } = await resolveTarget(model, image, task);
  const drops = new Float64Array(seg.count);
  for (let start = 0; start < seg.count; start += batchSize) {
    const ids = Array.from({ length: Math.min(batchSize, seg.count - start) }, (_, i) => start + i);
    const images = ids.map((id) => {
      const mask = new Uint8Array(seg.count).fill(1);
      mask[id] = 0;
      return perturb(image, seg, mask, fill);
    });
    const scores = await scoreTarget(model, images, target);
    ids.forEach((id, i) => (drops[id] = baseline - scores[i]!));
  }
  return { target, baseline, drops, top: topByMagnitude(drops, options.topK ?? 5) };
}
