// How much does heavy JPEG compression move the photo path's age? Every 20th AAF photo (200, from
// the 8th row), re-encoded by sharp at quality 95 and at quality --quality (default 40), each through
// `pipeline()` (the shipped model, detector and the committed 68-point template); printed: the mean,
// median and p90 of |age(q95) − age(qN)| over the photos with a face in both. To compare two
// templates, run it once with each in models/detector/chip-template-68.json.
//   node --conditions=agegender-source --import tsx experiments/compression-robustness.ts [quality] [--aaf ../shared/datasets/aaf]
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { pipeline } from 'agegender';
const quality = Number(/^\d+$/.test(process.argv[2] ?? '') ? process.argv[2] : 40);
const aaf = process.argv.includes('--aaf') ? process.argv[process.argv.indexOf('--aaf') + 1]! : '../shared/datasets/aaf';
const dir = `${aaf}/photos/`;
const files = (await readFile(`${aaf}/labels.csv`, 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',')[0]!).filter((_, i) => i % 20 === 7);
const estimate = await pipeline();
const diffs: number[] = [];
for (const f of files) {
  const bytes = await readFile(dir + f);
  const low = await sharp(bytes).jpeg({ quality }).toBuffer();
  const hi = await sharp(bytes).jpeg({ quality: 95 }).toBuffer();
  try {
    const [a, b] = [await estimate(hi), await estimate(low)];
    const fa = a.faces[0], fb = b.faces[0];
    if (fa && fb) diffs.push(Math.abs(fa.age - fb.age));
  } catch { /* no face */ }
}
estimate.dispose();
diffs.sort((x, y) => x - y);
const mean = diffs.reduce((s, x) => s + x, 0) / diffs.length;
console.log(`n ${diffs.length} mean |q95 − q${quality}| ${mean.toFixed(3)} median ${diffs[diffs.length >> 1]!.toFixed(3)} p90 ${diffs[Math.floor(diffs.length * 0.9)]!.toFixed(3)}`);
