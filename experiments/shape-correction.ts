// Can the face's own landmark shape predict where UTKFace's alignment put it? For UTKFace chips of
// the workspace's train split, the shipped detector gives five landmarks L in the chip frame and the
// least-squares similarity m from the template to L (the identity would mean "the aligner reproduces
// the chip"). The similarity-free residual shape r = m⁻¹(L) − template (10 numbers) is the same in a
// photo as in the chip, so if r predicts m, the aligner can undo most of its error. Ridge regression
// r → (a − 1, b, tx, ty), fitted on train chips, scored on val chips: the chip-corner error of the
// aligner's frame before and after the correction (pixels of the 200-px chip).
//   node --conditions=agegender-source --import tsx experiments/shape-correction.ts <workspace> [--train 3000] [--val 1000]
import { parseArgs } from 'node:util';
import { chipTemplate, fitSimilarity, applySimilarity, loadFaceDetector, loadImageInput, readManifest, rowsOfSplit, spreadSubset, type FaceDetector } from 'agegender';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { train: { type: 'string', default: '3000' }, val: { type: 'string', default: '1000' }, lambda: { type: 'string', default: '0.01' }, box: { type: 'boolean', default: false } } });
const ws = positionals[0] ?? 'workspace/utk';
const manifest = await readManifest(ws);
const t = chipTemplate();
const detector = await loadFaceDetector({ detector: 'yunet' });

interface Sample { r: number[]; y: number[] }
type Sim = { a: number; b: number; tx: number; ty: number };
const invert = (s: Sim): Sim => {
  const d = s.a * s.a + s.b * s.b;
  const a = s.a / d, b = -s.b / d;
  return { a, b, tx: -(a * s.tx - b * s.ty), ty: -(b * s.tx + a * s.ty) };
};
async function collect(det: FaceDetector, split: 'train' | 'val', n: number): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const row of spreadSubset(rowsOfSplit(manifest, split), n)) {
    const image = await loadImageInput(row.source);
    if (image.width !== 200 || image.height !== 200) continue;
    const faces = await det.detect(image);
    if (faces.length !== 1 || !faces[0]!.landmarks) continue;
    const L = faces[0]!.landmarks!;
    const m = fitSimilarity(t.points, L);
    const back = invert(m);
    const r = L.flatMap((p, i) => { const q = applySimilarity(back, p); return [q.x - t.points[i]!.x, q.y - t.points[i]!.y]; });
    if (values.box) {
      // the box as rotation-free features: its centre in the template frame and its size divided by
      // the fit's scale (its axis-aligned shape would tell the image's axes, which a photo does not share)
      const bx = faces[0]!.box;
      const c = applySimilarity(back, { x: bx.x + bx.width / 2, y: bx.y + bx.height / 2 });
      const k = Math.hypot(back.a, back.b);
      r.push(c.x - 100, c.y - 100, bx.width * k - 100, bx.height * k - 100);
    }
    out.push({ r, y: [m.a - 1, m.b, m.tx, m.ty] });
  }
  return out;
}
const train = await collect(detector, 'train', Number(values.train));
const val = await collect(detector, 'val', Number(values.val));
detector.dispose();

// ridge: W = (XᵀX + λI)⁻¹ Xᵀ Y with X = [r, 1] (bias not penalised)
const p = train[0]!.r.length + 1;
const X = (s: Sample): number[] => [...s.r, 1];
const A = Array.from({ length: p }, () => new Array<number>(p).fill(0));
const B = Array.from({ length: p }, () => new Array<number>(4).fill(0));
for (const s of train) {
  const x = X(s);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) A[i]![j]! += x[i]! * x[j]!;
    for (let k = 0; k < 4; k++) B[i]![k]! += x[i]! * s.y[k]!;
  }
}
for (let i = 0; i < p - 1; i++) A[i]![i]! += Number(values.lambda) * train.length;
// Gauss-Jordan
const M = A.map((row, i) => [...row, ...B[i]!]);
for (let c = 0; c < p; c++) {
  let piv = c;
  for (let r = c + 1; r < p; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
  [M[c], M[piv]] = [M[piv]!, M[c]!];
  const d = M[c]![c]!;
  for (let k = 0; k < p + 4; k++) M[c]![k]! /= d;
  for (let r = 0; r < p; r++) if (r !== c) { const f = M[r]![c]!; for (let k = 0; k < p + 4; k++) M[r]![k]! -= f * M[c]![k]!; }
}
const W = M.map((row) => row.slice(p));
const predict = (s: Sample): number[] => [0, 1, 2, 3].map((k) => X(s).reduce((acc, v, i) => acc + v * W[i]![k]!, 0));
const corners = [{ x: 0, y: 0 }, { x: 199, y: 0 }, { x: 0, y: 199 }, { x: 199, y: 199 }];
const cornerErr = (y: number[]): number => {
  const s = { a: 1 + y[0]!, b: y[1]!, tx: y[2]!, ty: y[3]! };
  return Math.sqrt(corners.reduce((acc, c) => { const q = applySimilarity(s, c); return acc + (q.x - c.x) ** 2 + (q.y - c.y) ** 2; }, 0) / 4);
};
const report = (name: string, set: Sample[]): void => {
  const before = set.map((s) => cornerErr(s.y));
  const after = set.map((s) => { const yh = predict(s); return cornerErr(s.y.map((v, k) => v - yh[k]!)); });
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const r2 = [0, 1, 2, 3].map((k) => {
    const ys = set.map((s) => s.y[k]!); const m = mean(ys);
    const sst = ys.reduce((a, v) => a + (v - m) ** 2, 0);
    const sse = set.reduce((a, s) => a + (s.y[k]! - predict(s)[k]!) ** 2, 0);
    return (1 - sse / sst).toFixed(3);
  });
  console.log(`${name}: ${set.length} chips; chip-corner RMS error of the aligner's frame ${mean(before).toFixed(2)} px → ${mean(after).toFixed(2)} px after the correction; R² (a−1, b, tx, ty) ${r2.join(', ')}`);
};
report('train (fit)', train);
report('val', val);
console.log(JSON.stringify({ weights: W.map((row) => row.map((v) => Number(v.toPrecision(6)))) }));
