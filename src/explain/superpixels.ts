import { mulberry32 } from '../core/random.js';
import type { RawImage } from '../io/types.js';

/** A partition of an image's pixels into connected regions labelled 0…count−1. */
export interface Segmentation {
  width: number;
  height: number;
  /** width × height labels, row-major. */
  labels: Int32Array;
  count: number;
}

export interface SlicOptions {
  /** Wanted number of superpixels (default 80; the result is close to it, not exact). */
  segments?: number;
  /** Colour vs. space trade-off: higher gives more compact, grid-like regions (default 10). */
  compactness?: number;
  iterations?: number;
  /** Jitters the initial grid centres (up to a quarter of the grid step); same seed, same segmentation. */
  seed?: number;
}

export const SLIC_DEFAULTS = Object.freeze({ segments: 80, compactness: 10, iterations: 10, seed: 1 });

/** sRGB (8-bit, interleaved RGB) to CIE Lab (D65), three Float32 planes interleaved. */
export function rgbToLab(image: RawImage): Float32Array {
  if (image.channels !== 3) throw new RangeError(`Expected an RGB image (3 channels) but received ${image.channels} channels`);
  const n = image.width * image.height;
  const lab = new Float32Array(n * 3);
  const lin = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    const c = v / 255;
    lin[v] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  for (let i = 0; i < n; i++) {
    const r = lin[image.data[i * 3]!]!;
    const g = lin[image.data[i * 3 + 1]!]!;
    const b = lin[image.data[i * 3 + 2]!]!;
    const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
    const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
    const fx = f(x);
    const fy = f(y);
    const fz = f(z);
    lab[i * 3] = 116 * fy - 16;
    lab[i * 3 + 1] = 500 * (fx - fy);
    lab[i * 3 + 2] = 200 * (fy - fz);
  }
  return lab;
}

/**
 * SLIC superpixels (Achanta et al. 2012) in Lab space: k-means on (L, a, b, x, y) restricted to a 2S×2S
 * window per centre, then small or disconnected fragments merged into a neighbour so every label is
 * one connected region. Deterministic for a given seed.
 * @example const seg = slic(rgb200, { segments: 80 }); seg.count // ≈ 80
 */
export function slic(image: RawImage, options: SlicOptions = {}): Segmentation {
  const { width: w, height: h } = image;
  const n = w * h;
  const k = Math.max(1, Math.round(options.segments ?? SLIC_DEFAULTS.segments));
  const m = options.compactness ?? SLIC_DEFAULTS.compactness;
  const iterations = options.iterations ?? SLIC_DEFAULTS.iterations;
  const rand = mulberry32(options.seed ?? SLIC_DEFAULTS.seed);
  const lab = rgbToLab(image);
  const step = Math.max(1, Math.sqrt(n / k));

  // centres on a grid, jittered, then moved to the lowest gradient in their 3×3 neighbourhood
  const centres: number[][] = [];
  const gradient = (x: number, y: number): number => {
    const at = (xx: number, yy: number, c: number): number => lab[(Math.min(h - 1, Math.max(0, yy)) * w + Math.min(w - 1, Math.max(0, xx))) * 3 + c]!;
    let g = 0;
    for (let c = 0; c < 3; c++) g += (at(x + 1, y, c) - at(x - 1, y, c)) ** 2 + (at(x, y + 1, c) - at(x, y - 1, c)) ** 2;
    return g;
  };
  for (let gy = step / 2; gy < h; gy += step) {
    for (let gx = step / 2; gx < w; gx += step) {
      let cx = Math.min(w - 1, Math.max(0, Math.round(gx + (rand() - 0.5) * step * 0.5)));
      let cy = Math.min(h - 1, Math.max(0, Math.round(gy + (rand() - 0.5) * step * 0.5)));
      let best = gradient(cx, cy);
      const [x0, y0] = [cx, cy];
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const x = x0 + dx;
          const y = y0 + dy;
          if (x < 0 || y < 0 || x >= w || y >= h) continue;
          const g = gradient(x, y);
          if (g < best) [best, cx, cy] = [g, x, y];
        }
      const i = (cy * w + cx) * 3;
      centres.push([lab[i]!, lab[i + 1]!, lab[i + 2]!, cx, cy]);
    }
  }

  const labels = new Int32Array(n).fill(-1);
  const dist = new Float32Array(n);
  const spatial = (m / step) ** 2;
  const radius = Math.ceil(step);
  for (let it = 0; it < iterations; it++) {
    dist.fill(Infinity);
    centres.forEach((c, ci) => {
      const [cl, ca, cb, cx, cy] = c as [number, number, number, number, number];
      const xs = Math.max(0, Math.floor(cx - radius));
      const xe = Math.min(w - 1, Math.ceil(cx + radius));
      const ys = Math.max(0, Math.floor(cy - radius));
      const ye = Math.min(h - 1, Math.ceil(cy + radius));
      for (let y = ys; y <= ye; y++) {
        for (let x = xs; x <= xe; x++) {
          const p = y * w + x;
          const dl = lab[p * 3]! - cl;
          const da = lab[p * 3 + 1]! - ca;
          const db = lab[p * 3 + 2]! - cb;
          const d = dl * dl + da * da + db * db + ((x - cx) ** 2 + (y - cy) ** 2) * spatial;
          if (d < dist[p]!) {
            dist[p] = d;
            labels[p] = ci;
          }
        }
      }
    });
    const sums = centres.map(() => [0, 0, 0, 0, 0, 0]);
    for (let p = 0; p < n; p++) {
      const s = sums[labels[p]!];
      if (!s) continue;
      s[0]! += lab[p * 3]!;
      s[1]! += lab[p * 3 + 1]!;
      s[2]! += lab[p * 3 + 2]!;
      s[3]! += p % w;
      s[4]! += Math.floor(p / w);
      s[5]!++;
    }
    sums.forEach((s, ci) => {
      if (s[5]! > 0) centres[ci] = [s[0]! / s[5]!, s[1]! / s[5]!, s[2]! / s[5]!, s[3]! / s[5]!, s[4]! / s[5]!];
    });
  }
  return enforceConnectivity(labels, w, h, Math.max(1, Math.floor(n / centres.length / 4)));
}

/**
 * Relabels connected components 0…count−1 in scan order; components smaller than `minSize` (or pixels
 * never assigned) join the neighbouring component met just before them.
 */
export function enforceConnectivity(labels: Int32Array, w: number, h: number, minSize: number): Segmentation {
  const n = w * h;
  const out = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  let next = 0;
  for (let start = 0; start < n; start++) {
    if (out[start] !== -1) continue;
    const original = labels[start]!;
    // adjacent already-labelled component, for merging a small fragment
    let adjacent = -1;
    const sx = start % w;
    const sy = Math.floor(start / w);
    if (sx > 0 && out[start - 1] !== -1) adjacent = out[start - 1]!;
    else if (sy > 0 && out[start - w] !== -1) adjacent = out[start - w]!;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    out[start] = next;
    while (head < tail) {
      const p = queue[head++]!;
      const x = p % w;
      const y = Math.floor(p / w);
      const neighbours = [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1];
      for (const q of neighbours) {
        if (q < 0 || out[q] !== -1 || labels[q] !== original) continue;
        out[q] = next;
        queue[tail++] = q;
      }
    }
    if ((tail < minSize || original < 0) && adjacent >= 0) {
      for (let i = 0; i < tail; i++) out[queue[i]!] = adjacent;
    } else {
      next++;
    }
  }
  return { width: w, height: h, labels: out, count: next };
}

/** Pixel count per segment. */
export function segmentSizes(seg: Segmentation): Int32Array {
  const sizes = new Int32Array(seg.count);
  for (const l of seg.labels) sizes[l]!++;
  return sizes;
}

/** Centroid (x, y) of each segment. */
export function segmentCentroids(seg: Segmentation): Array<[number, number]> {
  const sx = new Float64Array(seg.count);
  const sy = new Float64Array(seg.count);
  const c = new Float64Array(seg.count);
  seg.labels.forEach((l, p) => {
    sx[l]! += p % seg.width;
    sy[l]! += Math.floor(p / seg.width);
    c[l]!++;
  });
  return Array.from({ length: seg.count }, (_, i) => [sx[i]! / c[i]!, sy[i]! / c[i]!] as [number, number]);
}
