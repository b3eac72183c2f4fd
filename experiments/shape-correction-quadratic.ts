// Does a non-linear shape correction beat the linear one? On the photo samples that
// experiments/shape-correction-photos.ts caches (--cache; 3,000 train / 1,000 val photos made from
// UTKFace chips), the template is the train photos' mean landmarks in the chip's frame; the features
// are the shape residual (102 numbers) plus, optionally, the products of its top-k principal
// components (power iteration on the train covariance), ridge with an intercept. Printed: corner RMS
// error (px of a 200-px chip) on train and val for k = 0 (linear), 8, 12, 16 and three λ.
//   node --conditions=agegender-source --import tsx experiments/shape-correction-quadratic.ts [cache file, default tmp/shape-photos.json]
import { readFileSync } from 'node:fs';
import { applySimilarity, composeSimilarity, fitSimilarity, invertSimilarity, type Similarity } from 'agegender';
import { cornerError, ridge, shapeAndError, type ChipPhotoSample } from '../scripts/chip-photos.js';
const { train, val } = JSON.parse(readFileSync(process.argv[2] ?? 'tmp/shape-photos.json', 'utf8')) as { train: ChipPhotoSample[]; val: ChipPhotoSample[] };
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const template = train[0]!.points.map((_, i) => { const qs = train.map((s) => applySimilarity(invertSimilarity(s.truth), s.points[i]!)); return { x: mean(qs.map((q) => q.x)), y: mean(qs.map((q) => q.y)) }; });
const rows = (set: ChipPhotoSample[]) => set.map((s) => { const fit = fitSimilarity(template, s.points); return { ...shapeAndError(template, s, fit), fit, truth: s.truth }; });
const tr = rows(train), va = rows(val);
// PCA via power iteration on covariance of x
const p = tr[0]!.x.length;
const mu = Array.from({ length: p }, (_, j) => mean(tr.map((r) => r.x[j]!)));
const C = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => mean(tr.map((r) => (r.x[i]! - mu[i]!) * (r.x[j]! - mu[j]!)))));
const comps: number[][] = [];
const Cd = C.map((r) => [...r]);
for (let k = 0; k < 16; k++) {
  let v = Array.from({ length: p }, (_, j) => 1 + ((j * 7919) % 13) / 13); // a fixed start: reproducible
  for (let it = 0; it < 200; it++) { const w = Cd.map((row) => row.reduce((a, c, j) => a + c * v[j]!, 0)); const n = Math.hypot(...w); v = w.map((x) => x / n); }
  const lam = Cd.map((row) => row.reduce((a, c, j) => a + c * v[j]!, 0)).reduce((a, x, i) => a + x * v[i]!, 0);
  comps.push(v);
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) Cd[i]![j]! -= lam * v[i]! * v[j]!;
}
const feats = (x: number[], k: number, quad: boolean): number[] => {
  const z = comps.slice(0, k).map((v) => v.reduce((a, c, j) => a + c * (x[j]! - mu[j]!), 0));
  const q: number[] = [];
  if (quad) for (let i = 0; i < k; i++) for (let j = i; j < k; j++) q.push(z[i]! * z[j]! / 10);
  return [...x, ...q, 1];
};
const err = (set: typeof tr, W: number[][], f: (x: number[]) => number[]) => mean(set.map((r) => { const x = f(r.x); const y = [0, 1, 2, 3].map((k) => x.reduce((a, v, i) => a + v * W[i]![k]!, 0)); return cornerError(composeSimilarity(r.fit, invertSimilarity({ a: 1 + y[0]!, b: y[1]!, tx: y[2]!, ty: y[3]! } as Similarity)), r.truth); })).toFixed(3);
for (const [k, quad] of [[0, false], [8, true], [12, true], [16, true]] as const) {
  for (const lambda of [0.01, 0.1, 1]) {
    const f = (x: number[]) => feats(x, k, quad);
    const W = ridge(tr.map((r) => f(r.x)), tr.map((r) => r.y), lambda);
    console.log(`k=${k} quad=${quad} λ=${lambda}: train ${err(tr, W, f)} val ${err(va, W, f)}`);
  }
}
