// Fits the 68-point chip template (src/pipeline/align-dlib.ts) and writes
// models/detector/chip-template-68.json. UTKFace's chips are dlib `get_face_chip` crops (padding
// 0.2): a least-squares similarity of dlib's landmarks 17–67 to dlib's mean face. The photo path reads
// face-api's landmarks instead, on its first (five-point) chip, so the template is fitted where it is
// used: on photos made from the workspace's train chips by a known similarity (scripts/chip-photos.ts),
// where the right chip → photo map is known.
//  - points: the landmarks carried back into the chip's frame by the true map, averaged;
//  - correction: ridge regression (no intercept) from the face's shape after the fit (102 numbers no
//    similarity changes) to the fit's error (a − 1, b, tx, ty), with λ chosen on photos made from val
//    chips: face-api's landmarks and dlib's differ in a way that follows the face's shape.
// Scored on the val photos: RMS error of the chip's frame at its corners, pixels of the 200-px chip,
// for the first (five-point) chip, the plain fit and the corrected fit.
//   node --conditions=agegender-source --import tsx scripts/fit-chip-template-68.ts <workspace> [--train 3000] [--val 1000] [--out file]
import { rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { applySimilarity, dlibChipToImage, DLIB_FIRST_LANDMARK, dlibMeanFace, fitSimilarity, invertSimilarity, loadFaceDetector, loadLandmarks68, readManifest, rowsOfSplit, spreadSubset, type DlibTemplate } from 'agegender';
import { as68, chipPhotoSamples, cornerError, ridge, shapeAndError, type ChipPhotoSample, type Point } from './chip-photos.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { train: { type: 'string', default: '3000' }, val: { type: 'string', default: '1000' }, out: { type: 'string', default: 'models/detector/chip-template-68.json' } } });
const SEEDS = { train: 5, val: 17 };
const LAMBDAS = [0.001, 0.01, 0.1, 1];
const manifest = await readManifest(positionals[0] ?? 'workspace/utk');
const detector = await loadFaceDetector({ detector: 'yunet' });
const net = await loadLandmarks68();
const samples = async (split: 'train' | 'val', n: number): Promise<ChipPhotoSample[]> =>
  chipPhotoSamples(spreadSubset(rowsOfSplit(manifest, split), n).map((r) => r.source), SEEDS[split], detector, net, (i) => { if (i > 0 && i % 250 === 0) console.error(`${split}: ${i}/${n}`); });
const train = await samples('train', Number(values.train));
const val = await samples('val', Number(values.val));
detector.dispose();
net.dispose();

const size = 200;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const points: Point[] = train[0]!.points.map((_, i) => {
  const back = train.map((s) => applySimilarity(invertSimilarity(s.truth), s.points[i]!));
  return { x: mean(back.map((q) => q.x)), y: mean(back.map((q) => q.y)) };
});
const rows = train.map((s) => shapeAndError(points, s, fitSimilarity(points, s.points)));
const error = (t: DlibTemplate, set: ChipPhotoSample[]): number => mean(set.map((s) => cornerError(dlibChipToImage(t, as68(s), size), s.truth)));
const r2 = (v: number): number => Math.round(v * 100) / 100;
const candidates = LAMBDAS.map((lambda) => {
  const correction = ridge(rows.map((r) => r.x), rows.map((r) => r.y), lambda).map((row) => row.map((v) => Number(v.toPrecision(6))));
  return { lambda, correction, valErrorPx: error({ size, points, correction }, val) };
});
const chosen = candidates.reduce((b, c) => (c.valErrorPx < b.valErrorPx ? c : b));
const score = (set: ChipPhotoSample[]) => ({
  photos: set.length,
  cornerErrorPx: r2(error({ size, points, correction: chosen.correction }, set)),
  uncorrectedCornerErrorPx: r2(error({ size, points }, set)),
  firstChipCornerErrorPx: r2(mean(set.map((s) => cornerError({ a: 1, b: 0, tx: 0, ty: 0 }, s.truth)))),
});
const dlib = dlibMeanFace(size, 0.2);
const result = {
  size,
  names: `iBUG landmarks ${DLIB_FIRST_LANDMARK}–67 (face-api face_landmark_68) read on the photo path's first chip, mean in the UTKFace chip's frame`,
  points: points.map((q) => [r2(q.x), r2(q.y)]),
  meanDistanceToDlibMeanFacePx: r2(mean(points.map((q, i) => Math.hypot(q.x - dlib[i]!.x, q.y - dlib[i]!.y)))),
  correction: chosen.correction,
  lambda: { chosen: chosen.lambda, valCornerErrorPx: Object.fromEntries(candidates.map((c) => [c.lambda, r2(c.valErrorPx)])) },
  fittedOn: { split: 'train', seed: SEEDS.train, ...score(train) },
  val: { seed: SEEDS.val, ...score(val) },
  cornerError: "RMS over the four chip corners between the fit and the chip's true frame in the photo, pixels of a 200-px chip; uncorrected: the points alone; firstChip: the five-point chip the refinement starts from",
  command: `node --conditions=agegender-source --import tsx scripts/fit-chip-template-68.ts <workspace> --train ${values.train} --val ${values.val}`,
};
const tmp = `${values.out!}.tmp`;
await writeFile(tmp, `${JSON.stringify(result, null, 2)}\n`);
await rename(tmp, values.out!);
console.log(`λ ${chosen.lambda}; train ${JSON.stringify(result.fittedOn)}; val ${JSON.stringify(result.val)}; wrote ${values.out}`);
