import sharp from 'sharp';
import type { RawImage } from '../io/types.js';
import type { LimeExplanation } from './lime.js';
import type { OcclusionMap } from './occlusion.js';

/**
 * Tints of the LIME overlay: Okabe–Ito blue and orange, told apart with red–green colour blindness
 * (the commonest), unlike green and red.
 */
export const LIME_TINTS = Object.freeze({ raises: [0, 114, 178] as const, lowers: [230, 159, 0] as const });

/**
 * The LIME overlay: the top-k superpixels tinted blue (they raise the explained output) or orange
 * (they lower it), outlined in white; everything else dimmed. Returns RGB pixels of the same size.
 */
export function limeOverlayPixels(image: RawImage, ex: LimeExplanation): RawImage {
  const { width: w, height: h } = image;
  const seg = ex.segmentation;
  const rank = new Map(ex.top.map((s, i) => [s, i]));
  const out = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    const label = seg.labels[p]!;
    const o = p * 3;
    const r = image.data[o]!;
    const g = image.data[o + 1]!;
    const b = image.data[o + 2]!;
    if (!rank.has(label)) {
      const gray = 0.299 * r + 0.587 * g + 0.114 * b;
      out[o] = out[o + 1] = out[o + 2] = Math.round(gray * 0.45);
      continue;
    }
    const x = p % w;
    const y = Math.floor(p / w);
    const edge =
      (x > 0 && seg.labels[p - 1] !== label) ||
      (x < w - 1 && seg.labels[p + 1] !== label) ||
      (y > 0 && seg.labels[p - w] !== label) ||
      (y < h - 1 && seg.labels[p + w] !== label);
    if (edge) {
      out[o] = out[o + 1] = out[o + 2] = 255;
      continue;
    }
    const tint = ex.weights[label]! >= 0 ? LIME_TINTS.raises : LIME_TINTS.lowers;
    out[o] = Math.round(0.5 * r + 0.5 * tint[0]);
    out[o + 1] = Math.round(0.5 * g + 0.5 * tint[1]);
    out[o + 2] = Math.round(0.5 * b + 0.5 * tint[2]);
  }
  return { data: out, width: w, height: h, channels: 3 };
}

/** An occlusion map as a diverging heat map (red: output drops when hidden; blue: rises) over the gray image. */
export function occlusionHeatPixels(image: RawImage, occ: OcclusionMap): RawImage {
  const { width: w, height: h } = image;
  let max = 1e-9;
  for (const v of occ.map) max = Math.max(max, Math.abs(v));
  const out = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    const o = p * 3;
    const gray = 0.299 * image.data[o]! + 0.587 * image.data[o + 1]! + 0.114 * image.data[o + 2]!;
    const t = occ.map[p]! / max;
    const colour = t >= 0 ? [255, 255 * (1 - t), 255 * (1 - t)] : [255 * (1 + t), 255 * (1 + t), 255];
    const a = 0.55 * Math.min(1, Math.abs(t) * 1.5);
    for (let c = 0; c < 3; c++) out[o + c] = Math.round((1 - a) * gray + a * colour[c]!);
  }
  return { data: out, width: w, height: h, channels: 3 };
}

/** Panels side by side with a 4-pixel white gutter, as a PNG. */
export async function panelsPng(panels: readonly RawImage[]): Promise<Buffer> {
  const gutter = 4;
  const h = Math.max(...panels.map((p) => p.height));
  const w = panels.reduce((s, p) => s + p.width, 0) + gutter * (panels.length - 1);
  let left = 0;
  const composites = panels.map((p) => {
    const input = { input: Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength), raw: { width: p.width, height: p.height, channels: 3 as const }, left, top: 0 };
    left += p.width + gutter;
    return input;
  });
  return sharp({ create: { width: w, height: h, channels: 3, background: '#ffffff' } }).composite(composites).png().toBuffer();
}

/** PNG of [input | LIME top-k overlay | occlusion heat map] (the occlusion panel only when given). */
export async function explanationPng(image: RawImage, ex: LimeExplanation, occ?: OcclusionMap): Promise<Buffer> {
  const panels = [image, limeOverlayPixels(image, ex)];
  if (occ) panels.push(occlusionHeatPixels(image, occ));
  return panelsPng(panels);
}
