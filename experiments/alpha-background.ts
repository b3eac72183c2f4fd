// A face cut out of its background (a PNG whose background is transparent, as background-removal
// tools save it): what should transparency be flattened onto before the model sees it? UTKFace val
// chips get an elliptical alpha mask around the face (opaque inside, a soft edge, transparent
// outside), then are flattened onto white (the decoder's convention), mid-grey, black, and the
// chip's own mean colour, and predicted as chips (`--no-detect`, flip TTA as shipped). Each is
// compared with the same chip's prediction with its background, and with its label. Val rows only;
// nothing is trained.
//   node --conditions=agegender-source --import tsx experiments/alpha-background.ts --workspace /abs/workspace/utk [--chips 600] [--scale 1]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadModel, readManifest, rowsOfSplit, spreadSubset, type RawImage } from 'agegender';

const { values } = parseArgs({ options: { workspace: { type: 'string', default: 'workspace/utk' }, chips: { type: 'string', default: '600' }, scale: { type: 'string', default: '1' } } });
/** The mask ellipse's size: 1 = 70 × 90 px half-axes (face and some hair), 1.3 = more hair and neck. */
const scale = Number(values.scale);
const rows = spreadSubset(rowsOfSplit(await readManifest(resolve(values.workspace!)), 'val'), Number(values.chips));
const model = await loadModel();
const S = 200;

/** Alpha 255 inside an ellipse around the face (UTKFace chips centre it), falling to 0 over 12 px. */
const mask = new Uint8Array(S * S);
for (let y = 0; y < S; y++) {
  for (let x = 0; x < S; x++) {
    const d = Math.hypot((x - S / 2) / (70 * scale), (y - S / 2 - 8) / (90 * scale)); // 1 on the ellipse's edge
    mask[y * S + x] = Math.round(255 * Math.min(1, Math.max(0, (1.12 - d) / 0.12)));
  }
}

function flatten(rgb: Uint8Array, bg: [number, number, number]): RawImage {
  const out = new Uint8Array(S * S * 3);
  for (let i = 0; i < S * S; i++) {
    const a = mask[i]! / 255;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(rgb[i * 3 + c]! * a + bg[c]! * (1 - a));
  }
  return { data: out, width: S, height: S, channels: 3 };
}

const names = ['white (the decoder\'s convention)', 'mid-grey 128', 'black', 'the chip\'s mean colour'] as const;
const diff = names.map(() => [] as number[]);
const shift = names.map(() => [] as number[]);
const err = names.map(() => [] as number[]);
const genderAgree = names.map(() => 0);
let directErr = 0;
for (const row of rows) {
  const { data } = await sharp(row.source).resize(S, S).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const mean: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < S * S; i++) for (let c = 0; c < 3; c++) mean[c]! += rgb[i * 3 + c]! / (S * S);
  const bgs: Array<[number, number, number]> = [[255, 255, 255], [128, 128, 128], [0, 0, 0], mean.map(Math.round) as [number, number, number]];
  const [direct, ...flat] = await model.predictBatch([{ data: rgb, width: S, height: S, channels: 3 }, ...bgs.map((bg) => flatten(rgb, bg))]);
  directErr += Math.abs(direct!.age - row.age);
  flat.forEach((p, k) => {
    diff[k]!.push(Math.abs(p.age - direct!.age));
    shift[k]!.push(p.age - direct!.age);
    err[k]!.push(Math.abs(p.age - row.age));
    if ((p.femaleProbability >= 0.5) === (direct!.femaleProbability >= 0.5)) genderAgree[k]!++;
  });
}
model.dispose();
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`${rows.length} UTKFace val chips, mask scale ${scale}; with their background: age MAE ${(directErr / rows.length).toFixed(2)}\n`);
console.log('| background cut out, flattened onto | age MAE vs label | MAE of the difference from the chip with its background | mean signed difference (years) | gender agrees with it |');
console.log('|---|---|---|---|---|');
names.forEach((n, k) => console.log(`| ${n} | ${mean(err[k]!).toFixed(2)} | ${mean(diff[k]!).toFixed(2)} | ${mean(shift[k]!) >= 0 ? '+' : ''}${mean(shift[k]!).toFixed(2)} | ${((100 * genderAgree[k]!) / rows.length).toFixed(1)}% |`));
