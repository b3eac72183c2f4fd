import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgeGenderPrediction, ManifestRow } from '../../src/core/types.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import { fileURLToPath } from 'node:url';
import { runEvaluate } from '../../src/cli/commands/evaluate.js';
import { runEvaluateCli } from '../helpers/evaluate-cli.js';
import { AgeGenderError } from '../../src/core/errors.js';
import { evaluateWorkspace } from '../../src/workflow/evaluate.js';
import { formatEvaluation } from '../../src/eval/format.js';

const model: AgeGenderModel = {
  runtime: 'test',
    genderThreshold: 0.5,
  metadata: { formatVersion: 1, name: 'len', encoder: 'none', inputSize: 8, createdAt: 'x', command: '', datasetManifestHash: null, metrics: {} },
  predict: async () => {
    throw new Error('unused');
  },
  predictBatch: async (images) =>
    images.map((img): AgeGenderPrediction => {
      const n = (img as Uint8Array).length;
      return { age: n, ageInterval: [n - 1, n + 1], gender: 'male', genderProbability: 0.6, femaleProbability: 0.4 };
    }),
  scoreRaw: async () => [],
  dispose: () => undefined,
};

test('evaluateWorkspace writes evaluation.json and predictions.csv atomically, skipping missing files; the CLI checks its options first', async () => {
  const ws = await mkdtemp(join(tmpdir(), 'agegender-eval-'));
  try {
    const rows: ManifestRow[] = [20, 30, 40].map((age, i) => ({
      source: join(ws, `${i}.bin`), name: `${age}_0_0_1.jpg.chip.jpg`, size: 1, sha256: null, phash: null, width: 1, height: 1,
      age, gender: 'male', ethnicity: 'White', datetime: null, status: 'kept', reason: '', cluster: null, duplicateOf: null, split: 'test',
    }));
    await writeFile(join(ws, '0.bin'), Buffer.alloc(22));
    await writeFile(join(ws, '1.bin'), Buffer.alloc(30));
    await writeFile(join(ws, 'manifest.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    const out = join(ws, 'out');
    const { result, files } = await evaluateWorkspace({ workspace: ws, split: 'test', out, batchSize: 2, replicates: 20, seed: 1, model });
    assert.deepEqual(files, { result: join(out, 'evaluation.json'), predictions: join(out, 'predictions.csv') });
    assert.deepEqual(result.counts, { rows: 3, evaluated: 2, skipped: 1 });
    assert.equal(result.age.mae, 1);
    assert.deepEqual((await readdir(out)).sort(), ['evaluation.json', 'predictions.csv']);
    const json = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8')) as { counts: unknown };
    assert.deepEqual(json.counts, result.counts);
    assert.equal((await readFile(join(out, 'predictions.csv'), 'utf8')).trim().split('\n').length, 3);
    assert.deepEqual(result.skipped.map((s) => s.source), [join(ws, '2.bin')]);
    const lines = formatEvaluation(result, files);
    assert.equal(lines[0], 'test: 2 faces (1 skipped)');
    assert.match(lines[1]!, /^age: MAE 1\.00 \(95% CI /);
    assert.ok(lines.some((l) => l.startsWith('skipped ') && l.includes('2.bin')));
    assert.equal(lines.at(-1), `wrote ${files.result} and ${files.predictions}`);
    // a missing manifest fails before a model is loaded (this folder has none to load)
    await assert.rejects(evaluateWorkspace({ workspace: join(ws, 'nope'), split: 'test', modelDir: join(ws, 'no-model') }), /no manifest here/);
    // a folder named as one of the files written: refused before a model is loaded or a face scored
    await mkdir(join(ws, 'blocked', 'evaluation.json'), { recursive: true });
    await assert.rejects(
      evaluateWorkspace({ workspace: ws, split: 'test', out: join(ws, 'blocked'), modelDir: join(ws, 'no-model') }),
      (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${join(ws, 'blocked', 'evaluation.json')}: Expected a file to write but this is a folder`,
    );
    assert.deepEqual(await readdir(join(ws, 'blocked')), ['evaluation.json'], 'nothing written');
    await assert.rejects(runEvaluate({ workspace: ws, split: 'holdout', batchSize: '2', replicates: '20', seed: '1' }, () => undefined), /Expected one of \[train, val, test\] for --split/);
    await assert.rejects(runEvaluate({ workspace: ws, split: 'test', batchSize: '0', replicates: '20', seed: '1' }, () => undefined), /--batch-size/);
    // photo-only options without --photos are refused, not ignored (the model folder does not exist: nothing is loaded)
    const plain = { workspace: ws, split: 'test', batchSize: '2', replicates: '20', seed: '1', model: join(ws, 'no-model') };
    const refused = (message: string) => (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === message;
    await assert.rejects(runEvaluate({ ...plain, limit: '5' }, () => undefined), refused('--limit applies only with --photos <dir>, which was not given'));
    await assert.rejects(runEvaluate({ ...plain, labels: 'l.csv', detect: false }, () => undefined), refused('--labels, --no-detect apply only with --photos <dir>, which was not given'));
    await assert.rejects(runEvaluate({ ...plain, resume: true }, () => undefined), refused('--resume applies only with --photos <dir>, which was not given'));
    await assert.rejects(runEvaluate({ ...plain, detect: true }, () => undefined), /MODEL_INVALID|no-model/, 'the default --detect is not an error');
  } finally {
    await rm(ws, { recursive: true, force: true });
  }
});

test('evaluate refuses a split with no kept, labelled face before loading a model, and exits 1 when images were skipped', async () => {
  const ws = await mkdtemp(join(tmpdir(), 'agegender-eval-'));
  try {
    const chip = fileURLToPath(new URL('../fixtures/photos/chips/35_0_0_20170117203240562.jpg.chip.jpg', import.meta.url));
    const row = (name: string, source: string, split: ManifestRow['split'], status: ManifestRow['status'] = 'kept'): ManifestRow => ({
      source, name, size: 1, sha256: null, phash: null, width: 200, height: 200,
      age: 35, gender: 'male', ethnicity: 'White', datetime: null, status, reason: '', cluster: null, duplicateOf: null, split,
    });
    for (const name of ['a', 'b', 'd']) await copyFile(chip, join(ws, `${name}.jpg`));
    const rows = [row('a', join(ws, 'a.jpg'), 'train'), row('b', join(ws, 'b.jpg'), 'val'), row('c', join(ws, 'missing.jpg'), 'val'), row('d', join(ws, 'd.jpg'), 'test', 'duplicate-exact')];
    await writeFile(join(ws, 'manifest.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    // test holds only a duplicate left out: refused, naming the manifest and the counts (the model folder does not exist: nothing is loaded)
    const refused = (e: unknown): boolean =>
      e instanceof AgeGenderError && e.code === 'WORKSPACE_INVALID' && e.message === `${join(ws, 'manifest.jsonl')}: Expected kept, labelled faces in the test split but it has none (train 1, val 2, test 0)`;
    await assert.rejects(evaluateWorkspace({ workspace: ws, split: 'test', modelDir: join(ws, 'no-model') }), refused);
    assert.deepEqual((await readdir(ws)).sort(), ['a.jpg', 'b.jpg', 'd.jpg', 'manifest.jsonl'], 'nothing written');
    // val: one chip evaluated, one missing file skipped; the command writes the evaluation and exits 1 (the shipped model is loaded)
    const { logged, exitCode } = await runEvaluateCli(['--workspace', ws, '--split', 'val', '--out', join(ws, 'out'), '--replicates', '10']);
    assert.equal(exitCode, 1);
    assert.ok(logged.includes('val: 1 face (1 skipped)'), logged.join('\n'));
    assert.deepEqual((await readdir(join(ws, 'out'))).sort(), ['evaluation.json', 'predictions.csv']);
  } finally {
    await rm(ws, { recursive: true, force: true });
  }
});

test('evaluate and evaluateWorkspace check their settings as the CLI does, before any image is read or model loaded', async () => {
  const { checkEvaluateSettings, evaluate } = await import('../../src/eval/evaluate.js');
  assert.deepEqual(checkEvaluateSettings({}), { batchSize: 32, replicates: 1000, seed: 1, minGroupSize: 20, bestWorstCount: 12 });
  const refused = (message: string) => (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === message;
  let reads = 0;
  const readBytes = async (): Promise<Uint8Array> => {
    reads++;
    return new Uint8Array(1);
  };
  // batchSize 0 looped for ever; NaN evaluated no face and wrote an evaluation of 0 faces
  await assert.rejects(evaluate({ model, rows: [], split: 'test', batchSize: 0, readBytes }), refused('Expected integer between 1 and 1024 for batchSize but received 0 of type number'));
  await assert.rejects(evaluate({ model, rows: [], split: 'test', batchSize: Number.NaN, readBytes }), refused('Expected integer between 1 and 1024 for batchSize but received NaN of type number'));
  await assert.rejects(evaluate({ model, rows: [], split: 'test', replicates: 0, readBytes }), refused('Expected integer between 10 and 100000 for replicates but received 0 of type number'));
  await assert.rejects(evaluate({ model, rows: [], split: 'test', seed: 1.5, readBytes }), refused('Expected integer between 0 and 2147483647 for seed but received 1.5 of type number'));
  await assert.rejects(evaluate({ model, rows: [], split: 'test', minGroupSize: 0, readBytes }), /for minGroupSize but received 0/);
  assert.equal(reads, 0);
  // the workspace need not exist: the settings are checked first
  await assert.rejects(evaluateWorkspace({ workspace: '/nonexistent-workspace', split: 'test', batchSize: 0, modelDir: '/nonexistent-model' }), refused('Expected integer between 1 and 1024 for batchSize but received 0 of type number'));
});
