/**
 * The default explainer for /v1/explain: LIME (from `explain/`) on the aligned face chip, drawn as
 * the LIME overlay (top superpixels tinted, the rest dimmed) and encoded as PNG. Few samples by
 * default so an explanation fits in a request; the CLI's `agegender explain` runs the full one.
 *
 * @example
 *   const app = await buildServer({ model, detector, explain: limeExplainer({ samples: 200 }) });
 */
import sharp from 'sharp';
import { integerInRange } from '../core/validate.js';
import { lime } from '../explain/lime.js';
import { limeOverlayPixels } from '../explain/overlay.js';
import type { ExplainFn } from './context.js';

export const SERVER_LIME_DEFAULTS = Object.freeze({ samples: 200, seed: 1 });

export function limeExplainer(options: { samples?: number; seed?: number } = {}): ExplainFn {
  const samples = integerInRange(options.samples ?? SERVER_LIME_DEFAULTS.samples, 'samples', 10, 100_000);
  const seed = integerInRange(options.seed ?? SERVER_LIME_DEFAULTS.seed, 'seed', 0, 2 ** 31 - 1);
  return async (model, chip, { target, signal }) => {
    // past the request's deadline the answer is dropped: stop scoring so the queue slot is freed
    const ex = await lime(model, chip, { task: target, samples, seed, ...(signal ? { signal } : {}) });
    const px = limeOverlayPixels(chip, ex);
    const overlayPng = await sharp(px.data, { raw: { width: px.width, height: px.height, channels: px.channels } }).png().toBuffer();
    return { overlayPng, output: ex.target.output, baseline: ex.baseline, top: ex.top, r2: ex.r2 };
  };
}
