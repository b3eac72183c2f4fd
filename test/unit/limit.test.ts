import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimit, Semaphore, TaskPool } from '../../src/core/limit.js';

/** A task counter: how many run now, and the most that ever ran together. */
function tracker(): { run: <T>(value: T, ms: number) => Promise<T>; peak: () => number } {
  let now = 0;
  let peak = 0;
  return {
    run: async (value, ms) => {
      peak = Math.max(peak, ++now);
      await sleep(ms);
      now--;
      return value;
    },
    peak: () => peak,
  };
}

test('mapLimit keeps input order and never runs more than the limit at once', async () => {
  const t = tracker();
  const out = await mapLimit([30, 5, 20, 1, 10, 2], 2, (ms, i) => t.run(`${i}:${ms}`, ms));
  assert.deepEqual(out, ['0:30', '1:5', '2:20', '3:1', '4:10', '5:2']);
  assert.equal(t.peak(), 2);
  assert.deepEqual(await mapLimit([], 3, async () => 1), []);
});

test('mapLimit rejects with the first error and starts no new calls after it', async () => {
  const started: number[] = [];
  await assert.rejects(
    mapLimit([0, 1, 2, 3, 4, 5], 2, async (x) => {
      started.push(x);
      await sleep(1);
      if (x === 1) throw new Error('boom 1');
      return x;
    }),
    /boom 1/,
  );
  await sleep(10);
  assert.ok(started.length < 6, `started ${started.join(',')}`);
});

test('mapLimit refuses a limit below 1', async () => {
  await assert.rejects(mapLimit([1], 0, async (x) => x), (e: unknown) => e instanceof Error && /limit/.test(e.message));
});

test('Semaphore hands slots out first come, first served and passes them on release', async () => {
  const gate = new Semaphore(1);
  const order: string[] = [];
  const a = gate.run(async () => {
    order.push('a');
    await sleep(5);
  });
  const b = gate.run(async () => order.push('b'));
  const c = gate.run(async () => order.push('c'));
  assert.equal(gate.active, 1);
  assert.equal(gate.waiting, 2);
  await Promise.all([a, b, c]);
  assert.deepEqual(order, ['a', 'b', 'c']);
  assert.equal(gate.active, 0);
  assert.equal(gate.waiting, 0);
});

test('Semaphore: a waiter whose signal aborts leaves the line; release is idempotent; errors free the slot', async () => {
  const gate = new Semaphore(1);
  const release = await gate.acquire();
  const controller = new AbortController();
  const waiting = gate.acquire(controller.signal);
  assert.equal(gate.waiting, 1);
  controller.abort(new Error('gave up'));
  await assert.rejects(waiting, /gave up/);
  assert.equal(gate.waiting, 0);
  release();
  release();
  assert.equal(gate.active, 0);
  await assert.rejects(gate.run(async () => { throw new Error('task failed'); }), /task failed/);
  assert.equal(gate.active, 0);
  await assert.rejects(gate.acquire(AbortSignal.abort(new Error('already'))), /already/);
});

test('TaskPool: add waits for a free slot, drain waits for all and reports the first error', async () => {
  const t = tracker();
  const pool = new TaskPool(3);
  const done: number[] = [];
  for (let i = 0; i < 10; i++) {
    await pool.add(async () => {
      done.push(await t.run(i, 3));
    });
    assert.ok(done.length >= i - 2, 'the producer never runs more than the limit ahead');
  }
  await pool.drain();
  assert.equal(done.length, 10);
  assert.equal(t.peak(), 3);

  const failing = new TaskPool(2);
  await failing.add(async () => { throw new Error('first'); });
  await failing.add(async () => { await sleep(2); throw new Error('second'); });
  await failing.add(async () => undefined);
  await assert.rejects(failing.drain(), /first/);
});
