// The admission queue shared by predict and explain: refuses at once when full or when a request
// could not finish in time, cuts a waiting request before it takes a slot, and an explain burst
// gets immediate 503s with Retry-After and never a 504.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { buildServer, type ExplainFn } from '../../src/server/app.js';
import { AdmissionQueue } from '../../src/server/queue.js';
import { HttpError } from '../../src/server/errors.js';
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

  it('a cancelled request (its client went away) leaves the line, and a running one is told to stop', async () => {
    const q = new AdmissionQueue({ concurrency: 1, maxQueued: 8, expectedMs: { explain: 10 } });
    const far = performance.now() + 60_000;
    const gone = new HttpError('CLIENT_CLOSED_REQUEST', 'the client closed the connection before the answer was ready');
    const isGone = (e: unknown): boolean => e === gone;
    const running = new AbortController();
    let stopped = false;
    // told to stop, the task throws what LIME throws: an AbortError; the request still ends with the cancel's reason
    const first = q.run('explain', far, (signal) => new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => { stopped = true; reject(new DOMException('aborted', 'AbortError')); })), running.signal);
    const waiting = new AbortController();
    let ran = false;
    const second = q.run('explain', far, async () => { ran = true; }, waiting.signal);
    await sleep(10);
    assert.deepEqual([q.stats().running, q.stats().queued], [1, 1]);
    waiting.abort(gone);
    await assert.rejects(second, isGone);
    assert.equal(q.stats().queued, 0, 'the cancelled request left the line');
    running.abort(gone);
    await assert.rejects(first, isGone);
    assert.ok(stopped, 'the running task\'s signal aborted');
    await sleep(10);
    assert.equal(q.stats().running, 0);
    assert.equal(ran, false);
    await assert.rejects(q.run('explain', far, async () => 'x', AbortSignal.abort(gone)), isGone);
  });
});

describe('a request whose client went away', () => {
  it('leaves the line at once without running, and a running task has its signal aborted', async () => {
    const q = new AdmissionQueue({ concurrency: 1, maxQueued: 8, expectedMs: { predict: 10 } });
    const far = performance.now() + 60_000;
    let taskSignal: AbortSignal | undefined;
    let release: () => void = () => undefined;
    const runningGone = new AbortController();
    const running = q.run('predict', far, (signal) => {
      taskSignal = signal;
      return new Promise<string>((resolve) => (release = () => resolve('a')));
    }, runningGone.signal);
    const waitingGone = new AbortController();
    let ran = false;
    const waiting = q.run('predict', far, async () => {
      ran = true;
    }, waitingGone.signal);
    await sleep(10);
    assert.equal(q.stats().queued, 1);
    const gone = new Error('client gone');
    waitingGone.abort(gone);
    await assert.rejects(waiting, (e) => e === gone);
    assert.equal(q.stats().queued, 0, 'left the line at once');
    assert.equal(q.stats().rejected, 0, 'not counted as refused');
    runningGone.abort(gone);
    await assert.rejects(running, (e) => e === gone);
    assert.equal(taskSignal?.aborted, true, "the running task's signal aborts");
    assert.equal(q.stats().running, 1, 'the slot is held until the task really ends');
    release();
    await sleep(10);
    assert.equal(q.stats().running, 0);
    assert.equal(ran, false, 'the waiting task never ran');
    await assert.rejects(q.run('predict', far, async () => 'late', AbortSignal.abort(gone)), (e) => e === gone);
    assert.equal(q.stats().queued + q.stats().running, 0);
  });

  it('over HTTP: a client that disconnects while queued frees its place, its work never runs, and /metrics counts a 499', async () => {
    let releaseExplain: () => void = () => undefined;
    const explainStarted = new Promise<void>((started) => {
      const blockingExplain: ExplainFn = async (_model, chip) => {
        started();
        await new Promise<void>((resolve) => (releaseExplain = resolve));
        return { overlayPng: await sharp(chip.data, { raw: { width: chip.width, height: chip.height, channels: chip.channels } }).png().toBuffer() };
      };
      void buildServer({ model: fakeModel(), detector: null, explain: blockingExplain, limits: { concurrency: 1, maxQueued: 8 } }).then((a) => (app = a));
    });
    let app: Awaited<ReturnType<typeof buildServer>> | undefined;
    while (app === undefined) await sleep(5);
    const server = app;
    try {
      await server.listen({ port: 0, host: '127.0.0.1' });
      const address = server.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const chip = await readFile(CHIP);
      const holder = fetch(`http://127.0.0.1:${port}/v1/explain?detect=false`, { method: 'POST', body: chip });
      await explainStarted;
      const queue = async (): Promise<{ running: number; queued: number; completed: number }> => ((await server.inject({ method: 'GET', url: '/healthz' })).json() as { queue: { running: number; queued: number; completed: number } }).queue;
      const gone = new AbortController();
      const abandoned = fetch(`http://127.0.0.1:${port}/v1/predict?detect=false`, { method: 'POST', body: chip, signal: gone.signal }).catch((e: Error) => e.name);
      for (let i = 0; i < 100 && (await queue()).queued === 0; i++) await sleep(10);
      assert.equal((await queue()).queued, 1, 'the predict waits behind the explanation');
      gone.abort();
      assert.equal(await abandoned, 'AbortError');
      for (let i = 0; i < 100 && (await queue()).queued === 1; i++) await sleep(10);
      assert.deepEqual(await queue(), { ...(await queue()), running: 1, queued: 0 }, 'it left the line while the explanation still runs');
      releaseExplain();
      assert.equal((await holder).status, 200);
      await sleep(50);
      assert.equal((await queue()).completed, 1, 'only the explanation ran');
      const metrics = (await server.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /agegender_http_requests_total\{route="\/v1\/predict",method="POST",status="499"\} 1/);
    } finally {
      releaseExplain();
      await server.close();
    }
  });
});

describe('a full line refuses before the upload is read', () => {
  it('503 QUEUE_FULL with Retry-After before the body: an empty body is not even looked at, and Expect: 100-continue gets no 100 Continue', async () => {
    let releaseExplain: () => void = () => undefined;
    let started: () => void = () => undefined;
    const explainStarted = new Promise<void>((resolve) => (started = resolve));
    const blockingExplain: ExplainFn = async (_model, chip) => {
      started();
      await new Promise<void>((resolve) => (releaseExplain = resolve));
      return { overlayPng: await sharp(chip.data, { raw: { width: chip.width, height: chip.height, channels: chip.channels } }).png().toBuffer() };
    };
    const app = await buildServer({ model: fakeModel(), detector: null, explain: blockingExplain, limits: { concurrency: 1, maxQueued: 0 } });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const chip = await readFile(CHIP);
      const holder = app.inject({ method: 'POST', url: '/v1/explain?detect=false', payload: chip });
      await explainStarted;
      const empty = await app.inject({ method: 'POST', url: '/v1/predict?detect=false' });
      assert.equal(empty.statusCode, 503, empty.body);
      assert.equal(ErrorResponse.parse(empty.json()).error.code, 'QUEUE_FULL');
      assert.ok(Number(empty.headers['retry-after']) >= 1);
      const text = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let got = '';
        socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(got));
        setTimeout(() => socket.destroy(), 3000);
        socket.write(`POST /v1/preview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${chip.length}\r\nExpect: 100-continue\r\n\r\n`);
      });
      assert.match(text, /^HTTP\/1\.1 503 /, text.slice(0, 200));
      assert.doesNotMatch(text, /100 Continue/);
      assert.match(text, /"code":"QUEUE_FULL"/);
      releaseExplain();
      assert.equal((await holder).statusCode, 200);
    } finally {
      releaseExplain();
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
