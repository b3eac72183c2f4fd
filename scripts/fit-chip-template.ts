// Fits the UTKFace chip template (where the five landmarks sit in a 200×200 chip) that alignment
// maps photos onto, and writes it to models/detector/chip-template.json (read by src/pipeline/align.ts).
//   node --conditions=agegender-source --import tsx scripts/fit-chip-template.ts [utkfaceDir] [--count 3000] [--out file]
// Chips: UTKFace file names sorted by SHA-1 of the name, skipping the one in ten whose hash starts
// with "0" (those are kept for checking the photo path on chips: bench/photo-chips.ts), first N.
// Each chip goes through the shipped detector exactly as a photo would (padding, scaling); the
// template is the per-landmark mean over the chips where one face was found, after dropping the 5%
// whose landmarks sit furthest from the first mean. It also reports how far a least-squares
// similarity fit (what the aligner does) leaves each chip's landmarks from the template.
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadFaceDetector, loadImageInput, fitSimilarity, applySimilarity, type DetectedFace } from 'agegender';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { count: { type: 'string', default: '3000' }, out: { type: 'string', default: 'models/detector/chip-template.json' } } });
const dir = positionals[0] ?? '../shared/datasets/utkface/UTKFace';
const count = Number(values.count);

/** UTKFace chips ordered by the SHA-1 of their names; role 'check' = hash starts with 0, 'fit' = the rest. */
export async function sampleChips(folder: string, role: 'fit' | 'check', n: number): Promise<string[]> {
  const names = (await readdir(folder)).filter((f) => f.endsWith('.jpg'));
  const keyed = names.map((f) => ({ f, h: createHash('sha1').update(f).digest('hex') })).sort((a, b) => (a.h < b.h ? -1 : 1));
  return keyed.filter((k) => (role === 'check') === k.h.startsWith('0')).slice(0, n).map((k) => join(folder, k.f));
}

type Pts = Array<{ x: number; y: number }>;
const mean = (sets: Pts[]): Pts => [0, 1, 2, 3, 4].map((i) => ({ x: sets.reduce((s, p) => s + p[i]!.x, 0) / sets.length, y: sets.reduce((s, p) => s + p[i]!.y, 0) / sets.length }));
const rms = (a: Pts, b: Pts): number => Math.sqrt(a.reduce((s, p, i) => s + (p.x - b[i]!.x) ** 2 + (p.y - b[i]!.y) ** 2, 0) / a.length);

const files = await sampleChips(dir, 'fit', count);
const detector = await loadFaceDetector({ detector: 'yunet' });
const sets: Pts[] = [];
let notOne = 0;
for (const [i, file] of files.entries()) {
  const image = await loadImageInput(file);
  if (image.width !== 200 || image.height !== 200) continue;
  const faces: DetectedFace[] = await detector.detect(image);
  if (faces.length !== 1 || !faces[0]!.landmarks) {
    notOne++;
    continue;
  }
  sets.push(faces[0]!.landmarks!);
  if ((i + 1) % 500 === 0) console.error(`${i + 1}/${files.length}`);
}
detector.dispose();
const first = mean(sets);
const kept = sets.map((p) => ({ p, d: rms(p, first) })).sort((a, b) => a.d - b.d).slice(0, Math.round(sets.length * 0.95)).map((k) => k.p);
const points = mean(kept);
const sd = [0, 1, 2, 3, 4].map((i) => Math.sqrt(kept.reduce((s, p) => s + (p[i]!.x - points[i]!.x) ** 2 + (p[i]!.y - points[i]!.y) ** 2, 0) / kept.length));
const fits = sets.map((p) => {
  const s = fitSimilarity(points, p);
  return { residual: rms(points.map((q) => applySimilarity(s, q)), p), scale: Math.hypot(s.a, s.b), degrees: (Math.atan2(s.b, s.a) * 180) / Math.PI };
});
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r = (v: number): number => Math.round(v * 100) / 100;
const template = {
  size: 200,
  names: ['image-left eye', 'image-right eye', 'nose tip', 'image-left mouth corner', 'image-right mouth corner'],
  points: points.map((p) => [r(p.x), r(p.y)]),
  spreadPx: sd.map(r),
  fittedOn: { chips: kept.length, detected: sets.length, skipped: notOne, detector: 'yunet (models/detector), default options', script: 'scripts/fit-chip-template.ts' },
  similarityFit: { medianResidualPx: r(median(fits.map((f) => f.residual))), medianAbsDegrees: r(median(fits.map((f) => Math.abs(f.degrees)))), medianAbsScaleError: r(median(fits.map((f) => Math.abs(f.scale - 1)))) },
};
await writeFile(values.out!, `${JSON.stringify(template, null, 2)}\n`);
console.log(JSON.stringify(template, null, 2));
