import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleChips } from '../helpers/data.js';
import { tempDir } from '../helpers/tmp.js';

const cli = (args: string[]): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });

test('agegender prepare prints a summary, writes the workspace, and --json gives the same figures', (t) => {
  const root = tempDir(t, 'agegender-cli-');
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

test('output into a reader that has quit (`agegender predict … | head`) ends quietly, not with an EPIPE stack', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'predict', '--no-detect', '--csv', join(tmpdir(), 'agegender-no-such-file.jpg')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader goes away before the first line
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  assert.equal(code, 0, stderr);
});

test('bad options give one clear line and exit code 2', () => {
  const result = cli(['prepare', 'x', '--out', join(tmpdir(), 'never'), '--policy', 'keep-some']);
  assert.equal(result.status, 2);
  assert.match(String(result.stderr), /Expected one of \[keep-one, drop-all\] for --policy but received "keep-some" of type string/);
});

test('agegender predict --runtime picks what runs the network, --no-tta turns flip TTA off, a bad runtime is one clear line', () => {
  const chips = sampleChips(3);
  const plain = cli(['predict', '--no-detect', '--json', '--runtime', 'tfjs', '--no-tta', ...chips]);
  assert.equal(plain.status, 0, String(plain.stderr));
  assert.match(String(plain.stderr), /network on tfjs wasm\)/);
  const tta = cli(['predict', '--no-detect', '--json', '--runtime', 'tfjs', ...chips]);
  assert.equal(tta.status, 0, String(tta.stderr));
  // with a spare core the mirror images run on a worker thread (wasm is single-threaded in Node)
  assert.match(String(tta.stderr), availableParallelism() >= 2 ? /network on tfjs wasm \+ mirror worker thread, flip test-time augmentation\)/ : /network on tfjs wasm, flip test-time augmentation\)/);
  const native = cli(['predict', '--no-detect', '--json', '--runtime', 'onnxruntime', '--no-tta', ...chips]);
  assert.equal(native.status, 0, String(native.stderr));
  assert.match(String(native.stderr), /network on onnxruntime \d+\.\d+\.\d+ \(cpu\)\)/);
  const ages = (r: ReturnType<typeof spawnSync>): number[] => (JSON.parse(String(r.stdout)) as { files: Array<{ faces: Array<{ age: number }> }> }).files.map((f) => f.faces[0]!.age);
  // the two runtimes agree; TTA changes the answer (so the flag did something)
  ages(native).forEach((age, i) => assert.ok(Math.abs(age - ages(plain)[i]!) < 0.05, `chip ${i}: ${age} vs ${ages(plain)[i]}`));
  assert.ok(ages(tta).some((age, i) => Math.abs(age - ages(plain)[i]!) > 0.01), 'flip TTA gives different ages');
  // the flag wins over AGEGENDER_RUNTIME, which only sets the default
  const env = { ...process.env, CI: '1', AGEGENDER_RUNTIME: 'tfjs' };
  const flagWins = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'predict', '--no-detect', '--json', '--runtime', 'onnxruntime', chips[0]!], { encoding: 'utf8', env });
  assert.match(String(flagWins.stderr), /network on onnxruntime \d/);
  const envDefault = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'predict', '--no-detect', '--json', chips[0]!], { encoding: 'utf8', env });
  assert.match(String(envDefault.stderr), /network on tfjs wasm/);
  const bad = cli(['predict', '--no-detect', '--runtime', 'gpu', chips[0]!]);
  assert.equal(bad.status, 2, String(bad.stderr));
  assert.match(String(bad.stderr), /Expected the runtime to be one of auto, onnxruntime, tfjs but received "gpu"/);
});

test('exit codes tell usage errors (2) from a command that could not run (3) and from some inputs failing (1)', () => {
  assert.equal(cli(['predict', '--bogus', 'x.jpg']).status, 2, 'unknown option');
  assert.equal(cli(['predict']).status, 2, 'missing argument');
  assert.equal(cli(['--help']).status, 0);
  const missingModel = cli(['predict', '--model', join(tmpdir(), 'agegender-no-such-model'), '--no-detect', 'x.jpg']);
  assert.equal(missingModel.status, 3, String(missingModel.stderr));
  assert.match(String(missingModel.stderr), /^error \[MODEL_INVALID\]/m);
  const oneMissing = cli(['predict', '--no-detect', '--csv', join(tmpdir(), 'agegender-no-such-file.jpg')]);
  assert.equal(oneMissing.status, 1, String(oneMissing.stderr));
});
