// `agegender evaluate --photos` cut short for real (Ctrl-C, kill -9) and resumed with --resume: the
// result is the one an uninterrupted run writes (the shipped model, chips through --no-detect).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { PhotoEvaluation } from '../../src/eval/photos.js';
import { photoPartialPath } from '../../src/workflow/photo-partial.js';
import { tempDir } from '../helpers/tmp.js';

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function cli(args: readonly string[]): { child: ReturnType<typeof spawn>; ended: Promise<Ended> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'evaluate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const ended = new Promise<Ended>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, output })));
  return { child, ended };
}

const lines = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).length : 0);

/** Starts the command and ends it by `signal` once `records` photos are in its `.partial`. */
async function cutShort(args: readonly string[], partial: string, records: number, signal: NodeJS.Signals): Promise<Ended> {
  const { child, ended } = cli(args);
  let exited = false;
  void ended.then(() => (exited = true));
  while (!exited && lines(partial) < records + 1) await new Promise((r) => setTimeout(r, 20));
  if (exited) assert.fail(`evaluate ended before it was interrupted: ${(await ended).output}`);
  child.kill(signal);
  return ended;
}

const withoutMs = (csv: string): string[] => csv.trim().split('\n').map((row) => row.split(',').filter((_, i) => i !== 9).join(','));

it('evaluate --photos cut short by Ctrl-C and by kill -9, then --resume: the files an uninterrupted run writes', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t, 'agegender-evaluate-resume-');
  const photos = join(dir, 'chips');
  mkdirSync(photos);
  const chipDir = 'test/fixtures/photos/chips';
  const chips = readdirSync(chipDir);
  const rows = ['file,age,gender'];
  for (let i = 0; i < 120; i++) {
    const chip = chips[i % chips.length]!;
    copyFileSync(join(chipDir, chip), join(photos, `${String(i).padStart(3, '0')}.jpg`));
    const [age, gender] = chip.split('_');
    rows.push(`${String(i).padStart(3, '0')}.jpg,${age},${gender === '0' ? 'male' : 'female'}`);
  }
  const labels = join(dir, 'labels.csv');
  writeFileSync(labels, `${rows.join('\n')}\n`);
  const args = (out: string): string[] => ['--photos', photos, '--labels', labels, '--out', out, '--no-detect'];
  const out = join(dir, 'resumed');
  const partial = photoPartialPath(out);

  const interrupted = await cutShort(args(out), partial, 10, 'SIGINT');
  assert.deepEqual({ code: interrupted.code, signal: interrupted.signal }, { code: null, signal: 'SIGINT' }, interrupted.output);
  assert.match(interrupted.output, /results so far are in .*photo-records\.ndjson\.partial: run the same command with --resume to continue/);
  const again = await cli(args(out)).ended;
  assert.equal(again.code, 2, 'without --resume the .partial is not written over');
  assert.match(again.output, /photo-records\.ndjson\.partial: results of a run that did not finish: pass --resume/);

  const killed = await cutShort([...args(out), '--resume'], partial, 40, 'SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(!existsSync(join(out, 'photo-evaluation.json')), 'no result from a run cut short');
  const resumed = await cli([...args(out), '--resume']).ended;
  assert.equal(resumed.code, 0, resumed.output);
  assert.match(resumed.output, /(\d+) of 120 photos kept from the run resumed/);
  assert.ok(!existsSync(partial));

  const whole = await cli(args(join(dir, 'whole'))).ended;
  assert.equal(whole.code, 0, whole.output);
  const read = (folder: string): PhotoEvaluation => JSON.parse(readFileSync(join(dir, folder, 'photo-evaluation.json'), 'utf8')) as PhotoEvaluation;
  const { ms: _a, ...resumedFigures } = read('resumed').summary;
  const { ms: _b, ...wholeFigures } = read('whole').summary;
  assert.deepEqual(resumedFigures, wholeFigures);
  assert.equal(resumedFigures.photos, 120);
  assert.deepEqual(withoutMs(readFileSync(join(out, 'photo-predictions.csv'), 'utf8')), withoutMs(readFileSync(join(dir, 'whole', 'photo-predictions.csv'), 'utf8')));
});
