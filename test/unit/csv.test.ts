import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { csvCell, csvLine, fixedDecimals, parseCsv, parseCsvRecords, toCsv } from '../../src/core/csv.js';
import { PREDICT_CSV_HEADER, predictCsvRows } from '../../src/pipeline/predict-csv.js';
import type { PredictFileResult } from '../../src/pipeline/predict-files.js';

test('csvCell quotes only cells with a comma, quote or line break, and doubles quotes', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  assert.equal(csvCell('cr\r'), '"cr\r"');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(undefined), '');
  assert.equal(csvCell(0.25), '0.25');
  assert.equal(csvCell(false), 'false');
  assert.equal(csvLine(['x', 1, null, 'y,z']), 'x,1,,"y,z"');
});

test('fixedDecimals rounds only non-integer numbers', () => {
  assert.deepEqual([1.23456, 7, 'x', null, true].map((v) => fixedDecimals(v, 4)), ['1.2346', 7, 'x', null, true]);
});

test('toCsv writes a header and one line per row, each ending in \\n', () => {
  assert.equal(toCsv(['a', 'b'], [[1, 'x'], [null, 'p"q']]), 'a,b\n1,x\n,"p""q"\n');
  assert.equal(toCsv(['only'], []), 'only\n');
});

test('parseCsv reads back what toCsv writes, including quoted commas, quotes and line breaks', () => {
  const rows = [['a.jpg', '1', ''], ['b, "c".jpg', 'two\nlines', 'x\r\ny']];
  assert.deepEqual(parseCsv(toCsv(['file', 'n', 'note'], rows)), [['file', 'n', 'note'], ...rows]);
  assert.deepEqual(parseCsv('a,b\r\n1,2\r3,4'), [['a', 'b'], ['1', '2'], ['3', '4']]);
  assert.deepEqual(parseCsv('x,\n'), [['x', '']]);
  assert.deepEqual(parseCsv(''), []);
});

test('predictCsvRows: one row per face, face 0 for a file without one, the error for a failed file', () => {
  assert.equal(PREDICT_CSV_HEADER, 'file,face,x,y,width,height,score,age,age_low,age_high,gender,gender_probability,female_probability,quality,note,error');
  const face = { box: { x: 1, y: 2, width: 30, height: 40 }, score: 0.9, age: 31.5, ageInterval: [25, 38] as [number, number], gender: 'female' as const, genderProbability: 0.8, femaleProbability: 0.8, quality: { score: 0.7, detector: 0.9, landmarkFit: 0.8, sharpness: 0.6, exposure: 0.7 } };
  const ok: PredictFileResult = { file: 'a,b.jpg', width: 100, height: 100, faces: [face, { ...face, score: null }], error: null };
  assert.deepEqual(predictCsvRows(ok), ['"a,b.jpg",1,1,2,30,40,0.9,31.5,25,38,female,0.8,0.8,0.7,,', '"a,b.jpg",2,1,2,30,40,,31.5,25,38,female,0.8,0.8,0.7,,']);
  assert.deepEqual(predictCsvRows({ file: 'n.jpg', width: 5, height: 5, faces: [], error: null }), ['n.jpg,0,,,,,,,,,,,,,,']);
  // a note (a multi-frame file read at its first frame) is on every row of its file, quoted as needed
  const note = 'the GIF holds 3 frames: only the first was analysed, "first"';
  assert.deepEqual(predictCsvRows({ ...ok, note }).map((r) => parseCsv(r)[0]!.slice(-2)), [[note, ''], [note, '']]);
  const failed: PredictFileResult = { file: 'bad.jpg', width: null, height: null, faces: [], error: { code: 'INVALID_IMAGE', message: 'not an image, "x"' } };
  const [row] = predictCsvRows(failed);
  assert.deepEqual(parseCsv(row!)[0], ['bad.jpg', '', '', '', '', '', '', '', '', '', '', '', '', '', '', 'INVALID_IMAGE: not an image, "x"']);
  for (const r of [...predictCsvRows(ok), row!]) assert.equal(parseCsv(r)[0]!.length, parseCsv(PREDICT_CSV_HEADER)[0]!.length);
});

test('parseCsvRecords gives the line each record starts on and the line of a quote never closed', () => {
  assert.deepEqual(parseCsvRecords('a,b\r\n"x\r\ny",2\r\n\r\nz,3\r"q').records, [
    { line: 1, cells: ['a', 'b'] },
    { line: 2, cells: ['x\r\ny', '2'] },
    { line: 4, cells: [''] },
    { line: 5, cells: ['z', '3'] },
    { line: 6, cells: ['q'] },
  ]);
  assert.equal(parseCsvRecords('a\n"b\nc\n').unclosedQuoteLine, 2);
  assert.equal(parseCsvRecords('a\n"b"\n').unclosedQuoteLine, null);
});
