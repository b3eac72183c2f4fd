// The workspace module: where each file lives, the manifest reader and its one rowsOfSplit, and
// summary.json read back section by section, and the evaluation store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgeGenderError } from '../../src/core/errors.js';
import type { ManifestRow } from '../../src/core/types.js';
import { checkpointFiles, evaluationFiles, workspacePaths } from '../../src/workspace/layout.js';
import { isLabelled, manifestToCsv, readManifest, rowsOfSplit, writeManifest } from '../../src/workspace/manifest.js';
import { readSummary } from '../../src/workspace/summary.js';
import { reusableEvaluation, storedEvaluation, writeEvaluation, type EvaluationBasis } from '../../src/workspace/evaluation.js';
import { predictionsCsv, splitRowsSha256, summarise, type PredictionRecord } from '../../src/eval/evaluate.js';
import type { AgeGenderModel } from '../../src/model/api.js';

const row = (o: Partial<ManifestRow>): ManifestRow => ({
  source: '/data/a.jpg', name: 'a.jpg', size: 10, sha256: 'ab', phash: '00', width: 200, height: 200, age: 30, gender: 'male', ethnicity: 'White', datetime: null, status: 'kept', reason: '', cluster: null, duplicateOf: null, split: 'test', ...o,
});

test('workspacePaths: every file of a workspace, absolute', () => {
  const p = workspacePaths('/ws');
  assert.equal(p.manifest, '/ws/manifest.jsonl');
  assert.equal(p.manifestCsv, '/ws/manifest.csv');
  assert.equal(p.summary, '/ws/summary.json');
  assert.equal(p.hashCache, '/ws/cache/hashes.json');
  assert.equal(p.featureCache, '/ws/cache/features');
  assert.equal(p.splitDir('val'), '/ws/splits/val');
  assert.match(p.checkpointDir('/models/run-1/'), /^\/ws\/checkpoints\/run-1-[0-9a-f]{8}$/);
  assert.equal(p.checkpointDir('/models/run-1/'), p.checkpointDir('/models/./run-1'), 'keyed by the resolved path');
  assert.equal(p.evaluationDir('test'), '/ws/evaluation/test');
  assert.deepEqual(checkpointFiles('/c'), { state: '/c/state.json', metricsLog: '/c/metrics.jsonl' });
  assert.deepEqual(evaluationFiles('/e'), { result: '/e/evaluation.json', predictions: '/e/predictions.csv' });
});

test('checkpointDir: two model folders with the same basename get different checkpoint folders', () => {
  const p = workspacePaths('/ws');
  const a = p.checkpointDir('/exp/expA/model');
  const b = p.checkpointDir('/exp/expB/model');
  assert.notEqual(a, b);
  assert.ok(a.startsWith('/ws/checkpoints/model-') && b.startsWith('/ws/checkpoints/model-'), 'the basename stays readable');
});

test('rowsOfSplit: kept rows of the split with all three labels, in manifest order', () => {
  const rows = [
    row({ source: '1' }),
    row({ source: '2', split: 'val' }),
    row({ source: '3', status: 'duplicate-near', split: null }),
    row({ source: '4', ethnicity: null }),
    row({ source: '5' }),
  ];
  assert.deepEqual(rowsOfSplit(rows, 'test').map((r) => r.source), ['1', '5']);
  assert.equal(isLabelled(rows[3]!), false);
  assert.equal(isLabelled(rows[2]!), false);
});

test('writeManifest / readManifest round-trip; a missing or malformed manifest is WORKSPACE_INVALID', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-workspace-'));
  try {
    const rows = [row({ source: '/d/a,"b".jpg' }), row({ source: '/d/c.jpg', split: 'train' })];
    const sha = await writeManifest(dir, rows);
    assert.match(sha, /^[0-9a-f]{64}$/);
    assert.deepEqual(await readManifest(dir), rows);
    assert.equal(manifestToCsv(rows).split('\n')[1]!.slice(0, 16), '"/d/a,""b"".jpg"');
    const invalid = (e: unknown): boolean => e instanceof AgeGenderError && e.code === 'WORKSPACE_INVALID';
    await assert.rejects(readManifest(join(dir, 'nope')), (e: unknown) => invalid(e) && /no manifest here/.test((e as Error).message));
    const lines = async (...texts: string[]): Promise<void> => writeFile(join(dir, 'manifest.jsonl'), texts.join('\n') + '\n');
    const good = JSON.stringify(row({ source: 'x' }));
    await lines(good, '{"source":1}');
    await assert.rejects(readManifest(dir), (e: unknown) => invalid(e) && /line 2 is not a manifest row as `agegender prepare` writes it: source is 1/.test((e as Error).message));
    // hand edits and other versions: named by line and field, not trained on silently
    await lines(good, JSON.stringify(row({ source: 'y', age: 500 })));
    await assert.rejects(readManifest(dir), (e: unknown) => invalid(e) && /line 2 .*: age is 500 \(/.test((e as Error).message));
    await lines(good, JSON.stringify({ ...row({ source: 'y' }), gender: 'x' }));
    await assert.rejects(readManifest(dir), (e: unknown) => invalid(e) && /line 2 .*: gender is "x"/.test((e as Error).message));
    const { split: _split, ...noSplit } = row({ source: 'y' });
    await lines(good, JSON.stringify({ ...noSplit, set: 'train' }));
    await assert.rejects(readManifest(dir), (e: unknown) => invalid(e) && /line 2 .*: split is missing/.test((e as Error).message));
    await lines(good, good);
    await assert.rejects(readManifest(dir), (e: unknown) => invalid(e) && /line 2 lists x again \(first on line 1\)/.test((e as Error).message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readSummary: null without a file; sections of another shape left out, unknown fields kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-summary-'));
  try {
    assert.equal(await readSummary(dir), null);
    await writeFile(join(dir, 'summary.json'), 'not json');
    assert.equal(await readSummary(dir), null);
    await writeFile(join(dir, 'summary.json'), JSON.stringify({ note: 'hand-made', files: 40, split: { counts: { train: 1 } }, kept: 39 }));
    const summary = await readSummary(dir);
    assert.ok(summary);
    assert.equal(summary.files, 40);
    assert.equal(summary.split, undefined, 'a split section without groups and distributions is not read');
    assert.equal(summary['note'], 'hand-made');
    assert.deepEqual(Object.keys(summary).filter((k) => summary[k] !== undefined), ['files', 'kept', 'note']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('evaluation store: reused only for the same rows, model, weights, flip TTA and gender threshold, else the reason', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-evaluation-'));
  try {
    const metadata = { formatVersion: 1, name: 'tiny', encoder: 'none', inputSize: 200, createdAt: '2026-01-01T00:00:00Z', command: 'test', datasetManifestHash: null, metrics: {} };
    const rows = [20, 40, 60].map((age, i) => row({ source: `/d/${i}.jpg`, name: `${i}.jpg`, age, gender: i % 2 ? 'female' : 'male', sha256: `h${i}` }));
    const records: PredictionRecord[] = rows.map((r) => ({ source: r.source, name: r.name, age: r.age!, gender: r.gender!, ethnicity: 'White', predictedAge: r.age! + 2, femaleProbability: r.gender === 'female' ? 0.8 : 0.3, ageInterval: [r.age! - 3, r.age! + 5] }));
    const model = { metadata, genderThreshold: 0.781, fingerprint: { weightsSha256: 'w1', flipTta: true } } as AgeGenderModel;
    const basis: EvaluationBasis = { model, rows, split: 'test' };
    const result = summarise(records, { split: 'test', model, rows: 3, skipped: [], replicates: 20, seed: 1, minGroupSize: 2, bestWorstCount: 2, now: () => new Date('2026-01-02T00:00:00Z'), rowsSha256: splitRowsSha256(rows, 'test') });
    assert.deepEqual(result.model, { name: 'tiny', createdAt: '2026-01-01T00:00:00Z', encoder: 'none', weightsSha256: 'w1', flipTta: true, genderThreshold: 0.781 });
    assert.deepEqual(await storedEvaluation(dir, basis), { stored: null, reason: 'none stored' });
    const files = await writeEvaluation(dir, { result, csv: predictionsCsv(records) });
    assert.deepEqual(files, evaluationFiles(dir));
    const stored = await reusableEvaluation(dir, basis);
    assert.deepEqual(stored, { result: JSON.parse(JSON.stringify(result)) as unknown, records });
    const reason = async (b: Partial<typeof basis>): Promise<string | null> => (await storedEvaluation(dir, { ...basis, ...b })).reason;
    const withModel = (o: Partial<AgeGenderModel>): AgeGenderModel => ({ ...model, ...o }) as AgeGenderModel;
    assert.equal(await reason({ split: 'val' }), 'it is of the test split');
    assert.match((await reason({ model: withModel({ metadata: { ...metadata, createdAt: '2026-02-01T00:00:00Z' } }) }))!, /^made by model tiny \(created 2026-01-01T00:00:00Z\), not tiny \(created 2026-02-01/);
    assert.equal(await reason({ model: withModel({ fingerprint: { weightsSha256: 'w2', flipTta: true } }) }), "made with other weights (the model's weights changed)");
    assert.equal(await reason({ model: withModel({ fingerprint: { weightsSha256: 'w1', flipTta: false } }) }), 'made with flip TTA on, the model now has it off');
    assert.equal(await reason({ model: withModel({ genderThreshold: 0.99 }) }), "made at gender threshold 0.781, the model's is 0.99");
    assert.equal(await reason({ rows: [...rows.slice(0, 2), { ...rows[2]!, source: '/other/2.jpg' }] }), "the test split's rows changed (the workspace was prepared again)");
    assert.equal(await reason({ rows: [...rows, row({ source: '/d/x.jpg', split: 'train' })] }), null, 'rows of other splits do not matter');
    await writeEvaluation(dir, { result: { ...result, model: { name: 'tiny', createdAt: metadata.createdAt, encoder: 'none' } }, csv: predictionsCsv(records) });
    assert.equal(await reason({}), 'it does not record the weights, flip TTA and gender threshold it was computed with', 'written before they were recorded');
    await writeEvaluation(dir, { result, csv: predictionsCsv(records.slice(0, 2)) });
    assert.equal(await reason({}), 'predictions.csv has 2 rows, evaluation.json counts 3');
    // hand-edited or foreign files: not reused (the report evaluates again and says why) rather than a TypeError half-way through the report
    const { slices: _slices, ...noSlices } = result;
    await writeEvaluation(dir, { result: noSlices as typeof result, csv: predictionsCsv(records) });
    assert.equal(await reason({}), 'evaluation.json is not an evaluation the report can read (slices: Invalid input: expected array, received undefined)');
    await writeEvaluation(dir, { result: { ...result, bestWorst: { ...result.bestWorst, age: { best: [], worst: [{ source: 'x' }] } } } as unknown as typeof result, csv: predictionsCsv(records) });
    assert.match((await reason({}))!, /^evaluation\.json is not an evaluation the report can read \(bestWorst\.age\.worst\.0\.name: /);
    await writeEvaluation(dir, { result, csv: predictionsCsv(records).replace(/^([^\n]*\n[^\n]*\n(?:[^,]*,){6})[^,]*/, '$1abc') });
    assert.match((await reason({}))!, /^predictions\.csv row 2 \([^)]+\) holds a value that is not a number$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
