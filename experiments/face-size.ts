// How small can a face be and still get a trustworthy age and gender? The photo path on UTKFace test
// chips pasted, at one chip side s, in the middle of a 480×480 face-free background (the fixture
// photo, blurred; a seeded shift of up to 20% of the free room), JPEG q90. The table gives the
// detector's box width for each chip side (about 0.85 of it). Each face found is compared with the chip's own prediction at full size
// (`--no-detect`) and with its label. Nothing trained or chosen here; the shipped model.
//   node --conditions=agegender-source --import tsx experiments/face-size.ts --workspace /abs/workspace/utk [--chips 300] [--json out.json]
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { analyzeImage, loadFaceDetector, loadImageInput, loadModel, readManifest, rowsOfSplit, spreadSubset } from 'agegender';
import { mulberry32 } from 'agegender/core';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'workspace/utk' },
    chips: { type: 'string', default: '300' },
    split: { type: 'string', default: 'test' },
    json: { type: 'string' },
  },
});
sharp.concurrency(1);
const SIDE = 480;
const SIZES = [24, 32, 40, 48, 56, 64, 80, 96, 128, 200];
const rows = spreadSubset(rowsOfSplit(await readManifest(resolve(values.workspace!)), values.split as 'val' | 'test'), Number(values.chips));
const background = await sharp('test/fixtures/photos/no-face.jpg').resize(SIDE, SIDE, { fit: 'cover' }).blur(8).removeAlpha().png().toBuffer();
const model = await loadModel();
const detector = await loadFaceDetector();

interface Cell {
  size: number;
  found: number;
  n: number;
  boxWidth: number[];
  diff: number[];
  absErr: number[];
  genderAgree: number;
  genderRight: number;
  answered: number;
  answeredRight: number;
  quality: number[];
  /** Labels inside the 80% interval. */
  covered: number;
  /** Interval widths (years). */
  width: number[];
}
const cells: Cell[] = SIZES.map((size) => ({ size, found: 0, n: 0, boxWidth: [], diff: [], absErr: [], genderAgree: 0, genderRight: 0, answered: 0, answeredRight: 0, quality: [], covered: 0, width: [] }));
let directCovered = 0;
let directErr = 0;
let directGender = 0;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

for (const [k, row] of rows.entries()) {
  const chipBytes = await sharp(row.source).toBuffer();
  const direct = await model.predict(chipBytes);
  directErr += Math.abs(direct.age - row.age);
  if (row.age >= direct.ageInterval[0] && row.age <= direct.ageInterval[1]) directCovered++;
  if ((direct.femaleProbability >= 0.5 ? 'female' : 'male') === row.gender) directGender++;
  const rng = mulberry32(7919 * k + 17);
  for (const cell of cells) {
    const s = cell.size;
    const room = SIDE - s;
    const left = Math.round(room / 2 + (rng() - 0.5) * 0.2 * room);
    const top = Math.round(room / 2 + (rng() - 0.5) * 0.2 * room);
    const pasted = await sharp(chipBytes).resize(s, s).png().toBuffer();
    const jpeg = await sharp(background).composite([{ input: pasted, left, top }]).jpeg({ quality: 90 }).toBuffer();
    const image = await loadImageInput(jpeg);
    cell.n++;
    let faces;
    try {
      faces = (await analyzeImage(model, detector, image, { detect: true })).faces;
    } catch {
      continue; // NO_USABLE_FACE: not found
    }
    const cx = left + s / 2;
    const cy = top + s / 2;
    const hit = faces.find((f) => cx >= f.box.x && cx <= f.box.x + f.box.width && cy >= f.box.y && cy <= f.box.y + f.box.height);
    if (!hit) continue;
    cell.found++;
    cell.boxWidth.push(hit.box.width);
    cell.diff.push(Math.abs(hit.prediction.age - direct.age));
    cell.absErr.push(Math.abs(hit.prediction.age - row.age));
    const g = hit.prediction.femaleProbability >= 0.5 ? 'female' : 'male';
    if (g === (direct.femaleProbability >= 0.5 ? 'female' : 'male')) cell.genderAgree++;
    if (g === row.gender) cell.genderRight++;
    if (hit.prediction.gender !== 'uncertain') {
      cell.answered++;
      if (hit.prediction.gender === row.gender) cell.answeredRight++;
    }
    cell.quality.push(hit.quality.score);
    const [lo, hi] = hit.prediction.ageInterval;
    if (row.age >= lo && row.age <= hi) cell.covered++;
    cell.width.push(hi - lo);
  }
  if ((k + 1) % 50 === 0) process.stderr.write(`${k + 1}/${rows.length} chips\n`);
}
model.dispose();
detector.dispose();

const pct = (a: number, b: number): string => (b === 0 ? '–' : `${((100 * a) / b).toFixed(1)}%`);
console.log(`${rows.length} UTKFace ${values.split} chips; their own predictions at full size: age MAE ${(directErr / rows.length).toFixed(2)}, gender ${pct(directGender, rows.length)}, label inside the 80% interval ${pct(directCovered, rows.length)}\n`);
console.log('| chip side (px) | face box width, median (px) | found | age MAE vs label | MAE of the difference from the full-size chip | within 2 y of it | gender agrees with it | gender right (argmax) | answered (not uncertain) | right when answered | quality, median | label inside the 80% interval | interval width, median (y) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const c of cells) {
  console.log(
    `| ${c.size} | ${median(c.boxWidth).toFixed(0)} | ${pct(c.found, c.n)} | ${mean(c.absErr).toFixed(2)} | ${mean(c.diff).toFixed(2)} | ${pct(c.diff.filter((d) => d <= 2).length, c.found)} | ${pct(c.genderAgree, c.found)} | ${pct(c.genderRight, c.found)} | ${pct(c.answered, c.found)} | ${pct(c.answeredRight, c.answered)} | ${median(c.quality).toFixed(2)} | ${pct(c.covered, c.found)} | ${median(c.width).toFixed(1)} |`,
  );
}
if (values.json) await writeFile(values.json, JSON.stringify({ chips: rows.length, directMae: directErr / rows.length, cells }, null, 1));
