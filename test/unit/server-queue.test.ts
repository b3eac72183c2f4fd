// The admission queue shared by predict and explain: refuses at once when full or when a request
// could not finish in time, cuts a waiting request before it takes a slot, and an explain burst
// gets immediate 503s with Retry-After and never a 504.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { buildServer, type ExplainFn } from '../../src/server/app.js';
import { AdmissionQueue } from '../../src/server/queue.js';
import { ErrorResponse } from '../../src/server/schemas.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

const CHIP = new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const isQueueFull = (e: Error & { code?: string }): boolean => e.code === 'QUEUE_FULL';

describe('AdmissionQueue', () => {
  it('runs at most `concurrency` tasks and refuses at once when the line is full', async () => {
    const q = new AdmissionQueue({ concurrency: 1, maxQueued: 1, expectedMs: { predict: 10 } });
    const far = performance.now() + 60_000;
    let release: () => void = () => undefined;
    const first = q.run('predict', far, () => new Promise<string>((resolve) => (release = () => resolve('a'))));
    const second = q.run('predict', far, async () => 'b');
    await assert.rejects(q.run('predict', far, async () => 'c'), isQueueFull);
    assert.deepEqual([q.stats().running, q.stats().queued, q.stats().rejected], [1, 1, 1]);
    release();
    assert.deepEqual(await Promise.all([first, second]), ['a', 'b']);
  });

  it('refuses at once a request whose wait plus run time would pass its deadline', async () => {
    const q = new AdmissionQueue({ concurrency: 1, maxQueued: 8, expectedMs: { explain: 1000 } });
    let release: () => void = () => undefined;
    const running = q.run('explain', performance.now() + 60_000, () => new Promise<void>((resolve) => (release = resolve)));
    const t0 = performance.now();
    await assert.rejects(q.run('explain', performance.now() + 1500, async () => 'late'), (e: Error & { code?: string; retryAfterSeconds?: number }) => {
      assert.equal(e.code, 'QUEUE_FULL');
      assert.ok((e.retryAfterSeconds ?? 0) >= 1);
      return true;
    });
    assert.ok(performance.now() - t0 < 50, 'refused without waiting');
    release();
    await running;
  });

  it('chips and photos are timed apart, so Retry-After counts queued photos at a photo\'s cost', async () => {
    const q = new AdmissionQueue({ concurrency: 1, maxQueued: 4, expectedMs: { predict: 2000 } });
    for (let i = 0; i < 5; i++) await q.run('chip', performance.now() + 10_000, async () => 'chip');
    assert.ok(q.expectedMs('chip') < 100, `chip estimate ${q.expectedMs('chip')} ms`);
    assert.equal(q.expectedMs('predict'), 2000, 'fast chips do not lower the photo estimate');
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const photos = Array.from({ length: 5 }, () => q.run('predict', performance.now() + 60_000, () => gate.then(() => 'photo')));
    await assert.rejects(q.run('predict', performance.now() + 60_000, async () => 'one too many'), (e: Error & { retryAfterSeconds?: number }) => {
      assert.equal(e.retryAfterSeconds, 10, '5 photos of 2 s each are ahead');
      return true;
    });
    release();
    await Promise.all(photos);
  });

  it('a waiting request that can no longer finish in time leaves before taking a slot', async () => {
    const q = new AdmissionQueue({ concurrency: 1, maxQueued: 8, expectedMs: { predict: 100 } });
    const blocker = q.run('predict', performance.now() + 60_000, () => sleep(600));
    let ran = false;
    const t0 = performance.now();
    await assert.rejects(
      q.run('predict', performance.now() + 400, async () => {
        ran = true;
      }),
      isQueueFull,
    );
    const waited = performance.now() - t0;
    assert.equal(ran, false);
    assert.ok(waited >= 250 && waited < 550, `cut after ${waited.toFixed(0)} ms (deadline 400 − estimate 100)`);
    await blocker;
  });

  it('a task running past its deadline answers TIMEOUT and keeps its slot until it ends', async () => {
    const q = new AdmissionQueue({ concurrency: 1, maxQueued: 8, expectedMs: { predict: 10 } });
    await assert.rejects(q.run('predict', performance.now() + 50, () => sleep(300)), (e: Error & { code?: string }) => e.code === 'TIMEOUT');
    assert.equal(q.stats().running, 1, 'the slot is still held by the task that cannot be interrupted');
    await sleep(350);
    assert.equal(q.stats().running, 0);
  });
});

describe('abandoned requests', () => {
  it('a waiting request whose client has gone leaves the line without running; a running one has its signal aborted and keeps its slot until it ends', { timeout: 20_000 }, async () => {
    const q = new AdmissionQueue({ concurrency: 1, maxQueued: 8, expectedMs: { predict: 10 } });
    const far = performance.now() + 60_000;
    const goneA = new AbortController();
    const goneB = new AbortController();
    let taskSignal: AbortSignal | undefined;
    let finish: () => void = () => undefined;
    const first = q.run('predict', far, (signal) => ((taskSignal = signal), new Promise<string>((resolve) => (finish = () => resolve('a')))), goneA.signal);
    let secondRan = false;
    const second = q.run('predict', far, async () => ((secondRan = true), 'b'), goneB.signal);
    goneB.abort(new Error('client B left'));
    await assert.rejects(second, /client B left/);
    assert.deepEqual([q.stats().running, q.stats().queued], [1, 0]);
    goneA.abort(new Error('client A left'));
    await assert.rejects(first, /client A left/);
    assert.equal(taskSignal?.aborted, true, 'the running task is told to stop');
    assert.equal(q.stats().running, 1, 'its slot is held until it really ends');
    finish();
    assert.equal(await q.run('predict', far, async () => 'c'), 'c');
    assert.equal(secondRan, false);
    await assert.rejects(q.run('predict', far, async () => 'd', AbortSignal.abort(new Error('gone before'))), /gone before/);
  });

  it('the server: a request whose client closes the connection leaves the line, and a running explanation is stopped', { timeout: 20_000 }, async () => {
    const signals: AbortSignal[] = [];
    const stuckExplain: ExplainFn = (_model, _chip, { signal }) => {
      if (signal) signals.push(signal);
      return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
    };
    const app = await buildServer({ model: fakeModel(), detector: null, explain: stuckExplain, limits: { requestTimeoutMs: 60_000, concurrency: 1, maxQueued: 8 } });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const chip = await readFile(CHIP);
      const queue = async (): Promise<{ running: number; queued: number }> => (await app.inject({ method: 'GET', url: '/healthz' })).json<{ queue: { running: number; queued: number } }>().queue;
      const send = (): { left: Promise<unknown>; leave: () => void } => {
        const ac = new AbortController();
        const left = fetch(`http://127.0.0.1:${port}/v1/explain?detect=false`, { method: 'POST', body: chip, signal: ac.signal }).catch((e: Error) => e.name);
        return { left, leave: () => ac.abort() };
      };
      const a = send();
      while (signals.length === 0) await sleep(10);
      const b = send();
      while ((await queue()).queued === 0) await sleep(10);
      b.leave();
      assert.equal(await b.left, 'AbortError');
      while ((await queue()).queued > 0) await sleep(10);
      assert.equal(signals[0]!.aborted, false, 'the running one goes on while its client is there');
      a.leave();
      assert.equal(await a.left, 'AbortError');
      while (!signals[0]!.aborted) await sleep(10);
      while ((await queue()).running > 0) await sleep(10);
      assert.equal(signals.length, 1, 'the request that waited behind it never ran');
    } finally {
      await app.close();
    }
  });
});

describe('explain burst', () => {
  it('9 concurrent explains: the ones that cannot finish in time get an immediate 503 with Retry-After, none a 504', async () => {
    const slowExplain: ExplainFn = async (_model, chip) => {
      await sleep(250);
      return { overlayPng: await sharp(chip.data, { raw: { width: chip.width, height: chip.height, channels: chip.channels } }).png().toBuffer() };
    };
    const app = await buildServer({ model: fakeModel(), detector: null, explain: slowExplain, limits: { requestTimeoutMs: 2000, concurrency: 1, maxQueued: 8 } });
    try {
      const chip = await readFile(CHIP);
      const shoot = async (): Promise<{ status: number; ms: number; retryAfter: unknown; body: string }> => {
        const t0 = performance.now();
        const res = await app.inject({ method: 'POST', url: '/v1/explain?detect=false', payload: chip });
        return { status: res.statusCode, ms: performance.now() - t0, retryAfter: res.headers['retry-after'], body: res.body };
      };
      assert.equal((await shoot()).status, 200, 'warm-up: the queue learns what an explanation costs');
      const shots = await Promise.all(Array.from({ length: 9 }, shoot));
      const ok = shots.filter((s) => s.status === 200);
      const busy = shots.filter((s) => s.status === 503);
      assert.equal(ok.length + busy.length, 9, `only 200 and 503: ${shots.map((s) => s.status).join(' ')}`);
      assert.ok(ok.length >= 2 && busy.length >= 2, `some served, some refused: ${shots.map((s) => s.status).join(' ')}`);
      for (const b of busy) {
        assert.equal(ErrorResponse.parse(JSON.parse(b.body)).error.code, 'QUEUE_FULL');
        assert.ok(Number(b.retryAfter) >= 1, 'Retry-After in seconds');
        assert.ok(b.ms < 200, `503 answered in ${b.ms.toFixed(0)} ms, not after waiting`);
      }
    } finally {
      await app.close();
    }
  });
});
