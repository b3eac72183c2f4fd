// `agegender tune`: inference settings chosen on val and recorded in the model folder; test scored
// once with them, or not at all with --no-test. Runs on a copy of the shipped model and a small workspace.
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runTune } from '../../src/cli/commands/tune.js';
import { AgeGenderError } from '../../src/core/errors.js';
import { checkTrainedOnWorkspace, tuneModel } from '../../src/workflow/tune.js';
import { defaultModelDir } from '../../src/model/index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeWorkspace } from '../helpers/train-fixtures.js';

interface Metadata {
  inference: {
    flipTta: boolean;
    chosenOn: string;
    command: string;
    candidates: Record<'none' | 'flip', { mae: number; cs8: number; genderAccuracy: number }>;
    genderThreshold: number;
    genderThresholdVal: { faces: number; coverage: number; accuracy: number; children: { faces: number } };
    genderThresholdCommand: string;
  };
  metrics: { val: { count: number; mae: number }; valCandidates: Record<'none' | 'flip', { mae: number }>; test?: { count: number; mae: number } };
}

const readMetadata = (dir: string): Metadata => JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as Metadata;

describe('agegender tune', () => {
  it('chooses flip TTA by val MAE, records it, and scores test only without --no-test', async (t) => {
    const root = tempDir(t, 'agegender-tune-');
    const model = join(root, 'model');
    cpSync(defaultModelDir(), model, { recursive: true });
    const ws = await makeWorkspace(join(root, 'ws'), 40); // 24 train / 8 val / 8 test
    const lines: string[] = [];

    // the shipped model was trained on the full workspace's manifest: this small one is another
    await assert.rejects(runTune({ model, workspace: ws, test: false }, ['node', 'agegender', 'tune', '--no-test'], () => undefined), (e: unknown) =>
      e instanceof AgeGenderError && e.code === 'WORKSPACE_INVALID' && /was trained on another manifest .* may hold the model's training images.*--other-workspace/.test(e.message));
    assert.equal(existsSync(join(ws, 'evaluation')), false, 'refused before any work');
    const valOnly = await runTune({ model, workspace: ws, test: false, otherWorkspace: true }, ['node', 'agegender', 'tune', '--no-test'], (l) => lines.push(l));
    assert.equal(valOnly?.test, null);
    let meta = readMetadata(model);
    assert.ok(meta.inference.genderThreshold >= 0.5 && meta.inference.genderThreshold <= 1, 'a gender threshold is recorded');
    assert.equal(meta.inference.genderThresholdVal.faces, 8, 'chosen on the 8 val faces');
    assert.ok(meta.inference.genderThresholdVal.accuracy >= 0.97 || meta.inference.genderThreshold === 0.999);
    const { none, flip } = meta.inference.candidates;
    assert.ok(none.mae > 0 && flip.mae > 0 && none.mae !== flip.mae, 'both variants scored, and they differ');
    assert.equal(meta.inference.flipTta, flip.mae < none.mae, 'the lower val MAE wins');
    assert.equal(meta.inference.chosenOn, 'val MAE');
    assert.equal(meta.inference.command, 'agegender tune --no-test');
    assert.equal(meta.metrics.val.count, 8);
    assert.equal(meta.metrics.val.mae, meta.inference.flipTta ? flip.mae : none.mae, 'val metrics are the chosen variant');
    assert.equal(meta.metrics.test, undefined, 'test is not scored with --no-test');
    assert.equal(existsSync(join(ws, 'evaluation')), false);
    assert.ok(lines.some((l) => /test not scored/.test(l)));

    const withTest = await tuneModel({ modelDir: model, workspace: ws, evaluation: join(root, 'eval'), command: 'agegender tune', otherWorkspace: true });
    assert.ok(withTest.test);
    assert.deepEqual(withTest.files, { result: join(root, 'eval', 'evaluation.json'), predictions: join(root, 'eval', 'predictions.csv') });
    assert.equal(readMetadata(model).inference.command, 'agegender tune');
    meta = readMetadata(model);
    assert.equal(meta.metrics.test?.count, 8);
    const evaluation = JSON.parse(readFileSync(join(root, 'eval', 'evaluation.json'), 'utf8')) as { split: string; counts: { evaluated: number }; age: { mae: number } };
    assert.equal(evaluation.split, 'test');
    assert.equal(evaluation.counts.evaluated, 8);
    assert.equal(evaluation.age.mae, meta.metrics.test?.mae, 'the recorded test metrics are the written evaluation');
    assert.equal(readFileSync(join(root, 'eval', 'predictions.csv'), 'utf8').trim().split('\n').length, 9, 'header + one row per test image');
    const stored = JSON.parse(readFileSync(join(root, 'eval', 'evaluation.json'), 'utf8')) as { model: { genderThreshold: number; flipTta: boolean } };
    assert.deepEqual(stored.model, { ...stored.model, genderThreshold: meta.inference.genderThreshold, flipTta: meta.inference.flipTta }, 'test is scored at the threshold and TTA the run records');

    // run again: same weights, rows and chosen settings, so the stored test evaluation is kept, not scored again
    const before = statSync(join(root, 'eval', 'evaluation.json')).mtimeMs;
    const again: string[] = [];
    const rerun = await tuneModel({ modelDir: model, workspace: ws, evaluation: join(root, 'eval'), command: 'agegender tune', otherWorkspace: true, log: (l) => again.push(l) });
    assert.ok(again.some((l) => /^test \(already scored .*not scored again\): MAE/.test(l)), again.join('\n'));
    assert.equal(rerun.test?.csv, null);
    assert.equal(rerun.test?.result.age.mae, evaluation.age.mae);
    assert.deepEqual(rerun.files, withTest.files);
    assert.equal(statSync(join(root, 'eval', 'evaluation.json')).mtimeMs, before, 'the stored evaluation is not rewritten');
    assert.equal(readMetadata(model).metrics.test?.mae, evaluation.age.mae, 'the model still records the test figures');
  });

  it('--gender-threshold-only records the threshold chosen on val and leaves TTA, metrics and test alone', async (t) => {
    const root = tempDir(t, 'agegender-tune-');
    const model = join(root, 'model');
    cpSync(defaultModelDir(), model, { recursive: true });
    const ws = await makeWorkspace(join(root, 'ws'), 40);
    const before = readMetadata(model);
    const lines: string[] = [];
    await assert.rejects(runTune({ model, workspace: ws, genderThresholdOnly: true }, ['node', 'agegender', 'tune', '--gender-threshold-only'], () => undefined), /trained on another manifest/);
    const out = await runTune({ model, workspace: ws, genderThresholdOnly: true, otherWorkspace: true }, ['node', 'agegender', 'tune', '--gender-threshold-only'], (l) => lines.push(l));
    assert.equal(out, null);
    const after = readMetadata(model);
    assert.equal(after.inference.genderThresholdVal.faces, 8);
    assert.equal(after.inference.genderThresholdCommand, 'agegender tune --gender-threshold-only');
    assert.deepEqual({ ...after.inference, genderThreshold: 0, genderThresholdVal: null, genderThresholdCommand: '', genderThresholdChosenOn: '' }, { ...before.inference, genderThreshold: 0, genderThresholdVal: null, genderThresholdCommand: '', genderThresholdChosenOn: '' });
    assert.deepEqual(after.metrics, before.metrics);
    assert.equal(existsSync(join(ws, 'evaluation')), false, 'test is not scored');
    assert.ok(lines.some((l) => /gender threshold 0\.\d+ \(on val\)/.test(l)), lines.join('\n'));
  });

  it('checkTrainedOnWorkspace: passes the workspace a model records as its training manifest, and a model that records none', async (t) => {
    const root = tempDir(t, 'agegender-tune-ws-');
    const ws = await makeWorkspace(join(root, 'ws'), 16);
    const model = join(root, 'model');
    mkdirSync(model);
    const sha = createHash('sha256').update(readFileSync(join(ws, 'manifest.jsonl'))).digest('hex');
    for (const hash of [sha, null]) {
      writeFileSync(join(model, 'metadata.json'), JSON.stringify({ datasetManifestHash: hash }));
      await checkTrainedOnWorkspace(model, ws);
    }
    writeFileSync(join(model, 'metadata.json'), JSON.stringify({ datasetManifestHash: 'f'.repeat(64) }));
    await assert.rejects(checkTrainedOnWorkspace(model, ws), (e: unknown) => e instanceof AgeGenderError && e.code === 'WORKSPACE_INVALID');
    await checkTrainedOnWorkspace(model, ws, true);
  });
});
