// Face detectors side by side: share of photos with a face found (All-Age-Faces dev photos, colour
// and grey), false positives per face-free image, ms per photo (one thread, median).
//   node --conditions=agegender-source --import tsx bench/detectors.ts [--photos 100] [--aaf dir] [--yunet-n file]
// Photos: every 40th AAF file name in sorted order (the dev set; never trained on). Face-free
// images: 40 synthetic textures (uniform noise, blurred noise, gradients, checkerboards, stripes;
// seeded) plus test/fixtures/photos/no-face.jpg.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadFaceDetector, loadImageInput, loadYunetDetector, type FaceDetector, type RawImage } from 'agegender';

const { values } = parseArgs({ options: { photos: { type: 'string', default: '100' }, aaf: { type: 'string', default: '../shared/datasets/aaf/photos' }, 'yunet-n': { type: 'string', default: '../shared/models/yunet/yunet_n_dynamic.onnx' } } });

function grey(im: RawImage): RawImage {
  const d = new Uint8Array(im.width * im.height);
  for (let i = 0; i < d.length; i++) d[i] = Math.round(0.299 * im.data[i * im.channels]! + 0.587 * im.data[i * im.channels + 1]! + 0.114 * im.data[i * im.channels + 2]!);
  return { data: d, width: im.width, height: im.height, channels: 1 };
}

async function textures(): Promise<RawImage[]> {
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

const names = (await readdir(values.aaf!)).filter((f) => f.endsWith('.jpg')).sort().filter((_f, i) => i % 40 === 0).slice(0, Number(values.photos));
const photos = await Promise.all(names.map((n) => loadImageInput(join(values.aaf!, n))));
const greys = photos.map(grey);
const empty = await textures();
const candidates: Array<{ name: string; load: () => Promise<FaceDetector>; min: number }> = [
  { name: 'YuNet-s (shipped), score ≥ 0.6', load: () => loadYunetDetector(), min: 0.6 },
  { name: 'YuNet-n, score ≥ 0.6', load: () => loadYunetDetector({ modelFile: values['yunet-n']! }), min: 0.6 },
  { name: 'face-api SSD MobileNetV1 ≥ 0.5 (before)', load: () => loadFaceDetector({ detector: 'ssd', minConfidence: 0.5 }), min: 0.5 },
  { name: 'face-api SSD MobileNetV1 ≥ 0.3', load: () => loadFaceDetector({ detector: 'ssd', minConfidence: 0.3 }), min: 0.3 },
];
console.log(`| detector | AAF found (${photos.length}) | AAF grey found | false positives / face-free image (${empty.length}) | ms / photo (median) |`);
console.log('|---|---|---|---|---|');
for (const c of candidates) {
  const d = await c.load();
  const ms: number[] = [];
  let found = 0;
  for (const p of photos) {
    const t0 = performance.now();
    if ((await d.detect(p)).some((f) => f.score >= c.min)) found++;
    ms.push(performance.now() - t0);
  }
  let gfound = 0;
  for (const p of greys) if ((await d.detect(p)).some((f) => f.score >= c.min)) gfound++;
  let fp = 0;
  for (const p of empty) fp += (await d.detect(p)).filter((f) => f.score >= c.min).length;
  d.dispose();
  ms.sort((a, b) => a - b);
  const pct = (k: number, n: number): string => `${((100 * k) / n).toFixed(1)}%`;
  console.log(`| ${c.name} | ${pct(found, photos.length)} | ${pct(gfound, greys.length)} | ${(fp / empty.length).toFixed(3)} | ${ms[Math.floor(ms.length / 2)]!.toFixed(1)} |`);
}
