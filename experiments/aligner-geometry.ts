// How far the photo path's aligner moves a face away from UTKFace's own alignment: for N UTKFace
// training chips, the shipped detector finds the five landmarks (as it would in a photo) and the
// least-squares similarity from the chip template to them — exactly the map `alignFace` samples
// through — is written in the parameters of src/train/jitter.ts (rotation, zoom, shift as a
// fraction of the side). The identity would mean "the aligner reproduces the chip". The mean and
// standard deviation of each parameter are what `train --photo-augment` draws its geometric
// error from (src/train/photo-augment.ts, ALIGNER_ERROR).
//   node --conditions=agegender-source --import tsx experiments/aligner-geometry.ts [utkfaceDir] [--count 1500]
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chipTemplate, fitSimilarity, loadFaceDetector, loadImageInput } from 'agegender';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { count: { type: 'string', default: '1500' } } });
const dir = positionals[0] ?? '../shared/datasets/utkface/UTKFace';
const names = (await readdir(dir)).filter((f) => f.endsWith('.jpg'));
// the fit-role chips of scripts/fit-chip-template.ts (SHA-1 of the name not starting with 0), from the other end
const files = names
  .map((f) => ({ f, h: createHash('sha1').update(f).digest('hex') }))
  .filter((k) => !k.h.startsWith('0'))
  .sort((a, b) => (a.h < b.h ? 1 : -1))
  .slice(0, Number(values.count))
  .map((k) => join(dir, k.f));

const t = chipTemplate();
const detector = await loadFaceDetector({ detector: 'yunet' });
const rows: Array<{ degrees: number; zoom: number; dx: number; dy: number }> = [];
for (const file of files) {
  const image = await loadImageInput(file);
  if (image.width !== 200 || image.height !== 200) continue;
  const faces = await detector.detect(image);
  if (faces.length !== 1 || !faces[0]!.landmarks) continue;
  const m = fitSimilarity(t.points, faces[0]!.landmarks); // template (chip frame) → this chip: where alignFace samples
  const s = Math.hypot(m.a, m.b);
  const angle = Math.atan2(m.b, m.a);
  // jitter.ts: input = s·R(angle)·(out − c) + c − d·W  ⇒  d = (c − s·R·c − t) / W
  const c = (t.size - 1) / 2;
  const dx = (c - (m.a * c - m.b * c) - m.tx) / t.size;
  const dy = (c - (m.b * c + m.a * c) - m.ty) / t.size;
  rows.push({ degrees: (angle * 180) / Math.PI, zoom: 1 / s, dx, dy });
}
detector.dispose();
const stats = (xs: number[]): string => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
  const sorted = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return `mean ${m.toFixed(4)}  sd ${sd.toFixed(4)}  p5 ${q(0.05).toFixed(4)}  p50 ${q(0.5).toFixed(4)}  p95 ${q(0.95).toFixed(4)}`;
};
console.log(`${rows.length} of ${files.length} chips with one face and landmarks`);
for (const k of ['degrees', 'zoom', 'dx', 'dy'] as const) console.log(`${k.padEnd(8)} ${stats(rows.map((r) => r[k]))}`);
