// The images bench/detectors.ts runs the detectors on: AAF dev photos, their grey copies, synthetic
// photos (UTKFace test chips pasted into larger canvases, as bench:photos makes them) and face-free
// images (40 seeded synthetic textures plus test/fixtures/photos/no-face.jpg).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImageInput, readManifest, rowsOfSplit, type RawImage } from 'agegender';
import { pastedCentre, syntheticPhotosOf } from './synthetic-photos.js';

/** Every `every`-th `.jpg` of `dir` in sorted name order (default every 40th), at most `count`, decoded. */
export async function aafSample(dir: string, count: number, every = 40): Promise<RawImage[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort().filter((_f, i) => i % every === 0).slice(0, count);
  return Promise.all(names.map((n) => loadImageInput(join(dir, n))));
}

/** A synthetic photo (bench/synthetic-photos.ts) and where the pasted chip's centre lies in it. */
export interface SyntheticImage {
  image: RawImage;
  centre: { x: number; y: number };
}

/**
 * The synthetic photos of `bench:photos -- --synthetic n` (seed 17, chips of the workspace's `split`
 * spread over it, the same backgrounds), decoded, with the centre of each pasted chip (the centre of
 * the rotated chip's bounding box, where sharp puts the chip's centre).
 */
export async function syntheticSample(workspace: string, count: number, split: 'test' | 'val' = 'test', seed = 17): Promise<SyntheticImage[]> {
  const out: SyntheticImage[] = [];
  for await (const { spec, jpeg } of syntheticPhotosOf(rowsOfSplit(await readManifest(workspace), split), count, seed, 'test/fixtures/photos/no-face.jpg')) {
    out.push({ image: await loadImageInput(jpeg), centre: pastedCentre(spec) });
  }
  return out;
}

/** One-channel copy (Rec. 601 luma). */
export function grey(im: RawImage): RawImage {
  const d = new Uint8Array(im.width * im.height);
  for (let i = 0; i < d.length; i++) d[i] = Math.round(0.299 * im.data[i * im.channels]! + 0.587 * im.data[i * im.channels + 1]! + 0.114 * im.data[i * im.channels + 2]!);
  return { data: d, width: im.width, height: im.height, channels: 1 };
}

/** 40 seeded 320×320 textures (uniform noise, blurred noise, gradients, checkerboards, stripes) and the face-free fixture photo. */
export async function faceFreeImages(): Promise<RawImage[]> {
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  const out: RawImage[] = [];
  for (let k = 0; k < 40; k++) {
    const w = 320;
    const h = 320;
    const d = new Uint8Array(w * h * 3);
    const kind = k % 5;
    const f = 4 + Math.floor(rand() * 40);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
      const i = (y * w + x) * 3 + c;
      d[i] = kind < 2 ? Math.floor(rand() * 256) : kind === 2 ? Math.round(((x + y * (c + 1)) / (w + h * 3)) * 255) : kind === 3 ? ((Math.floor(x / f) + Math.floor(y / f)) % 2) * 200 + 30 : Math.round(128 + 100 * Math.sin((x * (c + 1)) / f));
    }
    let im: RawImage = { data: d, width: w, height: h, channels: 3 };
    if (kind === 1) im = { ...im, data: new Uint8Array(await sharp(d, { raw: { width: w, height: h, channels: 3 } }).blur(2 + rand() * 6).raw().toBuffer()) };
    out.push(im);
  }
  out.push(await loadImageInput('test/fixtures/photos/no-face.jpg'));
  return out;
}
