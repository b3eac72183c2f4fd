import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgeGenderPrediction, ManifestRow } from '../../src/core/types.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import type { ImageInput } from '../../src/io/types.js';
import { evaluate, parsePredictionsCsv, predictionsCsv, PREDICTION_COLUMNS, type PredictionRecord } from '../../src/eval/evaluate.js';
import { rocAuc } from '../../src/eval/metrics.js';
import { bestWorst, sliceMetrics, SLICINGS, type EvalRecord } from '../../src/eval/slices.js';
import { ETHNICITIES } from '../../src/core/types.js';
import { mulberry32 } from '../../src/core/random.js';
import { AgeGenderError } from '../../src/core/errors.js';

function syntheticRecords(n: number, seed: number): EvalRecord[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const age = 1 + Math.floor(rand() * 90);
    const female = rand() < 0.5;
    const ethnicity = ETHNICITIES[Math.floor(rand() * 5)]!;
    // Black faces get a worse age model on purpose, so the gap must name them
    const noise = ethnicity === 'Black' ? 20 : 4;
    return {
      age,
      gender: female ? 'female' : 'male',
      ethnicity,
      predictedAge: age + (rand() - 0.5) * noise,
      femaleProbability: Math.min(1, Math.max(0, (female ? 0.7 : 0.3) + (rand() - 0.5) * 0.6)),
    };
  });
}

test('slice counts add up to the total in every slicing, and the gap finds the worst group', () => {
  const records = syntheticRecords(600, 2);
  const slices = sliceMetrics(records, { replicates: 100, seed: 3 });
  assert.equal(slices.length, SLICINGS.length);
  for (const s of slices) {
    assert.equal(s.total, records.length, s.name);
    assert.equal(
      s.groups.reduce((sum, g) => sum + g.count, 0),
      records.length,
    );
  }
  const eth = slices.find((s) => s.name === 'ethnicity')!;
  assert.deepEqual(
    eth.groups.map((g) => g.name),
    [...ETHNICITIES],
  );
  const maeGap = eth.gaps.find((g) => g.metric === 'mae')!;
  assert.equal(maeGap.worst?.name, 'Black');
  assert.ok(maeGap.gap! > 2, `gap ${maeGap.gap}`);
  const black = eth.groups.find((g) => g.name === 'Black')!;
  assert.ok(black.ci.mae && black.ci.mae.low <= black.age.mae! && black.age.mae! <= black.ci.mae.high);
  const crossed = slices.find((s) => s.name === 'ethnicity × gender × ageBucket')!;
  assert.ok(crossed.groups.every((g) => g.name.split(' / ').length === 3));
});

test('best/worst samples per task', () => {
  const records: EvalRecord[] = [
    { age: 30, gender: 'male', ethnicity: 'White', predictedAge: 30.5, femaleProbability: 0.1 },
    { age: 30, gender: 'female', ethnicity: 'White', predictedAge: 60, femaleProbability: 0.2 },
    { age: 30, gender: 'female', ethnicity: 'Asian', predictedAge: 35, femaleProbability: 0.99 },
  ];
  const bw = bestWorst(records, 1);
  assert.deepEqual(bw.age.best, [{ index: 0, score: 0.5 }]);
  assert.deepEqual(bw.age.worst, [{ index: 1, score: 30 }]);
  assert.equal(bw.gender.best[0]!.index, 2);
  assert.equal(bw.gender.worst[0]!.index, 1);
});

/** A model that reads "age,femaleProbability" from the bytes, and throws on "bad". */
function textModel(): AgeGenderModel {
  const predictOne = async (input: ImageInput): Promise<AgeGenderPrediction> => {
    const text = Buffer.from(input as Uint8Array).toString('utf8');
    if (text === 'bad') throw new Error('Input buffer contains unsupported image format');
    const [age, p] = text.split(',').map(Number) as [number, number];
    return { age, ageInterval: [age - 3, age + 3], gender: p >= 0.5 ? 'female' : 'male', genderProbability: Math.max(p, 1 - p), femaleProbability: p };
  };
  return {
    runtime: 'test',
    genderThreshold: 0.5,
    metadata: { formatVersion: 1, name: 'text', encoder: 'none', inputSize: 8, createdAt: '2026-01-01T00:00:00Z', command: 'test', datasetManifestHash: null, metrics: {} },
    predict: predictOne,
    predictBatch: async (images) => Promise.all(images.map(predictOne)),
    scoreRaw: async () => [],
    dispose: () => undefined,
  };
}

function row(name: string, age: number, gender: 'male' | 'female', split: 'test' | 'train' = 'test'): ManifestRow {
  return {
    source: `/virtual/${name}`,
    name,
    size: 1,
    sha256: null,
    phash: null,
    width: 200,
    height: 200,
    age,
    gender,
    ethnicity: 'Asian',
    datetime: null,
    status: 'kept',
    reason: '',
    cluster: null,
    duplicateOf: null,
    split,
  };
}

test('evaluate: metrics, skipped bad images, CSV, and only the asked split', async () => {
  const files: Record<string, string> = {
    '/virtual/a': '20,0.9',
    '/virtual/b': '42,0.1',
    '/virtual/c': 'bad',
    '/virtual/e': '50,0.5',
  };
  const rows = [row('a', 22, 'female'), row('b', 40, 'male'), row('c', 30, 'male'), row('d', 30, 'male'), row('e', 60, 'female'), row('t', 30, 'male', 'train')];
  const { result, csv, records } = await evaluate({
    model: textModel(),
    rows,
    split: 'test',
    batchSize: 2,
    replicates: 50,
    readBytes: async (source) => {
      const text = files[source];
      if (text === undefined) throw new Error('ENOENT: no such file');
      return Buffer.from(text);
    },
    now: () => new Date('2026-02-02T00:00:00Z'),
  });
  assert.deepEqual(result.counts, { rows: 5, evaluated: 3, skipped: 2 });
  assert.deepEqual(
    result.skipped.map((s) => s.source).sort(),
    ['/virtual/c', '/virtual/d'],
  );
  assert.match(result.skipped.find((s) => s.source === '/virtual/c')!.reason, /unsupported image format/);
  assert.equal(records.length, 3);
  // errors: -2, 2, -10
  assert.equal(result.age.mae, 14 / 3);
  assert.equal(result.age.within8, 2 / 3);
  assert.equal(result.gender.accuracy, 1);
  assert.equal(result.gender.rocAuc, 1);
  assert.deepEqual(result.confusion.gender.matrix, [
    [1, 0],
    [0, 2],
  ]);
  assert.equal(result.createdAt, '2026-02-02T00:00:00.000Z');
  for (const s of result.slices) assert.equal(s.total, 3);
  const lines = csv.trim().split('\n');
  assert.equal(lines[0], PREDICTION_COLUMNS.join(','));
  assert.equal(lines.length, 4);
  assert.equal(lines[1], '/virtual/a,a,22,female,Asian,20-29,20,17,23,-2,2,female,0.9,true');
  assert.equal(result.bestWorst.age.worst[0]!.name, 'e');
});

test('slice intervals for RMSE and ECE agree with the point estimates', async () => {
  const { groupMetrics } = await import('../../src/eval/slices.js');
  const records = syntheticRecords(400, 8);
  const g = groupMetrics(records, { replicates: 200, seed: 2 });
  assert.ok(g.ci.rmse && g.ci.rmse.low <= g.age.rmse! && g.age.rmse! <= g.ci.rmse.high);
  assert.ok(g.ci.ece && g.ci.ece.low <= g.gender.ece! + 0.02 && g.gender.ece! <= g.ci.ece.high + 0.02);
  assert.equal(Object.keys(g.ci).sort().join(','), 'accuracy,ece,f1,mae,rmse,rocAuc,within8');
});

test('predictions.csv keeps P(female) in full, so ROC-AUC recomputed from it equals the evaluation', () => {
  // confident faces: at 4 decimals every one of these read 0.0000 or 1.0000 and the ranking was lost
  const probabilities: Array<[number, 'female' | 'male']> = [
    [0.00001, 'male'],
    [0.00002, 'male'],
    [0.00004, 'female'],
    [0.99996, 'male'],
    [0.99998, 'female'],
    [0.999991, 'female'],
  ];
  const records: PredictionRecord[] = probabilities.map(([femaleProbability, gender], i) => ({
    source: `/virtual/${i}`,
    name: String(i),
    age: 30,
    gender,
    ethnicity: 'White',
    predictedAge: 31.23456,
    femaleProbability,
    ageInterval: [28, 34],
  }));
  const auc = (rs: readonly PredictionRecord[]): number | null =>
    rocAuc(
      rs.map((r) => r.gender === 'female'),
      rs.map((r) => r.femaleProbability),
    );
  const back = parsePredictionsCsv(predictionsCsv(records));
  assert.deepEqual(
    back.map((r) => r.femaleProbability),
    probabilities.map(([p]) => p),
  );
  assert.equal(auc(back), auc(records));
  assert.equal(auc(records), 8 / 9); // rounded to 4 decimals: 6 / 9
  assert.equal(back[0]!.predictedAge, 31.2346, 'ages stay at 4 decimals');
});

test('a slicing records the fewest faces a ranked group needs; the report marks smaller groups (few) and states that size', async () => {
  const { slicesSection } = await import('../../src/report/sections.js');
  const records = syntheticRecords(60, 4);
  const slices = sliceMetrics(records, { replicates: 20, seed: 3, minGroupSize: 15 });
  const eth = slices.find((s) => s.name === 'ethnicity')!;
  assert.equal(eth.minGroupSize, 15);
  const small = eth.groups.filter((g) => g.count < 15);
  const large = eth.groups.filter((g) => g.count >= 15);
  assert.ok(small.length > 0 && large.length > 0, eth.groups.map((g) => g.count).join(','));
  const maeGap = eth.gaps.find((g) => g.metric === 'mae')!;
  assert.ok(large.some((g) => g.name === maeGap.best!.name) && large.some((g) => g.name === maeGap.worst!.name), 'only large groups are ranked');
  const html = slicesSection({ slices } as never)[2];
  const ethTable = html.slice(html.indexOf('<h3>ethnicity</h3>'), html.indexOf('<h3>gender</h3>'));
  for (const g of small) assert.ok(ethTable.includes(`<td>${g.name}</td><td>${g.count} <span title="fewer than 15 faces">(few)</span></td>`), g.name);
  for (const g of large) assert.ok(ethTable.includes(`<td>${g.name}</td><td>${g.count}</td>`), g.name);
  assert.match(ethTable, /\(few\): fewer than 15 faces, too few for its figures to say much; never named best or worst\.<br>Best − worst \(groups with ≥ 15 faces\)/);
});

test('evaluate refuses a batchSize, replicates or split out of range (a batchSize of 0 or less looped for ever)', async () => {
  const rows = [row('a', 22, 'female')];
  const readBytes = async (): Promise<Uint8Array> => Buffer.from('20,0.9');
  const refused = (name: string) => (e: unknown): boolean => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.includes(` for ${name} but received`);
  for (const batchSize of [0, -1, 2.5, Number.NaN]) await assert.rejects(evaluate({ model: textModel(), rows, split: 'test', batchSize, readBytes }), refused('batchSize'), String(batchSize));
  for (const replicates of [0, -1, 9]) await assert.rejects(evaluate({ model: textModel(), rows, split: 'test', replicates, readBytes }), refused('replicates'), String(replicates));
  await assert.rejects(evaluate({ model: textModel(), rows, split: 'tset' as 'test', readBytes }), refused('split'));
  const { result } = await evaluate({ model: textModel(), rows, split: 'test', batchSize: 1, replicates: 10, readBytes });
  assert.equal(result.counts.evaluated, 1);
});
