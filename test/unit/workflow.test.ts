// The pieces the workflows share: withModel (a given model is the caller's, a loaded one is disposed
// after use), trainedOnManifest (whether the pipeline may skip training) and when `report` reuses
// a stored evaluation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgeGenderError } from '../../src/core/errors.js';
import { genderAnswer } from '../../src/core/gender.js';
import type { ManifestRow } from '../../src/core/types.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import { defaultModelDir, trainedOnManifest } from '../../src/model/folder.js';
import { withModel } from '../../src/model/load.js';
import { evaluateWorkspace } from '../../src/workflow/evaluate.js';
import { reportWorkspace } from '../../src/workflow/report.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

test('withModel: a given model is used and left alone; a loaded one is disposed after use', async () => {
  let disposed = 0;
  const given = { runtime: 'test', dispose: () => void disposed++ } as unknown as AgeGenderModel;
  assert.equal(await withModel({ model: given, modelDir: '/no/such/folder' }, async (m) => m.runtime), 'test');
  assert.equal(disposed, 0);
  const weights = createHash('sha256').update(await readFile(join(defaultModelDir(), 'weights.bin'))).digest('hex');
  const loaded = await withModel({}, async (m) => {
    assert.ok((await m.predictBatch([])).length === 0);
    assert.equal(m.fingerprint?.weightsSha256, weights, 'a loaded model carries the SHA-256 of its weights');
    assert.equal(typeof m.fingerprint?.flipTta, 'boolean');
    return m;
  });
  await assert.rejects(loaded.predict(new Uint8Array(3)), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_NOT_LOADED');
  await assert.rejects(withModel({ modelDir: '/no/such/folder' }, async () => 1), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_INVALID');
});

test('trainedOnManifest: only a folder whose metadata records that manifest hash', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-folder-'));
  try {
    assert.equal(trainedOnManifest(dir, 'abc'), false, 'no metadata.json');
    await writeFile(join(dir, 'metadata.json'), JSON.stringify({ datasetManifestHash: 'abc' }));
    assert.equal(trainedOnManifest(dir, 'abc'), true);
    assert.equal(trainedOnManifest(dir, 'abd'), false);
    assert.equal(trainedOnManifest(dir, undefined), false, 'a summary without a manifest hash');
    await writeFile(join(dir, 'metadata.json'), '{ torn');
    assert.equal(trainedOnManifest(dir, 'abc'), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a report built right after evaluating equals one rebuilt from the stored evaluation (predictions.csv rounds to 4 decimals)', async () => {
  const ws = await mkdtemp(join(tmpdir(), 'agegender-report-again-'));
  const chips = fileURLToPath(new URL('../fixtures/photos/chips/', import.meta.url));
  const name = '24_0_2_20170116170633399.jpg.chip.jpg';
  const row: ManifestRow = { source: join(chips, name), name, size: 1, sha256: null, phash: null, width: 200, height: 200, age: 24, gender: 'male', ethnicity: 'White', datetime: null, status: 'kept', reason: '', cluster: null, duplicateOf: null, split: 'test' };
  // outputs just past a 4-decimal rounding: P(female) 0.500041 is over the threshold 0.50003, its stored 0.5000 is not
  const threshold = 0.50003;
  const base = fakeModel({ genderThreshold: threshold });
  const model: AgeGenderModel = { ...base, predictBatch: async (images) => images.map(() => ({ age: 31.74999, ageInterval: [26.7, 36.7] as [number, number], ...genderAnswer(0.500041, threshold), femaleProbability: 0.500041 })) };
  const build = async (): Promise<string> => {
    const lines: string[] = [];
    const r = await reportWorkspace({ workspace: ws, split: 'test', out: join(ws, 'report.html'), limeCount: 0, model, log: (l) => lines.push(l) });
    // vega numbers gradients per process (gradient_0, _1 …): a second report in the same process counts on
    return `${lines.join('\n')}\n${r.html.replace(/generated [0-9T:.Z-]+/, 'generated …').replace(/gradient_\d+/g, 'gradient_n')}`;
  };
  try {
    await writeFile(join(ws, 'manifest.jsonl'), JSON.stringify(row));
    const first = await build();
    const again = await build();
    assert.match(first, /^evaluating the test split…\n/);
    assert.match(again, /^reusing /);
    assert.equal(again.slice(again.indexOf('\n')), first.slice(first.indexOf('\n')), 'same HTML but for the time it was generated');
  } finally {
    await rm(ws, { recursive: true, force: true });
  }
});

test('report reuses a stored evaluation only for the same rows, model and gender threshold, and says why not', async () => {
  const ws = await mkdtemp(join(tmpdir(), 'agegender-report-reuse-'));
  const chips = fileURLToPath(new URL('../fixtures/photos/chips/', import.meta.url));
  const row = (name: string, age: number, gender: 'male' | 'female'): ManifestRow => ({
    source: join(chips, name), name, size: 1, sha256: null, phash: null, width: 200, height: 200,
    age, gender, ethnicity: 'White', datetime: null, status: 'kept', reason: '', cluster: null, duplicateOf: null, split: 'test',
  });
  const rows = [row('24_0_2_20170116170633399.jpg.chip.jpg', 24, 'male'), row('35_0_0_20170117203240562.jpg.chip.jpg', 35, 'male'), row('6_1_0_20170109194207894.jpg.chip.jpg', 6, 'female')];
  const manifest = (r: readonly ManifestRow[]) => writeFile(join(ws, 'manifest.jsonl'), r.map((x) => JSON.stringify(x)).join('\n'));
  const report = async (model: AgeGenderModel): Promise<string[]> => {
    const lines: string[] = [];
    await reportWorkspace({ workspace: ws, split: 'test', out: join(ws, 'report.html'), limeCount: 0, model, log: (l) => lines.push(l) });
    return lines;
  };
  const stored = join(ws, 'evaluation', 'test', 'evaluation.json');
  try {
    await manifest(rows);
    assert.deepEqual(await report(fakeModel()), ['evaluating the test split…']);
    assert.deepEqual(await report(fakeModel()), [`reusing ${stored}`]);
    // a one-off threshold written to the default folder is not taken for the model's own
    await evaluateWorkspace({ workspace: ws, split: 'test', replicates: 10, model: fakeModel({ genderThreshold: 0.99 }) });
    assert.deepEqual(await report(fakeModel()), [`evaluating the test split (not reusing ${stored}: made at gender threshold 0.99, the model's is 0.5)…`]);
    const html = await readFile(join(ws, 'report.html'), 'utf8');
    assert.match(html, /answered only when the more likely label's probability is at least <b>0\.5<\/b>/);
    // the workspace prepared again from other files
    await manifest(rows.slice(0, 2));
    assert.deepEqual(await report(fakeModel()), [`evaluating the test split (not reusing ${stored}: the test split's rows changed (the workspace was prepared again))…`]);
    assert.equal((JSON.parse(await readFile(stored, 'utf8')) as { counts: { evaluated: number } }).counts.evaluated, 2);
    // --out an existing folder: report.html inside it (as explain does); a file as the evaluation folder is refused first
    const lines: string[] = [];
    assert.equal((await reportWorkspace({ workspace: ws, split: 'test', out: ws, limeCount: 0, model: fakeModel(), log: (l) => lines.push(l) })).out, join(ws, 'report.html'));
    await assert.rejects(reportWorkspace({ workspace: ws, split: 'test', out: ws, evaluation: join(ws, 'report.html'), modelDir: join(ws, 'no-model') }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${join(ws, 'report.html')}: Expected a folder to write into but this is a file`);
    // a photo evaluation of another model is refused, naming the file
    const photoEvaluation = join(ws, 'photo-evaluation.json');
    const summary = { photos: 1, failed: 0, found: { count: 1, share: 1 }, age: { count: 1, mae: 2, meanError: -2 }, gender: { coverage: 1, accuracy: 1 }, byDecade: [] };
    await writeFile(photoEvaluation, JSON.stringify({ photos: chips, model: 'other', modelIdentity: { name: 'other', createdAt: 'x', encoder: 'none', weightsSha256: null, flipTta: null, genderThreshold: 0.5 }, detector: null, createdAt: '2026-01-01T00:00:00.000Z', summary }));
    await assert.rejects(reportWorkspace({ workspace: ws, split: 'test', out: join(ws, 'r2.html'), model: fakeModel(), photoEvaluation }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.startsWith(`${photoEvaluation}: the photo evaluation does not describe the model being reported`));
    // other weights under the same name and creation time
    const reweighted = { ...fakeModel(), fingerprint: { weightsSha256: 'other', flipTta: false } } as AgeGenderModel;
    assert.deepEqual(await report(reweighted), [`evaluating the test split (not reusing ${stored}: made with other weights (the model's weights changed))…`]);
  } finally {
    await rm(ws, { recursive: true, force: true });
  }
});
