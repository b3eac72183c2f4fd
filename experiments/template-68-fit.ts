// How close can a similarity fit of face-api's 68 landmarks come to UTKFace's own chip frame? On
// the workspace's clean 200-px chips (train to fit, val to score) the right answer is the identity:
// the RMS error of the fitted frame at the chip's four corners (pixels) is what the photo path's
// refinement pass loses to alignment (dlib's mean face moved by the mean offset to face-api's points:
// ~5.2 px on val). Compared:
//  committed the points of models/detector/chip-template-68.json, plain fit
//  mean      landmarks 17–67 averaged over the train chips (the template that is right on average
//            landmark by landmark, not only as a whole)
//  weighted  the mean template, each landmark weighted by 1/variance of its residual after the fit
//            (re-estimated three times)
//  +five     the same with YuNet's five landmarks on the chip added as points 52–56
//  ridge     the weighted fit, then a ridge correction predicted from the similarity-free residual
//            shape (as experiments/shape-correction.ts for five points)
// Finding (lab notebook 2026-12-07): the clean-chip ridge reaches ~2.4 px on val chips but ~12 px on
// photos (experiments/shape-correction-photos.ts --clean): on a tight chip YuNet's box is clipped by
// the chip's edges, so the landmarks' shape tells where the chip's frame is, which no photo shows.
// Landmarks are cached in --cache (JSON) so that the methods can be re-scored without the nets.
//   node --conditions=agegender-source --import tsx experiments/template-68-fit.ts <workspace> [--train 4000] [--val 1000] [--cache tmp/lm68.json] [--write tmp/template.json]
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ridge } from '../scripts/chip-photos.js';
import { applySimilarity, composeSimilarity, DLIB_FIRST_LANDMARK, dlibTemplate, invertSimilarity, loadFaceDetector, loadImageInput, loadLandmarks68, readManifest, rowsOfSplit, spreadSubset, type Similarity } from 'agegender';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { train: { type: 'string', default: '4000' }, val: { type: 'string', default: '1000' }, cache: { type: 'string', default: 'tmp/lm68.json' }, write: { type: 'string' } } });
type P = { x: number; y: number };
interface Chip { all: P[]; five: P[] }
const size = 200;

async function collect(): Promise<{ train: Chip[]; val: Chip[] }> {
  if (existsSync(values.cache!)) return JSON.parse(await readFile(values.cache!, 'utf8')) as { train: Chip[]; val: Chip[] };
  const manifest = await readManifest(positionals[0] ?? 'workspace/utk');
  const yunet = await loadFaceDetector({ detector: 'yunet' });
  const net = await loadLandmarks68();
  const one = async (split: 'train' | 'val', n: number): Promise<Chip[]> => {
    const out: Chip[] = [];
    for (const [i, row] of spreadSubset(rowsOfSplit(manifest, split), n).entries()) {
      const image = await loadImageInput(row.source);
      if (image.width !== size || image.height !== size) continue;
      const faces = await yunet.detect(image);
      if (faces.length !== 1 || !faces[0]!.landmarks) continue;
      const all = await net.locate(image, faces[0]!.box);
      if (all) out.push({ all: all.slice(DLIB_FIRST_LANDMARK), five: faces[0]!.landmarks! });
      if ((i + 1) % 500 === 0) console.error(`${split}: ${i + 1}/${n}`);
    }
    return out;
  };
  const data = { train: await one('train', Number(values.train)), val: await one('val', Number(values.val)) };
  yunet.dispose();
  net.dispose();
  await writeFile(`${values.cache!}.tmp`, JSON.stringify(data));
  await rename(`${values.cache!}.tmp`, values.cache!);
  return data;
}

/** Weighted least-squares similarity from `from` to `to`. */
function fitW(from: readonly P[], to: readonly P[], w: readonly number[]): Similarity {
  let W = 0, fx = 0, fy = 0, gx = 0, gy = 0;
  for (let i = 0; i < from.length; i++) { const k = w[i]!; W += k; fx += k * from[i]!.x; fy += k * from[i]!.y; gx += k * to[i]!.x; gy += k * to[i]!.y; }
  fx /= W; fy /= W; gx /= W; gy /= W;
  let ss = 0, sa = 0, sb = 0;
  for (let i = 0; i < from.length; i++) {
    const k = w[i]!, ux = from[i]!.x - fx, uy = from[i]!.y - fy, vx = to[i]!.x - gx, vy = to[i]!.y - gy;
    ss += k * (ux * ux + uy * uy); sa += k * (ux * vx + uy * vy); sb += k * (ux * vy - uy * vx);
  }
  const a = sa / ss, b = sb / ss;
  return { a, b, tx: gx - a * fx + b * fy, ty: gy - b * fx - a * fy };
}
const corners = [{ x: 0, y: 0 }, { x: size - 1, y: 0 }, { x: 0, y: size - 1 }, { x: size - 1, y: size - 1 }];
const cornerError = (s: Similarity): number => Math.sqrt(corners.reduce((acc, c) => { const q = applySimilarity(s, c); return acc + (q.x - c.x) ** 2 + (q.y - c.y) ** 2; }, 0) / corners.length);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const meanPoints = (sets: P[][]): P[] => sets[0]!.map((_, i) => ({ x: mean(sets.map((s) => s[i]!.x)), y: mean(sets.map((s) => s[i]!.y)) }));

const { train, val } = await collect();
console.log(`chips with one face and 68 landmarks: train ${train.length}, val ${val.length}`);
const shipped = dlibTemplate()!.points.map((q) => ({ x: q.x, y: q.y }));
const pts = (c: Chip, withFive: boolean): P[] => (withFive ? [...c.all, ...c.five] : c.all);
const score = (name: string, template: P[], w: number[], withFive: boolean): void => {
  const e = (set: Chip[]): string => { const v = set.map((c) => cornerError(fitW(template, pts(c, withFive), w))); v.sort((a, b) => a - b); return `${mean(v).toFixed(2)} px (median ${v[v.length >> 1]!.toFixed(2)})`; };
  console.log(`${name.padEnd(22)} train ${e(train)}  val ${e(val)}`);
};
const ones = (n: number): number[] => new Array<number>(n).fill(1);
score('committed', shipped, ones(shipped.length), false);

/** The train chips' mean points as the template and, when `weighted`, each point weighted by 1/variance of its residual after the weighted fit (re-estimated; the template is not moved). */
function fitTemplate(withFive: boolean, weighted: boolean): { template: P[]; w: number[] } {
  const sets = train.map((c) => pts(c, withFive));
  let template = meanPoints(sets);
  let w = ones(template.length);
  for (let it = 0; it < (weighted ? 4 : 1); it++) {
    const res = sets.map((s) => { const back = invertSimilarity(fitW(template, s, w)); return s.map((p) => applySimilarity(back, p)); });
    if (weighted) {
      const variance = template.map((t, i) => mean(res.map((r) => (r[i]!.x - t.x) ** 2 + (r[i]!.y - t.y) ** 2)));
      w = variance.map((v) => 1 / v);
    }
  }
  return { template, w };
}
const m = fitTemplate(false, false);
score('mean', m.template, m.w, false);
const wt = fitTemplate(false, true);
score('weighted', wt.template, wt.w, false);
const m5 = fitTemplate(true, false);
score('mean +five', m5.template, m5.w, true);
const w5 = fitTemplate(true, true);
score('weighted +five', w5.template, w5.w, true);
console.log('weights (weighted): ', wt.w.map((v) => (v / Math.max(...wt.w)).toFixed(2)).join(' '));

// ridge correction on top of a fit (no intercept; scripts/chip-photos.ts), scored compositionally: the
// corrected chip → image similarity is fit ∘ E(ŷ)⁻¹, the identity when the prediction is right
function ridgeFit(name: string, best: { template: P[]; w: number[] }, withFive: boolean, lambdas: number[]): number[][] {
  const sample = (c: Chip): { x: number[]; y: number[]; s: Similarity } => {
    const s = fitW(best.template, pts(c, withFive), best.w);
    const back = invertSimilarity(s);
    return { x: pts(c, withFive).flatMap((q, i) => { const u = applySimilarity(back, q); return [u.x - best.template[i]!.x, u.y - best.template[i]!.y]; }), y: [s.a - 1, s.b, s.tx, s.ty], s };
  };
  const tr = train.map(sample), va = val.map(sample);
  let kept: number[][] = [];
  for (const lambda of lambdas) {
    const W = ridge(tr.map((r) => r.x), tr.map((r) => r.y), lambda);
    const pred = (r: { x: number[] }): Similarity => { const y = [0, 1, 2, 3].map((k) => r.x.reduce((acc, v, i) => acc + v * W[i]![k]!, 0)); return { a: 1 + y[0]!, b: y[1]!, tx: y[2]!, ty: y[3]! }; };
    const err = (set: typeof tr): string => mean(set.map((r) => cornerError(composeSimilarity(r.s, invertSimilarity(pred(r)))))).toFixed(2);
    console.log(`${name} λ=${lambda}`.padEnd(30) + ` train ${err(tr)} px  val ${err(va)} px`);
    kept = W;
  }
  return kept;
}
ridgeFit('ridge (51 weighted)', wt, false, [0.0001, 0.001, 0.01]);
const clean = ridgeFit('ridge (51 mean)', m, false, [0.0001]);
ridgeFit('ridge (56 weighted)', w5, true, [0.0001, 0.001]);
if (values.write) {
  // a template file with the clean-chip correction (for experiments/shape-correction-photos.ts --clean)
  await writeFile(values.write, `${JSON.stringify({ size, points: m.template.map((q) => [q.x, q.y]), correction: clean }, null, 2)}\n`);
  console.log(`wrote ${values.write}`);
}
