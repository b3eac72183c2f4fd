// `agegender pipeline` end to end on a small folder: prepare → train → evaluate → report, then a
// second run that reuses the hash cache and the model trained on the same manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { utkfaceDir } from '../helpers/data.js';
import { tempDir } from '../helpers/tmp.js';

const cli = (args: string[]): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' }, maxBuffer: 1 << 24 });

/** `count` chips spread over the sorted listing (so over ages, genders and ethnicities). */
function spreadChips(count: number): string[] {
  const dir = join(utkfaceDir(), 'UTKFace');
  const names = readdirSync(dir).filter((n) => /^\d+_[01]_[0-4]_\d+\.jpg\.chip\.jpg$/.test(n)).sort();
  return Array.from({ length: count }, (_, i) => join(dir, names[Math.floor((i * names.length) / count)]!));
}

test('agegender pipeline runs prepare → train → evaluate → report, and a re-run reuses the cached model', { timeout: 240_000 }, (t) => {
  const root = tempDir(t, 'agegender-pipeline-');
  const input = join(root, 'in');
  mkdirSync(input);
  for (const chip of spreadChips(60)) copyFileSync(chip, join(input, chip.split('/').pop()!));
  const ws = join(root, 'ws');
  const model = join(root, 'model');
  const report = join(root, 'report.html');
  const args = ['pipeline', input, '--workspace', ws, '--model', model, '--report', report, '--epochs', '1', '--stage1-epochs', '2'];

  const first = cli(args);
  assert.equal(first.status, 0, String(first.stderr).slice(-4000));
  const out = String(first.stdout);
  for (const step of ['== prepare', '== train', '== evaluate (test split)', '== report']) assert.ok(out.includes(step), `missing step ${step}`);
  assert.match(out, /files seen\s+60/);
  // every step left its output
  const summary = JSON.parse(readFileSync(join(ws, 'summary.json'), 'utf8')) as { files: number; splits: Record<string, { count: number }> | undefined };
  assert.equal(summary.files, 60);
  for (const file of ['model.json', 'weights.bin', 'metadata.json']) assert.ok(existsSync(join(model, file)), `model folder has ${file}`);
  const metadata = JSON.parse(readFileSync(join(model, 'metadata.json'), 'utf8')) as { datasetManifestHash: string };
  assert.match(metadata.datasetManifestHash, /^[0-9a-f]{64}$/);
  const evaluation = JSON.parse(readFileSync(join(ws, 'evaluation', 'test', 'evaluation.json'), 'utf8')) as { split: string; counts: { evaluated: number }; age: { mae: number } };
  assert.equal(evaluation.split, 'test');
  assert.ok(evaluation.counts.evaluated > 0, 'the test split was scored');
  assert.ok(Number.isFinite(evaluation.age.mae) && evaluation.age.mae > 0);
  const html = readFileSync(report, 'utf8');
  assert.match(html, /<html/i);
  assert.match(html, /Model card/i);
  const modelTime = statSync(join(model, 'weights.bin')).mtimeMs;

  // same inputs: hashes come from the cache and the model is reused, not retrained
  const second = cli(args);
  assert.equal(second.status, 0, String(second.stderr).slice(-4000));
  assert.match(String(second.stdout), /reusing it \(--retrain to train again\)/);
  assert.equal(statSync(join(model, 'weights.bin')).mtimeMs, modelTime, 'the model folder was not rewritten');
});
