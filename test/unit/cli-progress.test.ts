// Progress off a terminal (tests, CI, pipes, nohup logs): prepare says what it is doing on stderr
// lines instead of a bar, without flooding the log.
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { EventEmitter } from 'node:events';
import { prepareProgress, stopOnSignal, wantsProgressBar } from '../../src/cli/progress.js';

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

it('a progress bar stopped by Ctrl-C: the bar is stopped (cursor and line wrap back), then the process ends by the signal unless another handler will', () => {
  const proc = Object.assign(new EventEmitter(), { pid: 4242, kills: [] as Array<[number, string]>, kill(pid: number, signal: string) { this.kills.push([pid, signal]); return true; }, exit() { return undefined as never; } });
  let stopped = 0;
  stopOnSignal(() => stopped++, proc as never);
  proc.emit('SIGINT', 'SIGINT');
  assert.equal(stopped, 1);
  assert.deepEqual(proc.kills, [[4242, 'SIGINT']], 'ends by the signal');
  assert.equal(proc.listenerCount('SIGINT') + proc.listenerCount('SIGTERM'), 0);
  // with a command's own handler (train, predict): the bar is stopped, the handler ends the process
  const other = Object.assign(new EventEmitter(), { pid: 1, kills: [] as unknown[], kill(...args: unknown[]) { this.kills.push(args); return true; }, exit() { return undefined as never; } });
  other.on('SIGTERM', () => undefined);
  let stoppedToo = 0;
  const off = stopOnSignal(() => stoppedToo++, other as never);
  other.emit('SIGTERM', 'SIGTERM');
  assert.equal(stoppedToo, 1);
  assert.deepEqual(other.kills, []);
  off();
  assert.equal(other.listenerCount('SIGINT'), 0, 'the handlers are removed once the bar stops');
});
