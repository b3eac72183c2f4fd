// Scoring the photo path on labelled photos: the pure summary (eval/photos.ts), the labels parser,
// evaluatePhotos on fixture photos (real detector, fake model) and the CLI's checks of its options.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { after, before, describe, it } from 'node:test';
import { runEvaluatePhotos } from '../../src/cli/commands/evaluate.js';
import { runEvaluateCli } from '../helpers/evaluate-cli.js';
import { AgeGenderError } from '../../src/core/errors.js';
import { decadeBias, failedPhotoLines, formatPhotoSummary, maeWithoutDecadeBias, parsePhotoLabels, photoRecordsCsv, signedErrorByDecade, summarisePhotos, type PhotoRecord } from '../../src/eval/photos.js';
import { loadFaceDetector, type FaceDetector } from '../../src/pipeline/detect.js';
import { photoShiftHtml } from '../../src/report/model-card.js';
import { checkPhotoEvaluationModel, evaluatePhotos, readPhotoEvaluation, spreadSubset } from '../../src/workflow/evaluate-photos.js';
import { photoPartialPath } from '../../src/workflow/photo-partial.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';
import type { ManifestRow } from '../../src/core/types.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { writeEvaluation } from '../../src/workspace/evaluation.js';

const PHOTOS = fileURLToPath(new URL('../fixtures/photos/', import.meta.url));

function record(over: Partial<PhotoRecord>): PhotoRecord {
  return { file: 'x.jpg', age: 30, gender: 'female', faces: 1, predictedAge: 30, femaleProbability: 0.9, predictedGender: 'female', ms: 10, error: null, ...over };
}

describe('summarisePhotos', () => {
  it('counts recall over all photos, age and gender over faces found, coverage over answered genders', () => {
    const s = summarisePhotos([
      record({ age: 30, predictedAge: 34, ms: 10 }), // +4, within 5 and 8
      record({ age: 40, predictedAge: 33, gender: 'male', predictedGender: 'female', ms: 30 }), // −7, wrong
      record({ age: 5, predictedAge: 5.5, predictedGender: 'uncertain', femaleProbability: 0.55, ms: 20, faces: 2 }), // abstained
      record({ faces: 0, predictedAge: null, femaleProbability: null, predictedGender: null, ms: 40 }), // no face
      record({ faces: 0, predictedAge: null, femaleProbability: null, predictedGender: null, ms: null, error: 'cannot read file' }),
    ]);
    assert.equal(s.photos, 5);
    assert.equal(s.failed, 1);
    assert.deepEqual(s.found, { count: 3, share: 3 / 4 }, 'recall over the photos read: the unreadable one is left out');
    assert.equal(s.multipleFaces, 1);
    assert.equal(s.age.count, 3);
    assert.ok(Math.abs(s.age.mae! - (4 + 7 + 0.5) / 3) < 1e-12);
    assert.ok(Math.abs(s.age.meanError! - (4 - 7 + 0.5) / 3) < 1e-12);
    assert.equal(s.age.cs5, 2 / 3);
    assert.equal(s.age.cs8, 1);
    assert.deepEqual(s.gender, { answered: 2, coverage: 2 / 3, accuracy: 1 / 2, accuracyAll: 1 / 3 });
    assert.equal(s.ms.median, 25);
    assert.equal(s.ms.mean, 25);
    const byDecade = Object.fromEntries(s.byDecade.map((d) => [d.decade, d]));
    assert.deepEqual(byDecade['30-39'], { decade: '30-39', count: 1, meanError: 4, mae: 4 });
    assert.deepEqual(byDecade['40-49'], { decade: '40-49', count: 1, meanError: -7, mae: 7 });
    assert.equal(byDecade['0-9']!.meanError, 0.5);
    assert.equal(byDecade['70-79']!.count, 0);
    assert.equal(byDecade['70-79']!.meanError, null);
    assert.match(formatPhotoSummary(s).join('\n'), /photos: 5 \(1 could not be read or analysed, left out of recall\); a face found in 75\.0% \(3 of 4\)[\s\S]*coverage 66\.7%[\s\S]*40-49 -7\.0 \(n 1\)/);
  });

  it('gives nulls, not NaN, when nothing was found', () => {
    const s = summarisePhotos([record({ faces: 0, predictedAge: null, predictedGender: null, femaleProbability: null })]);
    assert.equal(s.found.share, 0);
    assert.equal(s.age.mae, null);
    assert.equal(s.gender.coverage, null);
    assert.equal(s.gender.accuracy, null);
  });

  it('a decade whose mean signed error rounds to zero reads 0.0 on the console and in the card, not -0.0', () => {
    const s = summarisePhotos([record({ age: 80, predictedAge: 80.1 }), record({ age: 81, predictedAge: 80.9 }), record({ age: 82, predictedAge: 81.99 }), record({ age: 40, predictedAge: 43 }), record({ age: 50, predictedAge: 47 })]);
    assert.ok(s.byDecade.find((d) => d.decade === '80-89')!.meanError! < 0);
    assert.match(formatPhotoSummary(s).join('\n'), /signed age error by decade: 40-49 \+3\.0 \(n 1\), 50-59 -3\.0 \(n 1\), 80-89 0\.0 \(n 3\)$/);
    const card = photoShiftHtml({ photos: 'p', labels: 'l', model: 'm', runtime: 'r', detector: null, createdAt: '2026-01-01', summary: s });
    assert.match(card, /<td>40-49<\/td><td>1<\/td><td>\+3\.0<\/td>/);
    assert.match(card, /<td>50-59<\/td><td>1<\/td><td>−3\.0<\/td>/);
    assert.match(card, /<td>80-89<\/td><td>3<\/td><td>0\.0<\/td>/);
  });
  it('signedErrorByDecade keys by the true age', () => {
    const d = signedErrorByDecade([12, 18, 65], [10, 20, 70]);
    assert.deepEqual(d.find((x) => x.decade === '10-19'), { decade: '10-19', count: 2, meanError: 0, mae: 2 });
    assert.deepEqual(d.find((x) => x.decade === '60-69'), { decade: '60-69', count: 1, meanError: 5, mae: 5 });
  });

  it("maeWithoutDecadeBias takes each decade's mean signed error off its faces", () => {
    // 30s: errors −3, −5 (bias −4) → |1|, |−1|; 50s: −5 (bias −5) → 0; plain MAE 13/3
    assert.ok(Math.abs(maeWithoutDecadeBias([30, 34, 50], [27, 29, 45])! - 2 / 3) < 1e-12);
    // a constant shift within each decade is all bias; spread around it stays
    assert.equal(maeWithoutDecadeBias([20, 25, 60, 61], [15, 20, 68, 69]), 0);
    assert.equal(maeWithoutDecadeBias([], []), null);
    assert.throws(() => maeWithoutDecadeBias([1, 2], [1]), /as many predictions as labels/);
  });

  it('decadeBias counts only decades with at least 20 faces; the summary and the card say when none has', () => {
    // ten photos, one per decade: each decade's own error is its bias, so nothing would be left by construction
    const one = Array.from({ length: 10 }, (_, i) => i * 10 + 5);
    const s = summarisePhotos(one.map((age, i) => record({ age, predictedAge: age + (i % 2 ? 9 : -7) })));
    assert.equal(s.age.decadeBias, null);
    assert.equal(s.age.maeWithoutDecadeBias, undefined, 'the old field is not written');
    assert.match(formatPhotoSummary(s).join('\n'), /MAE without the by-decade bias: n\/a \(no decade has 20 faces\)/);
    // 20 faces in the 30s (errors −3 and −5 alternating: bias −4, 1 left each), 3 in the 50s (left out)
    const actual = [...Array.from({ length: 20 }, (_, i) => 30 + (i % 10)), 50, 51, 52];
    const predicted = actual.map((a, i) => (i < 20 ? a + (i % 2 ? -5 : -3) : a + 10));
    assert.deepEqual(decadeBias(actual, predicted), { minFaces: 20, faces: 20, mae: 4, maeWithout: 1 });
    assert.equal(decadeBias(actual, predicted, 21), null);
    assert.equal(decadeBias(actual, predicted, 3)!.faces, 23);
    const t = summarisePhotos(actual.map((age, i) => record({ age, predictedAge: predicted[i]! })));
    assert.match(formatPhotoSummary(t).join('\n'), /over the 20 faces in decades with ≥ 20: MAE 4\.00, 1\.00 without the by-decade bias/);
    const card = (summary: typeof t): string => photoShiftHtml({ photos: 'p', labels: 'l', model: 'm', runtime: 'r', detector: null, createdAt: '2026-01-01', summary });
    assert.match(card(t), /Over the 20 faces in decades with at least 20 \(MAE 4\.00\), taking each decade's mean signed error off its faces \(with the labels: an attribution, not a correction\) leaves an MAE of <b>1\.00<\/b>: 3\.00 years of that MAE is the by-decade shift\./);
    assert.match(card(s), /No decade has 20 faces: too few to tell/);
    // a file from before the rule: its figure is quoted only when every decade with faces has 20
    assert.doesNotMatch(card({ ...s, age: { ...s.age, decadeBias: undefined, maeWithoutDecadeBias: 3.48 } }), /leaves an MAE|No decade/);
    const full = summarisePhotos(actual.slice(0, 20).map((age, i) => record({ age, predictedAge: predicted[i]! })));
    assert.match(card({ ...full, age: { ...full.age, decadeBias: undefined, maeWithoutDecadeBias: 1 } }), /Taking each decade's mean signed error off its faces .* leaves an MAE of <b>1\.00<\/b>: 3\.00 years of the MAE is the by-decade shift \(every decade here has at least 20 faces\)/);
  });

  it("with a reference, decadeBias also takes off only each decade's error beyond the reference's; the summary, console and card say so", () => {
    // 30s: every error −4; 50s: every error +6 (20 faces each)
    const actual = [...Array.from({ length: 20 }, (_, i) => 30 + (i % 10)), ...Array.from({ length: 20 }, (_, i) => 50 + (i % 10))];
    const predicted = actual.map((a, i) => a + (i < 20 ? -4 : 6));
    // the reference: 25 faces in their 30s read 1 year young; 5 in their 50s (too few to tell: the whole +6 comes off there)
    const refAges = [...Array.from({ length: 25 }, (_, i) => 30 + (i % 10)), 50, 52, 54, 56, 58];
    const ref = signedErrorByDecade(refAges, refAges.map((a, i) => a + (i < 25 ? -1 : 2)));
    // the 30s keep 1 year each (−4 less −1 taken off: −1), the 50s none
    assert.deepEqual(decadeBias(actual, predicted, 20, ref), { minFaces: 20, faces: 40, mae: 5, maeWithout: 0, maeWithoutExcess: 0.5 });
    assert.equal(decadeBias(actual, predicted)!.maeWithoutExcess, undefined, 'no reference, no such figure');
    const reference = { evaluation: '/e/test', split: 'test', byDecade: ref };
    const s = summarisePhotos(actual.map((age, i) => record({ age, predictedAge: predicted[i]! })), reference);
    assert.deepEqual(s.reference, reference);
    assert.equal(s.age.decadeBias!.maeWithoutExcess, 0.5);
    assert.match(formatPhotoSummary(s).join('\n'), /MAE 5\.00, 0\.00 without the by-decade bias, 0\.50 without only the part beyond the reference's \(test split of \/e\/test\)/);
    const html = photoShiftHtml({ photos: 'p', labels: 'l', model: 'm', runtime: 'r', detector: null, createdAt: '2026-01-01', summary: s });
    assert.match(html, /leaves an MAE of <b>0\.00<\/b> \(every decade here has at least 20 faces\)\. That overstates the population's shift/);
    assert.match(html, /leaves <b>0\.50<\/b>: 4\.50 years of the MAE is the population's shift\./);
    assert.match(html, /<th>mean signed error on test chips \(faces\)<\/th>/);
    assert.match(html, /<tr><td>30-39<\/td><td>20<\/td><td>−4\.0<\/td><td>4\.00<\/td><td>−1\.0 \(25\)<\/td><\/tr>/);
    assert.doesNotMatch(photoShiftHtml({ photos: 'p', labels: 'l', model: 'm', runtime: 'r', detector: null, createdAt: '2026-01-01', summary: summarisePhotos(actual.map((age, i) => record({ age, predictedAge: predicted[i]! }))) }), /on test chips|population's shift/);
  });

  it('photoRecordsCsv writes one row per photo with empty cells where there is no face', () => {
    const csv = photoRecordsCsv([record({ file: 'a,b.jpg', predictedAge: 31.25 }), record({ faces: 0, predictedAge: null, femaleProbability: null, predictedGender: null, ms: null, error: 'x' })]).trim().split('\n');
    assert.equal(csv.length, 3);
    assert.equal(csv[0], 'file,age,gender,faces,predicted_age,age_error,female_probability,predicted_gender,gender_correct,ms,note,error');
    assert.equal(csv[1], '"a,b.jpg",30,female,1,31.2500,1.2500,0.9,female,true,10,,');
    assert.equal(csv[2], 'x.jpg,30,female,0,,,,,,,,x');
    // P(female) in full: 4 decimals would write 0.0000
    assert.equal(photoRecordsCsv([record({ gender: 'male', femaleProbability: 0.000012345, predictedGender: 'male' })]).split('\n')[1], 'x.jpg,30,male,1,30,0,0.000012345,male,true,10,,');
    // a multi-frame file's note, before the error (as predict's CSV)
    assert.equal(photoRecordsCsv([record({ note: 'the GIF holds 3 frames: only the first was analysed' })]).split('\n')[1], 'x.jpg,30,female,1,30,0,0.9,female,true,10,the GIF holds 3 frames: only the first was analysed,');
  });
});

describe('parsePhotoLabels', () => {
  it('reads file,age,gender in any column order and ignores blank lines', () => {
    assert.deepEqual(parsePhotoLabels('gender,file,age\r\nMale,"a, b.jpg",31\n\nfemale,c.jpg,4\n', 'l.csv'), [
      { file: 'a, b.jpg', age: 31, gender: 'male' },
      { file: 'c.jpg', age: 4, gender: 'female' },
    ]);
  });
  it('names the file and line of a bad row', () => {
    assert.throws(() => parsePhotoLabels('file,age\na.jpg,3\n', 'l.csv'), /l\.csv: Expected a header with columns file,age,gender but the first line lacks gender/);
    // semicolons or tabs (a spreadsheet's other CSV flavours): the message says why every column is missing
    const oneColumn = (sep: string) => `l.csv: Expected a header with columns file,age,gender but the first line lacks file, age, gender: it is read as one column "file${sep}age${sep}gender"; separate the columns with commas`;
    assert.throws(() => parsePhotoLabels('file;age;gender\na.jpg;3;male\n', 'l.csv'), (e: unknown) => e instanceof AgeGenderError && e.message === oneColumn(';'));
    assert.throws(() => parsePhotoLabels('file\tage\tgender\na.jpg\t3\tmale\n', 'l.csv'), (e: unknown) => e instanceof AgeGenderError && e.message === oneColumn('\\t'), 'the tab shown as \\t');
    assert.throws(() => parsePhotoLabels('file,age,gender\na.jpg,3,male\nb.jpg,old,male\n', 'l.csv'), /l\.csv:3: Expected an age between 0 and 120 but received "old"/);
    assert.throws(() => parsePhotoLabels('file,age,gender\na.jpg,3,x\n', 'l.csv'), /l\.csv:2: Expected gender male or female \(or m, f\) but received "x"/);
    assert.throws(() => parsePhotoLabels('file,age,gender\na.jpg,3,0\n', 'l.csv'), /received "0"/, 'numeric codes are ambiguous');
    // A spreadsheet's export: byte-order mark, CRLF, capitalised header and values, M/F.
    assert.deepEqual(parsePhotoLabels('\ufeffFile,Age,Gender\r\na.jpg,3,Male\r\nb.jpg,40,F\r\nc.jpg,7,m\r\n', 'l.csv'), [
      { file: 'a.jpg', age: 3, gender: 'male' },
      { file: 'b.jpg', age: 40, gender: 'female' },
      { file: 'c.jpg', age: 7, gender: 'male' },
    ]);
    assert.throws(() => parsePhotoLabels('file,age,gender\na.jpg,3,male\na.jpg,4,male\n', 'l.csv'), /l\.csv:3: file a\.jpg is labelled twice/);
    assert.throws(() => parsePhotoLabels('file,age,gender\n', 'l.csv'), /at least one labelled photo/);
  });
  it('reads a whole CSV: quoted line breaks, CR line ends; line numbers count the text lines', () => {
    assert.deepEqual(parsePhotoLabels('file,age,gender\r"a\nb.jpg",30,m\rc.jpg,3,f\r', 'l.csv'), [
      { file: 'a\nb.jpg', age: 30, gender: 'male' },
      { file: 'c.jpg', age: 3, gender: 'female' },
    ]);
    assert.throws(() => parsePhotoLabels('file,age,gender\n"a\nb.jpg",30,m\nc.jpg,3,x\n', 'l.csv'), /l\.csv:4: Expected gender male or female \(or m, f\) but received "x"/);
    assert.throws(() => parsePhotoLabels('file,age,gender\na.jpg,3,m\n"b.jpg,4,f\nc.jpg,5,m\n', 'l.csv'), /l\.csv:3: Expected a closing quote for the field opened on this line but the file ends inside it/);
  });
  it('refuses ages that are not plain decimal numbers, a repeated column, and one file under two spellings', () => {
    for (const age of ['0x1e', '3e1', '+30', '-1', '121', 'Infinity', '3 0']) {
      assert.throws(() => parsePhotoLabels(`file,age,gender\na.jpg,${age},m\n`, 'l.csv'), new RegExp(`l\\.csv:2: Expected an age between 0 and 120 but received "${age.replace('+', '\\+')}"`), age);
    }
    assert.deepEqual(parsePhotoLabels('file,age,gender\na.jpg,2.5,m\nb.jpg,0,f\nc.jpg,120,f\n', 'l.csv').map((l) => l.age), [2.5, 0, 120]);
    assert.throws(() => parsePhotoLabels('file,age,gender,age\na.jpg,3,m,4\n', 'l.csv'), /l\.csv: Expected each of file,age,gender once in the header but it names age more than once/);
    assert.throws(() => parsePhotoLabels('file,age,gender\nsub/a.jpg,3,male\nx.jpg,5,f\n./sub//a.jpg,4,male\n', 'l.csv'), /l\.csv:4: file \.\/sub\/\/a\.jpg is labelled twice \(first on line 2\)/);
  });
});

describe('spreadSubset', () => {
  it('takes every k-th item, all of them without a limit', () => {
    assert.deepEqual(spreadSubset([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3), [0, 3, 6]);
    assert.deepEqual(spreadSubset([1, 2], undefined), [1, 2]);
    assert.deepEqual(spreadSubset([1, 2], 5), [1, 2]);
    assert.throws(() => spreadSubset([1, 2, 3], 0), /positive integer for limit/);
    // checked whatever the number of labels (a limit above it was taken as "all")
    for (const limit of [5.5, Infinity, Number.NaN]) assert.throws(() => spreadSubset([1, 2], limit), /Expected a positive integer for limit/, String(limit));
  });
});

describe('evaluatePhotos on fixture photos', () => {
  let dir: string;
  let detector: FaceDetector;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agegender-photos-'));
    detector = await loadFaceDetector();
  });
  after(async () => {
    detector.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('scores the largest face of each photo, records photos without a face or unreadable, writes JSON + CSV', async () => {
    const labels = join(dir, 'labels.csv');
    await writeFile(labels, 'file,age,gender\nthree-faces.jpg,24,male\nno-face.jpg,30,female\nmissing.jpg,40,male\n');
    const model = fakeModel();
    const out = join(dir, 'out');
    const { result, records, files } = await evaluatePhotos({ photos: PHOTOS, labels, out, model, detector });
    assert.deepEqual(records.map((r) => [r.file, r.faces, r.error === null]), [
      ['three-faces.jpg', 3, true],
      ['no-face.jpg', 0, true],
      ['missing.jpg', 0, false],
    ]);
    assert.equal(records[2]!.error, `cannot read file: no such file (looked for ${join(PHOTOS, 'missing.jpg')})`, 'where it was looked for');
    // the fake model saw 3 chips (one batch for three-faces.jpg); the largest face's prediction is kept
    assert.equal(model.seen.length, 3);
    assert.equal(typeof records[0]!.predictedAge, 'number');
    assert.equal(result.summary.found.count, 1);
    assert.equal(result.summary.found.share, 1 / 2, 'the missing photo is a failure, not a detector miss');
    assert.equal(result.summary.failed, 1);
    assert.equal(result.detector, detector.name);
    assert.equal(result.alignment, 'dlib68');
    assert.match(photoShiftHtml(result), /chips cut by 68 landmarks fitted to the frame UTKFace&#39;s chips were cut in/);
    const stored = JSON.parse(await readFile(files.result, 'utf8')) as typeof result;
    assert.deepEqual(stored.summary, result.summary);
    assert.equal((await readFile(files.predictions, 'utf8')).trim().split('\n').length, 4);
  });

  it('an animated GIF or a multi-page TIFF is scored at its first frame or page and its record and CSV row say so, as predict does', async () => {
    const folder = join(dir, 'frames');
    await mkdir(folder, { recursive: true });
    const chip = await sharp(join(PHOTOS, 'chip-35-male.jpg')).raw().toBuffer();
    const dark = chip.map((v) => v >> 1); // frames that differ: a GIF encoder merges identical ones
    const frames = (): Sharp => sharp(Buffer.concat([chip, dark, chip]), { raw: { width: 200, height: 600, channels: 3, pageHeight: 200 } });
    await frames().gif({ delay: [100, 100, 100] }).toFile(join(folder, 'anim.gif'));
    const tiff = await frames().tiff({ compression: 'lzw' }).toBuffer();
    await writeFile(join(folder, 'pages.tiff'), tiff);
    await copyFile(join(PHOTOS, 'chip-35-male.jpg'), join(folder, 'still.jpg'));
    await writeFile(join(folder, 'cut.tiff'), tiff.subarray(0, tiff.length - 10)); // an interrupted download
    const labels = join(dir, 'frames.csv');
    await writeFile(labels, 'file,age,gender\nanim.gif,35,male\npages.tiff,35,male\nstill.jpg,35,male\ncut.tiff,35,male\n');
    const { records, files } = await evaluatePhotos({ photos: folder, labels, out: join(dir, 'frames-out'), model: fakeModel(), detect: false });
    const notes = ['the GIF holds 3 frames: only the first was analysed', 'the TIFF holds 3 pages: only the first was analysed', undefined, 'the TIFF is cut off (a truncated file): only its first page, which is whole, was analysed'];
    assert.deepEqual(records.map((r) => [r.file, r.faces, r.note, r.error]), records.map((r, i) => [r.file, 1, notes[i], null]));
    const rows = (await readFile(files.predictions, 'utf8')).trim().split('\n');
    assert.ok(rows[0]!.endsWith(',ms,note,error'), rows[0]);
    assert.ok(rows[1]!.startsWith('anim.gif,35,male,1,') && rows[1]!.endsWith(`,${notes[0]},`), rows[1]);
    assert.ok(rows[2]!.startsWith('pages.tiff,35,male,1,') && rows[2]!.endsWith(`,${notes[1]},`), rows[2]);
    assert.ok(rows[3]!.startsWith('still.jpg,35,male,1,') && rows[3]!.endsWith(',,'), rows[3]);
  });

  it('with detect: false takes each photo as one chip; limit spreads over the labels', async () => {
    const labels = join(dir, 'chips.csv');
    await writeFile(labels, 'file,age,gender\nchips/24_0_2_20170116170633399.jpg.chip.jpg,24,male\nchips/35_0_0_20170117203240562.jpg.chip.jpg,35,male\nchips/6_1_0_20170109194207894.jpg.chip.jpg,6,female\nchip-35-male.jpg,35,male\n');
    const { records, result } = await evaluatePhotos({ photos: PHOTOS, labels, out: join(dir, 'chips'), model: fakeModel(), detect: false, limit: 2 });
    assert.deepEqual(records.map((r) => r.file), ['chips/24_0_2_20170116170633399.jpg.chip.jpg', 'chips/6_1_0_20170109194207894.jpg.chip.jpg']);
    assert.ok(records.every((r) => r.faces === 1 && r.predictedAge !== null));
    assert.equal(result.detector, null);
    assert.equal(result.alignment, null);
    assert.doesNotMatch(photoShiftHtml(result), /chips cut by/);
    assert.equal(result.summary.found.share, 1);
    // the quality gate of predict --no-detect still runs: a photo with no face filling it is a miss, not a face
    const gated = join(dir, 'gated.csv');
    await writeFile(gated, 'file,age,gender\nno-face.jpg,30,female\nchip-35-male.jpg,35,male\n');
    const run = await evaluatePhotos({ photos: PHOTOS, labels: gated, out: join(dir, 'gated'), model: fakeModel(), detector, detect: false });
    assert.deepEqual(run.records.map((r) => [r.file, r.faces, r.predictedAge === null, r.error]), [['no-face.jpg', 0, true, null], ['chip-35-male.jpg', 1, false, null]]);
    assert.deepEqual(run.result.summary.found, { count: 1, share: 1 / 2 });
    assert.equal(run.result.detector, null, 'no detection: the detector only gated');
  });

  it('the model card shows a stored photo evaluation with its signed error by decade; a bad file is named', async () => {
    const labels = join(dir, 'card.csv');
    await writeFile(labels, 'file,age,gender\nchips/24_0_2_20170116170633399.jpg.chip.jpg,24,male\nchip-35-male.jpg,35,male\n');
    const { files, result } = await evaluatePhotos({ photos: PHOTOS, labels, out: join(dir, 'card'), model: fakeModel(), detect: false });
    const stored = await readPhotoEvaluation(files.result);
    assert.deepEqual(stored.summary, result.summary);
    const html = photoShiftHtml(stored);
    assert.match(html, /2 labelled photos/);
    assert.match(html, /<tr><td>20-29<\/td><td>1<\/td>/);
    assert.match(html, /<tr><td>30-39<\/td><td>1<\/td>/);
    assert.doesNotMatch(html, /<td>70-79<\/td>/);
    assert.match(html, /No decade has 20 faces/, 'two photos say nothing about a by-decade shift');
    assert.equal(photoShiftHtml(null), '');
    await writeFile(join(dir, 'bad.json'), '{"photos": 3}');
    await assert.rejects(readPhotoEvaluation(join(dir, 'bad.json')), /bad\.json: Expected a photo-evaluation\.json/);
    // a file with photos and byDecade but not the figures the card quotes: refused naming the field, not a TypeError after the evaluation
    const { gender: _gender, ...noGender } = result.summary;
    await writeFile(join(dir, 'partial.json'), JSON.stringify({ ...result, summary: noGender }));
    await assert.rejects(readPhotoEvaluation(join(dir, 'partial.json')), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${join(dir, 'partial.json')}: Expected a photo-evaluation.json written by \`agegender evaluate --photos\` but summary.gender: Invalid input: expected object, received undefined`);
  });

  it("a reference chip evaluation of the same model is read and split against; another model's or a missing one is refused, naming it", async () => {
    const chipRow = (name: string, age: number): ManifestRow => ({ source: join(PHOTOS, 'chips', name), name, size: 1, sha256: null, phash: null, width: 200, height: 200, age, gender: 'male', ethnicity: 'Asian', datetime: null, status: 'kept', reason: '', cluster: null, duplicateOf: null, split: 'test' });
    const rows = [chipRow('24_0_2_20170116170633399.jpg.chip.jpg', 24), chipRow('35_0_0_20170117203240562.jpg.chip.jpg', 35), chipRow('6_1_0_20170109194207894.jpg.chip.jpg', 6)];
    const model = fakeModel();
    const chips = await evaluate({ model, rows, split: 'test', replicates: 10 });
    const refDir = join(dir, 'reference');
    await writeEvaluation(refDir, chips);
    const labels = join(dir, 'reference.csv');
    await writeFile(labels, 'file,age,gender\nchip-35-male.jpg,35,male\n');
    const { result } = await evaluatePhotos({ photos: PHOTOS, labels, out: join(dir, 'with-reference'), model, detect: false, reference: refDir });
    assert.equal(result.summary.reference!.evaluation, refDir);
    assert.equal(result.summary.reference!.split, 'test');
    assert.deepEqual(result.summary.reference!.byDecade.filter((d) => d.count > 0).map((d) => [d.decade, d.count]), [['0-9', 1], ['20-29', 1], ['30-39', 1]]);
    assert.deepEqual((await readPhotoEvaluation(join(dir, 'with-reference', 'photo-evaluation.json'))).summary.reference, result.summary.reference);
    const other = { ...fakeModel(), metadata: { ...model.metadata, name: 'other' } };
    await assert.rejects(evaluatePhotos({ photos: PHOTOS, labels, out: join(dir, 'other-reference'), model: other, detect: false, reference: refDir }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.startsWith(`${refDir}: the reference evaluation was made by model fake (created 2026-01-01T00:00:00.000Z), not by the model evaluated now (other, created 2026-01-01T00:00:00.000Z): its by-decade error says nothing about this one`));
    const missing = join(dir, 'no-reference');
    await assert.rejects(evaluatePhotos({ photos: PHOTOS, labels, out: join(dir, 'missing-reference'), model, detect: false, reference: missing }), (e: unknown) => e instanceof AgeGenderError && e.code === 'UNREADABLE_FILE' && e.message.startsWith(join(missing, 'evaluation.json')));
    // a folder whose files are not an evaluation's: named, before any photo is scored
    const broken = join(dir, 'broken-reference');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'evaluation.json'), '{"split": ');
    await assert.rejects(evaluatePhotos({ photos: PHOTOS, labels, out: join(dir, 'broken-out'), model, detect: false, reference: broken }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${join(broken, 'evaluation.json')}: the evaluation is not valid JSON`);
    await writeFile(join(broken, 'evaluation.json'), JSON.stringify(chips.result));
    await writeFile(join(broken, 'predictions.csv'), 'file,age\nx.jpg,3\n');
    await assert.rejects(evaluatePhotos({ photos: PHOTOS, labels, out: join(dir, 'broken-out'), model, detect: false, reference: broken }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.startsWith(`${join(broken, 'predictions.csv')}: Expected predictions.csv columns`));
    assert.equal(existsSync(join(dir, 'broken-out', 'photo-evaluation.json')), false);
  });

  it('records the model and the gender threshold; the card states it; a report refuses another model', async () => {
    const labels = join(dir, 'threshold.csv');
    await writeFile(labels, 'file,age,gender\nchip-35-male.jpg,35,male\n');
    const model = fakeModel({ genderThreshold: 0.6 });
    const { result, files } = await evaluatePhotos({ photos: PHOTOS, labels, out: join(dir, 'threshold'), model, detect: false });
    assert.deepEqual(result.modelIdentity, { name: 'fake', createdAt: '2026-01-01T00:00:00.000Z', encoder: 'none', weightsSha256: null, flipTta: null, genderThreshold: 0.6 });
    const stored = await readPhotoEvaluation(files.result);
    assert.match(photoShiftHtml(stored, 0.6), /\(measured at gender threshold <b>0\.6<\/b>\)/);
    assert.match(photoShiftHtml(stored, 0.781), /measured at gender threshold <b>0\.6<\/b>, <b>not the model's 0\.781<\/b>/);
    assert.match(photoShiftHtml({ ...stored, modelIdentity: undefined }), /the gender threshold it was measured at is not recorded/);
    const path = files.result;
    assert.equal(checkPhotoEvaluationModel(stored, model, path), null);
    assert.equal(checkPhotoEvaluationModel(stored, fakeModel({ genderThreshold: 0.781 }), path), `${path}: the photo evaluation was made at gender threshold 0.6, the model's is 0.781; the model card states the settings its figures were measured with`);
    const other = { ...model, metadata: { ...model.metadata, name: 'other' } };
    assert.throws(() => checkPhotoEvaluationModel(stored, other, path), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.startsWith(`${path}: the photo evaluation does not describe the model being reported: made by model fake`));
    assert.throws(() => checkPhotoEvaluationModel(stored, { ...model, fingerprint: { weightsSha256: 'abc', flipTta: false } }, path), /other weights/);
    // a file written before the identity was recorded: the name is all there is to check
    const old = { ...stored, modelIdentity: undefined };
    assert.match(checkPhotoEvaluationModel(old, model, path)!, /records only the model's name \(fake\)/);
    assert.throws(() => checkPhotoEvaluationModel(old, other, path), /the photo evaluation is of model fake, not of other, the model being reported/);
  });

  it('a photo folder that is missing or a file fails before any model is loaded', async () => {
    const labels = join(dir, 'one.csv');
    await writeFile(labels, 'file,age,gender\nno-face.jpg,30,female\n');
    const noModel = { labels, out: join(dir, 'never'), modelDir: join(dir, 'no-model') };
    await assert.rejects(evaluatePhotos({ ...noModel, photos: join(dir, 'nonexist') }), (e: unknown) => e instanceof AgeGenderError && e.code === 'UNREADABLE_FILE' && e.message === `${join(dir, 'nonexist')}: cannot read the photo folder: no such file or folder`);
    await assert.rejects(evaluatePhotos({ ...noModel, photos: labels }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${labels}: Expected a folder of photos but this is a file`);
    assert.equal(existsSync(noModel.out), false);
    // --out a file: refused before any photo is scored or a model loaded
    await assert.rejects(evaluatePhotos({ ...noModel, photos: PHOTOS, out: labels }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${labels}: Expected a folder to write into but this is a file`);
    // a folder named as one of the files written: refused before any photo is scored, not when writing after the run
    const blocked = join(dir, 'blocked');
    await mkdir(join(blocked, 'photo-evaluation.json'), { recursive: true });
    await assert.rejects(evaluatePhotos({ ...noModel, photos: PHOTOS, out: blocked }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${join(blocked, 'photo-evaluation.json')}: Expected a file to write but this is a folder`);
    assert.equal(existsSync(join(blocked, 'photo-predictions.csv')), false, 'nothing written');
    // the labels file is one of the files written (an earlier run's photo-predictions.csv as labels): refused, left as it was
    const earlier = join(dir, 'earlier');
    await mkdir(earlier);
    const reused = join(earlier, 'photo-predictions.csv');
    await writeFile(reused, 'file,age,gender,faces\nno-face.jpg,30,female,0\nthree-faces.jpg,24,male,3\n');
    await assert.rejects(evaluatePhotos({ ...noModel, photos: PHOTOS, labels: reused, out: earlier, limit: 1 }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${reused}: cannot write here: this is the labels file ${reused}`);
    assert.equal(await readFile(reused, 'utf8'), 'file,age,gender,faces\nno-face.jpg,30,female,0\nthree-faces.jpg,24,male,3\n');
  });

  it('photos that cannot be read or decoded are failures left out of recall, named on the console, exit status 1', async () => {
    const photos = join(dir, 'broken');
    await mkdir(photos);
    await copyFile(join(PHOTOS, 'three-faces.jpg'), join(photos, 'three-faces.jpg'));
    await copyFile(join(PHOTOS, 'no-face.jpg'), join(photos, 'no-face.jpg'));
    await writeFile(join(photos, 'empty.jpg'), '');
    await writeFile(join(photos, 'corrupt.jpg'), 'not a jpeg at all');
    const labels = join(dir, 'broken.csv');
    await writeFile(labels, 'file,age,gender\nthree-faces.jpg,24,male\nno-face.jpg,30,female\nempty.jpg,40,male\ncorrupt.jpg,50,female\nmissing.jpg,60,male\n');
    const { result, records } = await evaluatePhotos({ photos, labels, out: join(dir, 'broken-out'), model: fakeModel(), detector });
    assert.equal(result.summary.failed, 3);
    assert.deepEqual(result.summary.found, { count: 1, share: 1 / 2 }, 'a photo without a face is a miss; unreadable ones are not counted');
    const lines = failedPhotoLines(records, 2);
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^failed: empty\.jpg \(.+\)$/);
    assert.match(lines[1]!, /^failed: corrupt\.jpg \(.+\)$/);
    assert.equal(lines[2], '… and 1 more (see the error column of photo-predictions.csv)');
    assert.deepEqual(failedPhotoLines(records.slice(0, 2)), []);
    // the command: the evaluation written, the failed files named, exit status 1 (the shipped model is loaded)
    const { logged, exitCode } = await runEvaluateCli(['--photos', photos, '--labels', labels, '--out', join(dir, 'cli-out'), '--no-detect']);
    assert.equal(exitCode, 1);
    assert.ok(logged.includes('failed: empty.jpg (' + records[2]!.error + ')'), logged.join('\n'));
    assert.ok(existsSync(join(dir, 'cli-out', 'photo-evaluation.json')));
  });

  describe('resume', () => {
    // a run cut short after `after` photos: onProgress throws, as a Ctrl-C would end it
    const cutShort = (after: number) => (done: number): void => {
      if (done === after) throw new Error('interrupted');
    };
    const withoutMs = (r: PhotoRecord): Omit<PhotoRecord, 'ms'> => {
      const { ms: _ms, ...rest } = r;
      return rest;
    };
    const csvWithoutMs = (text: string): string[] => text.trim().split('\n').map((line) => line.split(',').filter((_, i) => i !== 9).join(','));
    const partialLines = async (path: string): Promise<Array<Record<string, unknown>>> => (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    let photos: string;
    let labels: string;
    before(async () => {
      photos = join(dir, 'resume-photos');
      await mkdir(photos);
      for (const f of ['three-faces.jpg', 'no-face.jpg', 'chip-35-male.jpg']) await copyFile(join(PHOTOS, f), join(photos, f));
      labels = join(dir, 'resume.csv');
      // late.jpg is missing when the first run reaches it: a failure, scored again by the resumed run
      await writeFile(labels, 'file,age,gender\nthree-faces.jpg,24,male\nlate.jpg,35,male\nno-face.jpg,30,female\nchip-35-male.jpg,35,male\n');
    });

    it('a run cut short continues from its records: those scored kept, a failed one scored again, the figures those of an uninterrupted run', async () => {
      const out = join(dir, 'resumed');
      const partial = photoPartialPath(out);
      await assert.rejects(evaluatePhotos({ photos, labels, out, model: fakeModel(), detector, onProgress: cutShort(2) }), /interrupted/);
      assert.ok(existsSync(partial), 'the records so far are kept');
      assert.ok(!existsSync(join(out, 'photo-evaluation.json')) && !existsSync(join(out, 'photo-predictions.csv')), 'no result of a run cut short');
      const [header, ...earlier] = await partialLines(partial);
      assert.equal((header!['run'] as Record<string, unknown>)['detector'], detector.name);
      assert.deepEqual(earlier.map((r) => [r['file'], r['error'] === null]), [['three-faces.jpg', true], ['late.jpg', false]]);
      // a kill -9 in the middle of a write: the line cut short is dropped
      await appendFile(partial, '{"file":"no-face.jpg","age":30,"gen');
      await copyFile(join(PHOTOS, 'chip-35-male.jpg'), join(photos, 'late.jpg'));

      const whole = await evaluatePhotos({ photos, labels, out: join(dir, 'uninterrupted'), model: fakeModel(), detector });
      const progress: Array<[number, number]> = [];
      const model = fakeModel();
      const resumed = await evaluatePhotos({ photos, labels, out, model, detector, resume: true, onProgress: (done, total) => void progress.push([done, total]) });
      assert.equal(resumed.kept, 1, 'three-faces.jpg kept; late.jpg, which failed, scored again');
      assert.deepEqual(progress, [[1, 4], [2, 4], [3, 4], [4, 4]], 'progress counts the photos kept');
      assert.equal(model.seen.length, 2, 'three photos scored now (late.jpg, chip-35-male.jpg one chip each; no-face.jpg none), three-faces.jpg not again');
      assert.equal(resumed.records[0]!.ms, earlier[0]!['ms'], 'the kept record as it was written');
      assert.deepEqual(resumed.records.map(withoutMs), whole.records.map(withoutMs));
      assert.equal(resumed.records[1]!.error, null);
      const { ms: _a, ...resumedFigures } = resumed.result.summary;
      const { ms: _b, ...wholeFigures } = whole.result.summary;
      assert.deepEqual(resumedFigures, wholeFigures);
      assert.equal(resumed.result.summary.photos, 4);
      assert.deepEqual(csvWithoutMs(await readFile(resumed.files.predictions, 'utf8')), csvWithoutMs(await readFile(whole.files.predictions, 'utf8')));
      const stored = JSON.parse(await readFile(resumed.files.result, 'utf8')) as typeof resumed.result;
      assert.deepEqual(stored.summary, resumed.result.summary);
      assert.ok(!existsSync(partial), 'the .partial is removed once the result is written');
      assert.ok(!existsSync(photoPartialPath(join(dir, 'uninterrupted'))));
      await rm(join(photos, 'late.jpg'));
    });

    it('a .partial is not written over without resume; a resume with other options, or of a file that is not one, is refused naming it and what differs', async () => {
      const out = join(dir, 'refused');
      const partial = photoPartialPath(out);
      await assert.rejects(evaluatePhotos({ photos, labels, out, model: fakeModel(), detector, onProgress: cutShort(1) }), /interrupted/);
      const before = await readFile(partial, 'utf8');
      const refused = (message: string) => (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.subject === partial && e.message === `${partial}: ${message}`;
      await assert.rejects(evaluatePhotos({ photos, labels, out, model: fakeModel(), detector }), refused('results of a run that did not finish: pass --resume to continue it, or delete this file to start over'));
      const otherOptions = (what: string) => refused(`the records so far were made with other options: ${what}; rerun with that run's options to continue it, or delete this file to start over`);
      await assert.rejects(evaluatePhotos({ photos, labels, out, model: fakeModel(), detector, resume: true, limit: 2 }), otherOptions('limit null → 2'));
      await assert.rejects(evaluatePhotos({ photos, labels, out, model: fakeModel(), detector, resume: true, detect: false }), otherOptions('detect true → false'));
      await assert.rejects(evaluatePhotos({ photos, labels, out, model: fakeModel({ genderThreshold: 0.6 }), detector, resume: true }), otherOptions('genderThreshold 0.5 → 0.6'));
      const other = { ...fakeModel(), metadata: { ...fakeModel().metadata, name: 'other' } };
      await assert.rejects(evaluatePhotos({ photos, labels, out, model: other, detector, resume: true }), otherOptions('model "fake" → "other"'));
      const moreLabels = join(dir, 'resume-more.csv');
      await writeFile(moreLabels, `${await readFile(labels, 'utf8')}extra.jpg,50,female\n`);
      await assert.rejects(evaluatePhotos({ photos, labels: moreLabels, out, model: fakeModel(), detector, resume: true }), (e: unknown) => e instanceof AgeGenderError && e.subject === partial && /other options: labels "[^"]+resume\.csv" → "[^"]+resume-more\.csv", labelsSha256 "[0-9a-f]{64}" → "[0-9a-f]{64}"/.test(e.message));
      assert.equal(await readFile(partial, 'utf8'), before, 'the .partial left as it was');
      await writeFile(partial, 'file,age\nx.jpg,3\n');
      await assert.rejects(evaluatePhotos({ photos, labels, out, model: fakeModel(), detector, resume: true }), refused('Expected the records so far of agegender evaluate --photos but the first line does not say so; delete it or choose another --out'));
      // resume with no .partial: a fresh run
      await rm(partial);
      const fresh = await evaluatePhotos({ photos, labels, out, model: fakeModel(), detector, resume: true, limit: 1 });
      assert.equal(fresh.kept, 0);
      assert.equal(fresh.records.length, 1);
    });
  });

  it('the CLI asks for --labels and --out with --photos, and names an unreadable labels file', async () => {
    const base = { workspace: 'w', split: 'test', batchSize: '8', replicates: '10', seed: '1', photos: PHOTOS };
    await assert.rejects(runEvaluatePhotos({ ...base, out: dir }), /Expected --labels <csv> with --photos/);
    await assert.rejects(runEvaluatePhotos({ ...base, labels: join(dir, 'l.csv') }), /Expected --out <dir> with --photos/);
    await assert.rejects(runEvaluatePhotos({ ...base, labels: join(dir, 'nope.csv'), out: dir }), /nope\.csv: cannot read the labels file: no such file or folder/);
    await assert.rejects(runEvaluatePhotos({ ...base, labels: dir, out: dir }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${dir}: Expected a labels CSV file but this is a folder`);
    // options of a workspace split are refused with --photos, not ignored (their defaults are not counted as given)
    const photoArgs = ['--photos', PHOTOS, '--labels', join(dir, 'nope.csv'), '--out', join(dir, 'never')];
    const refused = (message: string) => (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === message;
    await assert.rejects(runEvaluateCli([...photoArgs, '--replicates', '50']), refused('--replicates applies to a workspace split, not with --photos <dir>'));
    await assert.rejects(runEvaluateCli([...photoArgs, '--split', 'val', '--workspace', dir, '--batch-size', '4', '--seed', '2']), refused('--workspace, --split, --batch-size, --seed apply to a workspace split, not with --photos <dir>'));
    await assert.rejects(runEvaluateCli(photoArgs), /nope\.csv: cannot read the labels file/, 'without them the run goes on to read the labels');
    assert.equal(existsSync(join(dir, 'never')), false);
  });
});
