// Fits the 68-point chip template (src/pipeline/align-dlib.ts) on UTKFace chips of a prepared
// workspace's train split and writes models/detector/chip-template-68.json: dlib's mean face at
// padding 0.2 (get_face_chip's default), moved by the mean least-squares similarity between it and
// face-api's landmarks 17–67 on the chips (read inside YuNet's box, as on the photo path's
// refinement pass). Scored on the val split: RMS error of the chip frame at its corners, pixels.
//   node --conditions=agegender-source --import tsx scripts/fit-chip-template-68.ts <workspace> [--train 3000] [--val 1000] [--out file]
import { rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { applySimilarity, chipTemplate, dlibMeanFace, DLIB_FIRST_LANDMARK, fitSimilarity, loadFaceDetector, loadImageInput, loadLandmarks68, readManifest, rowsOfSplit, spreadSubset, type Similarity } from 'agegender';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { train: { type: 'string', default: '3000' }, val: { type: 'string', default: '1000' }, padding: { type: 'string', default: '0.2' }, out: { type: 'string', default: 'models/detector/chip-template-68.json' } } });
const manifest = await readManifest(positionals[0] ?? 'workspace/utk');
const size = 200;
const yunet = await loadFaceDetector({ detector: 'yunet' });
const net = await loadLandmarks68();
type Pts = Array<{ x: number; y: number }>;
async function landmarks(split: 'train' | 'val', n: number): Promise<Array<{ five: Pts; all: Pts }>> {
  const out: Array<{ five: Pts; all: Pts }> = [];
  for (const [i, row] of spreadSubset(rowsOfSplit(manifest, split), n).entries()) {
    const image = await loadImageInput(row.source);
    if (image.width !== size || image.height !== size) continue;
    const faces = await yunet.detect(image);
    if (faces.length !== 1 || !faces[0]!.landmarks) continue;
    const all = await net.locate(image, faces[0]!.box);
    if (all) out.push({ five: faces[0]!.landmarks!, all: all.slice(DLIB_FIRST_LANDMARK) });
    if ((i + 1) % 500 === 0) console.error(`${split}: ${i + 1}/${n}`);
  }
  return out;
}
const train = await landmarks('train', Number(values.train));
const val = await landmarks('val', Number(values.val));
yunet.dispose();
net.dispose();
const dlib = dlibMeanFace(size, Number(values.padding));
const fits = train.map((s) => fitSimilarity(dlib, s.all));
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const offset: Similarity = { a: mean(fits.map((f) => f.a)), b: mean(fits.map((f) => f.b)), tx: mean(fits.map((f) => f.tx)), ty: mean(fits.map((f) => f.ty)) };
const points = dlib.map((p) => applySimilarity(offset, p));
const corners = [{ x: 0, y: 0 }, { x: size - 1, y: 0 }, { x: 0, y: size - 1 }, { x: size - 1, y: size - 1 }];
const cornerError = (s: Similarity): number => Math.sqrt(corners.reduce((acc, c) => { const q = applySimilarity(s, c); return acc + (q.x - c.x) ** 2 + (q.y - c.y) ** 2; }, 0) / corners.length);
const five = chipTemplate().points;
const r2 = (v: number): number => Math.round(v * 100) / 100;
const score = (set: typeof train) => ({ chips: set.length, cornerErrorPx: r2(mean(set.map((s) => cornerError(fitSimilarity(points, s.all))))), fivePointCornerErrorPx: r2(mean(set.map((s) => cornerError(fitSimilarity(five, s.five))))) });
const result = {
  size,
  padding: Number(values.padding),
  names: `iBUG landmarks ${DLIB_FIRST_LANDMARK}–67 (face-api face_landmark_68)`,
  points: points.map((p) => [r2(p.x), r2(p.y)]),
  offset: { scale: Number(Math.hypot(offset.a, offset.b).toFixed(4)), degrees: Number(((Math.atan2(offset.b, offset.a) * 180) / Math.PI).toFixed(3)), tx: r2(offset.tx), ty: r2(offset.ty) },
  fittedOn: { split: 'train', ...score(train) },
  val: score(val),
  cornerError: 'RMS over the four chip corners between the fit and the chip\'s own frame, pixels of a 200-px chip; fivePoint: the YuNet five-point template fit, for comparison',
  command: `node --conditions=agegender-source --import tsx scripts/fit-chip-template-68.ts <workspace> --train ${values.train} --val ${values.val} --padding ${values.padding}`,
};
const tmp = `${values.out!}.tmp`;
await writeFile(tmp, `${JSON.stringify(result, null, 2)}\n`);
await rename(tmp, values.out!);
console.log(`offset ${JSON.stringify(result.offset)}; train ${JSON.stringify(result.fittedOn)}; val ${JSON.stringify(result.val)}; wrote ${values.out}`);
