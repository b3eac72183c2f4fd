// core/worker.ts: the one request/reply worker pool behind fingerprinting, chip prediction and the mirror helper.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AgeGenderError } from '../../src/core/errors.js';
import { WorkerPool } from '../../src/core/worker.js';
import type { EchoReply, EchoRequest } from '../helpers/echo-worker.js';

// spawnModuleWorker starts `./<name>.ts` next to `base`
const base = new URL('../helpers/echo-worker.ts', import.meta.url).href;
const pool = (options: { size?: number; respawns?: number; maxPerWorker?: number; workerData?: unknown } = {}): WorkerPool<EchoRequest, EchoReply> =>
  new WorkerPool<EchoRequest, EchoReply>({ base, name: 'echo-worker', ...options });

describe('WorkerPool', () => {
  it('answers requests on every worker and turns error replies into errors (AgeGenderError when coded)', async () => {
    const p = pool({ size: 2 });
    try {
      const infos = await p.ready(20_000);
      assert.equal(infos.length, 2);
      const replies = await Promise.all(['a', 'b', 'c', 'd'].map((value) => p.request({ op: 'echo', value, ms: 20 })));
      assert.deepEqual(replies.map((r) => r.value), ['a', 'b', 'c', 'd']);
      assert.equal(new Set(replies.map((r) => r.thread)).size, 2, 'the least busy worker takes each request');
      await assert.rejects(p.request({ op: 'fail', message: 'bad chip', labelled: true }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_IMAGE' && e.message === 'bad chip');
      // an error naming its file arrives as thrown: the subject once, and as its subject
      await assert.rejects(p.request({ op: 'fail', message: 'no usable face', labelled: true, subject: 'a: b.jpg' }), (e: unknown) => e instanceof AgeGenderError && e.message === 'a: b.jpg: no usable face' && e.subject === 'a: b.jpg');
      await assert.rejects(p.request({ op: 'fail', message: 'plain' }), (e: unknown) => e instanceof Error && !(e instanceof AgeGenderError) && e.message === 'plain');
      assert.equal(p.size, 2, 'error replies kill no worker');
    } finally {
      await p.close();
    }
    await assert.rejects(p.request({ op: 'echo', value: 'late' }), /closed/);
  });

  it('a dead worker rejects only its own requests; with no respawns the pool fails once none is left', async () => {
    const p = pool({ size: 2 });
    try {
      await p.ready(20_000);
      const onFirst = p.request({ op: 'echo', value: 'first', ms: 400 });
      const onSecond = p.request({ op: 'echo', value: 'second', ms: 400 });
      const crash = p.request({ op: 'exit', code: 3 }); // both workers have one request: goes to the first
      await assert.rejects(crash, /exited \(code 3\)/);
      await assert.rejects(onFirst, /exited \(code 3\)/);
      assert.equal((await onSecond).value, 'second', "the other worker's request is answered");
      assert.equal(p.size, 1);
      assert.equal(p.failure, null);
      assert.equal((await p.request({ op: 'echo', value: 'still' })).value, 'still');
      await assert.rejects(p.request({ op: 'throw', message: 'kaboom' }), /kaboom/);
      assert.equal(p.size, 0);
      assert.match(String(p.failure), /kaboom/);
      await assert.rejects(p.request({ op: 'echo', value: 'after' }), /kaboom/);
    } finally {
      await p.close();
    }
  });

  it('replaces a dead worker while respawns last', async () => {
    const p = pool({ size: 1, respawns: 1, maxPerWorker: 1 });
    try {
      const [first] = (await p.ready(20_000)) as number[];
      await assert.rejects(p.request({ op: 'exit', code: 1 }), /exited/);
      const reply = await p.request({ op: 'echo', value: 'again' });
      assert.equal(reply.value, 'again');
      assert.notEqual(reply.thread, first, 'answered by a new worker');
      assert.equal(p.size, 1);
    } finally {
      await p.close();
    }
  });

  it('ready() rejects after the timeout when a worker never announces itself', async () => {
    const p = pool({ workerData: { silent: true } });
    try {
      await assert.rejects(p.ready(300), /not ready after 300 ms/);
    } finally {
      await p.terminate();
    }
  });
});
