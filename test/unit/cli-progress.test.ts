// Progress off a terminal (tests, CI, pipes, nohup logs): prepare says what it is doing on stderr
// lines instead of a bar, without flooding the log.
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { prepareProgress, wantsProgressBar } from '../../src/cli/progress.js';

it('prepareProgress off a terminal: a line every 2,000 hashed files, then one per step', () => {
  assert.equal(wantsProgressBar(), false, 'tests run without a terminal on stderr');
  const lines: string[] = [];
  const progress = prepareProgress((line) => lines.push(line));
  for (let done = 64; done <= 4480; done += 64) progress.onProgress({ phase: 'hash', done, discovered: 5000, cached: 10 });
  progress.onProgress({ phase: 'dedup' });
  progress.onProgress({ phase: 'split' });
  progress.onProgress({ phase: 'write' });
  progress.onProgress({ phase: 'materialize', done: 500, total: 900 });
  progress.onProgress({ phase: 'materialize', done: 900, total: 900 });
  progress.stop();
  assert.deepEqual(lines, [
    'hashed 2048 of 5000 files found (10 from the cache)',
    'hashed 4096 of 5000 files found (10 from the cache)',
    'finding duplicates…',
    'splitting…',
    'writing the workspace…',
    'materializing splits…',
  ]);
});
