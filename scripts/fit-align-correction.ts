// Fits the shape-aware alignment correction (src/pipeline/align-correction.ts) on UTKFace chips of a
// prepared workspace's train split and writes models/detector/align-correction.json. For each chip the
// shipped detector gives five landmarks and a box, exactly as on the photo path's refinement pass; the
// target is the five-point fit from the template to the chip's landmarks (the identity would mean the
// fit reproduces UTKFace's alignment). Ridge regression; scored on the val split by the RMS error of
// the aligner's chip frame at the chip's corners (pixels of a 200-px chip), before and after.
//   node --conditions=agegender-source --import tsx scripts/fit-align-correction.ts <workspace> [--train 4000] [--val 1000] [--lambda 0.01] [--out file]
import { writeFile, rename } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  ALIGN_CORRECTION_FEATURES,
  applySimilarity,
  chipTemplate,
  correctionFeatures,
  fitRidge,
  loadFaceDetector,
  loadImageInput,
  predictTemplateToChip,
  readManifest,
  rowsOfSplit,
  spreadSubset,
  type Similarity,
} from 'agegender';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { train: { type: 'string', default: '4000' }, val: { type: 'string', default: '1000' }, lambda: { type: 'string', default: '0.01' }, out: { type: 'string', default: 'models/detector/align-correction.json' } },
});
const workspace = positionals[0] ?? 'workspace/utk';
const manifest = await readManifest(workspace);
const t = chipTemplate();
const detector = await loadFaceDetector({ detector: 'yunet' });

async function samples(split: 'train' | 'val', n: number): Promise<Array<{ features: number[]; fit: Similarity }>> {
  const out: Array<{ features: number[]; fit: Similarity }> = [];
  for (const [i, row] of spreadSubset(rowsOfSplit(manifest, split), n).entries()) {
    const image = await loadImageInput(row.source);
    if (image.width !== t.size || image.height !== t.size) continue;
    const faces = await detector.detect(image);
    const f = faces.length === 1 ? correctionFeatures(t, faces[0]!) : null;
    if (f) out.push(f);
    if ((i + 1) % 1000 === 0) console.error(`${split}: ${i + 1}/${n}`);
  }
  return out;
}
const train = await samples('train', Number(values.train));
const val = await samples('val', Number(values.val));
detector.dispose();
const target = (s: Similarity): number[] => [s.a - 1, s.b, s.tx, s.ty];
const weights = fitRidge(train.map((s) => s.features), train.map((s) => target(s.fit)), Number(values.lambda));

const corners = [{ x: 0, y: 0 }, { x: t.size - 1, y: 0 }, { x: 0, y: t.size - 1 }, { x: t.size - 1, y: t.size - 1 }];
const cornerError = (chip: Similarity, predicted: Similarity): number =>
  Math.sqrt(corners.reduce((acc, c) => {
    const p = applySimilarity(chip, c);
    const q = applySimilarity(predicted, c);
    return acc + (p.x - q.x) ** 2 + (p.y - q.y) ** 2;
  }, 0) / corners.length);
const identity: Similarity = { a: 1, b: 0, tx: 0, ty: 0 };
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const score = (set: typeof train) => ({
  chips: set.length,
  before: Math.round(mean(set.map((s) => cornerError(s.fit, identity))) * 100) / 100,
  after: Math.round(mean(set.map((s) => cornerError(s.fit, predictTemplateToChip({ weights }, s.features)))) * 100) / 100,
});
const result = {
  features: `${ALIGN_CORRECTION_FEATURES}: five landmark residuals (x, y) after the five-point fit, box centre (x, y) and box width and height over the fit's scale, in the template frame, minus half its side`,
  targets: 'a - 1, b, tx, ty of the template → chip five-point fit (template frame, pixels)',
  weights: weights.map((row) => row.map((v) => Number(v.toPrecision(6)))),
  lambda: Number(values.lambda),
  fittedOn: { workspace: 'train split of the prepared UTKFace workspace', ...score(train) },
  val: score(val),
  cornerErrorPx: 'RMS over the four chip corners between the five-point fit and UTKFace\'s chip frame (before) or the corrected fit (after), pixels of a 200-px chip',
  command: `node --conditions=agegender-source --import tsx scripts/fit-align-correction.ts <workspace> --train ${values.train} --val ${values.val} --lambda ${values.lambda}`,
};
const tmp = `${values.out!}.tmp`;
await writeFile(tmp, `${JSON.stringify(result, null, 2)}\n`);
await rename(tmp, values.out!);
console.log(`train: ${result.fittedOn.chips} chips, corner error ${result.fittedOn.before} → ${result.fittedOn.after} px; val: ${result.val.chips} chips, ${result.val.before} → ${result.val.after} px; wrote ${values.out}`);
