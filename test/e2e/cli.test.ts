import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleChips } from '../helpers/data.js';

const cli = (args: string[]): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });

test('agegender prepare prints a summary, writes the workspace, and --json gives the same figures', () => {
  const root = mkdtempSync(join(tmpdir(), 'agegender-cli-'));
  const input = join(root, 'in');
  mkdirSync(input);
  for (const chip of sampleChips(30)) copyFileSync(chip, join(input, chip.split('/').pop()!));
  const text = cli(['prepare', input, '--out', join(root, 'ws')]);
  assert.equal(text.status, 0, String(text.stderr));
  assert.match(String(text.stdout), /files seen\s+30/);
  assert.match(String(text.stdout), /kept \(keep-one\)\s+30/);
  const json = cli(['prepare', input, '--out', join(root, 'ws'), '--json', '--policy', 'drop-all']);
  assert.equal(json.status, 0, String(json.stderr));
  const summary = JSON.parse(String(json.stdout)) as { files: number; settings: { policy: string } };
  assert.equal(summary.files, 30);
  assert.equal(summary.settings.policy, 'drop-all');
  assert.deepEqual(JSON.parse(readFileSync(join(root, 'ws', 'summary.json'), 'utf8')).files, 30);
});

test('bad options give one clear line and exit code 2', () => {
  const result = cli(['prepare', 'x', '--out', join(tmpdir(), 'never'), '--policy', 'keep-some']);
  assert.equal(result.status, 2);
  assert.match(String(result.stderr), /Expected one of \[keep-one, drop-all\] for --policy but received "keep-some" of type string/);
});

test('agegender predict --runtime picks what runs the network, --no-tta turns flip TTA off, a bad runtime is one clear line', () => {
  const chips = sampleChips(3);
  const wasm = cli(['predict', '--no-detect', '--json', '--runtime', 'onnxruntime-web', '--no-tta', ...chips]);
  assert.equal(wasm.status, 0, String(wasm.stderr));
  assert.match(String(wasm.stderr), /network on onnxruntime-web \d+\.\d+\.\d+ \(wasm, \d+ threads?\)\)/);
  assert.doesNotMatch(String(wasm.stderr), /flip test-time augmentation/);
  const tfjs = cli(['predict', '--no-detect', '--json', '--runtime', 'tfjs', ...chips]);
  assert.equal(tfjs.status, 0, String(tfjs.stderr));
  assert.match(String(tfjs.stderr), /network on tfjs wasm, flip test-time augmentation\)/);
  // both runtimes give the same ages (TTA on for one only: so compare against a TTA-off tfjs run)
  const tfjsPlain = cli(['predict', '--no-detect', '--json', '--runtime', 'tfjs', '--no-tta', ...chips]);
  const ages = (r: ReturnType<typeof spawnSync>): number[] => (JSON.parse(String(r.stdout)) as { files: Array<{ faces: Array<{ age: number }> }> }).files.map((f) => f.faces[0]!.age);
  ages(wasm).forEach((age, i) => assert.ok(Math.abs(age - ages(tfjsPlain)[i]!) < 0.05, `chip ${i}: ${age} vs ${ages(tfjsPlain)[i]}`));
  const bad = cli(['predict', '--no-detect', '--runtime', 'gpu', chips[0]!]);
  assert.equal(bad.status, 2, String(bad.stderr));
  assert.match(String(bad.stderr), /Expected the runtime to be one of auto, onnxruntime, onnxruntime-web, tfjs but received "gpu"/);
});
