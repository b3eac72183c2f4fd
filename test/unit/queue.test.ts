// The batch queue (src/queue) against a real redis-server (test/helpers/redis.ts) with the tiny fake
// model: job planning and ids, the results codec, submit (no duplicates on resubmit), a worker run
// in-process, results in input order with failures, a job out of tries, unreachable Redis, and a
// Redis restart keeping the queue (appendonly).
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Command } from 'commander';
import { abortOnSignals, registerQueueCommand, statusLine, submitHints } from '../../src/cli/commands/queue.js';
import { parseCsv } from '../../src/core/csv.js';
import { decodeJobResults, encodeJobResults, failedResults } from '../../src/queue/codec.js';
import { identifyImages, packSources, planJobs, unpackSources } from '../../src/queue/jobs.js';
import { clearQueue, probeRedis, queueStatus, startQueueWorker, submitImages, watchQueue, writeQueueResults } from '../../src/queue/index.js';
import { queueStore } from '../../src/queue/store.js';
import type { PredictFileResult } from '../../src/pipeline/predict-files.js';
import { PREDICT_CSV_HEADER } from '../../src/pipeline/predict-csv.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.js';

const PHOTOS = new URL('../fixtures/photos/', import.meta.url);

describe('queue: jobs and codec (no Redis)', () => {
  it('packs sources by common folder and back; plans jobs whose ids depend only on the images', async () => {
    const sources = ['/data/a/x.jpg', '/data/a/y.jpg', '/data/b/z.jpg'];
    const packed = packSources(sources);
    assert.deepEqual(packed, { d: '/data/', n: ['a/x.jpg', 'a/y.jpg', 'b/z.jpg'] });
    assert.deepEqual(unpackSources(packed), sources);
    assert.deepEqual(unpackSources(packSources(['https://h/p/1.jpg', 'https://h/q.jpg'])), ['https://h/p/1.jpg', 'https://h/q.jpg']);
    const images = await identifyImages(['/nowhere/1.jpg', '/nowhere/2.jpg', '/nowhere/3.jpg', 'https://example.org/4.jpg']);
    const jobs = planJobs(images, 3);
    assert.deepEqual(jobs.map((j) => j.images.length), [3, 1]);
    assert.deepEqual(planJobs(await identifyImages(['/nowhere/1.jpg', '/nowhere/2.jpg', '/nowhere/3.jpg', 'https://example.org/4.jpg']), 3).map((j) => j.id), jobs.map((j) => j.id));
    assert.notEqual(planJobs(images.slice(1), 3)[0]!.id, jobs[0]!.id);
    assert.match(jobs[0]!.id, /^[0-9a-f]{32}$/);
  });

  it('an image identity changes with the file (size, modification time), not with how the path is written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agegender-queue-id-'));
    try {
      const file = join(dir, 'a.jpg');
      await writeFile(file, 'one');
      const [first] = await identifyImages([file]);
      const [again] = await identifyImages([join(dir, '.', 'a.jpg')]);
      assert.deepEqual(again!.digest, first!.digest);
      assert.equal(again!.source, file);
      await utimes(file, new Date(), new Date(Date.now() + 5000));
      const [touched] = await identifyImages([file]);
      assert.notDeepEqual(touched!.digest, first!.digest);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('encodes a job\'s results compactly and decodes them to the same PredictFileResults (a turned photo keeps `turned`, one with faces cut `facesFound`, a multi-frame file its `note`)', () => {
    const face: PredictFileResult['faces'][number] = { box: { x: 0, y: 0, width: 200, height: 200 }, score: null, age: 31.42, ageInterval: [26.1, 37.25], gender: 'female', genderProbability: 0.9712, femaleProbability: 0.9712, quality: { score: 0.61, detector: 0.93, landmarkFit: null, sharpness: 0.5, exposure: 0.72 } };
    const results: PredictFileResult[] = [
      { file: '/d/a.jpg', width: 200, height: 200, faces: [face], error: null },
      { file: '/d/b.jpg', width: 640, height: 480, faces: [], error: null },
      { file: '/d/s.jpg', width: 480, height: 640, faces: [], turned: 270, error: null },
      { file: '/d/m.jpg', width: 640, height: 480, faces: [face], facesFound: 7, error: null },
      { file: '/d/anim.gif', width: 200, height: 200, faces: [face], note: 'the GIF holds 3 frames: only the first was analysed', error: null },
      { file: '/d/pages.tiff', width: null, height: null, faces: [], note: 'the TIFF holds 2 pages: only the first was analysed', error: { code: 'NO_USABLE_FACE', message: 'no usable face' } },
      { file: '/d/c.jpg', width: null, height: null, faces: [], error: { code: 'INVALID_IMAGE', message: 'not an image, "quoted", with, commas' } },
    ];
    const text = encodeJobResults(results);
    assert.deepEqual(decodeJobResults(text), results);
    assert.ok(text.length < JSON.stringify(results).length * 0.6, `compact: ${text.length} vs ${JSON.stringify(results).length}`);
  });
});

it("submit's next-step lines hide the Redis password (they end up in logs), as its errors do", async () => {
  const lines = await submitHints('redis://worker:hunter2@10.0.0.5:6379/2', 'photos');
  assert.equal(lines.length, 3);
  for (const line of lines) assert.match(line, / --redis redis:\/\/worker:\*\*\*@10\.0\.0\.5:6379\/2 --queue photos/);
  assert.doesNotMatch(lines.join('\n'), /hunter2/);
  assert.match((await submitHints('redis://127.0.0.1:6379', 'q'))[0]!, /--redis redis:\/\/127\.0\.0\.1:6379 --queue q$/);
});

it('queue results --format names the option when its value is wrong (before connecting)', async () => {
  const program = new Command().exitOverride();
  registerQueueCommand(program);
  await assert.rejects(program.parseAsync(['node', 'agegender', 'queue', 'results', '--redis', 'redis://127.0.0.1:1', '--out', 'r.csv', '--format', 'xml']), {
    code: 'INVALID_ARGUMENT',
    message: 'Expected one of [csv, ndjson] for --format but received "xml" of type string',
  });
});

describe('queue: against redis-server', () => {
  let redis: RedisServer;
  let dir: string;
  let files: string[];
  before(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'agegender-queue-'));
    const chip = await readFile(new URL('chip-35-male.jpg', PHOTOS));
    files = [];
    for (let i = 0; i < 7; i++) {
      files.push(join(dir, `c${i}.jpg`));
      await writeFile(files[i]!, chip);
    }
    files.push(join(dir, 'z-not-an-image.jpg'));
    await writeFile(files[7]!, 'this is not an image\n');
  });
  after(async () => {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an unreachable Redis is QUEUE_UNAVAILABLE within seconds, for every command', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    await assert.rejects(probeRedis(url), { code: 'QUEUE_UNAVAILABLE', message: new RegExp(`127\\.0\\.0\\.1:\\d+/?: cannot reach Redis: connect ECONNREFUSED`) });
    await assert.rejects(submitImages(files, { redis: url }), { code: 'QUEUE_UNAVAILABLE' });
    await assert.rejects(queueStatus({ redis: url }), { code: 'QUEUE_UNAVAILABLE' });
    await assert.rejects(writeQueueResults({ redis: url, out: join(dir, 'never.csv') }), { code: 'QUEUE_UNAVAILABLE' });
    assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
    await assert.rejects(submitImages(files, { redis: 'http://x' }), { code: 'INVALID_ARGUMENT', message: /Expected a redis:\/\/ or rediss:\/\/ URL for --redis/ });
    await assert.rejects(submitImages(files, { redis: redis.url, queue: 'a:b' }), { code: 'INVALID_ARGUMENT', message: /queue name/ });
  });

  it('a server that accepts but never answers is QUEUE_UNAVAILABLE in about 3.5 s, and the process can exit right after', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      // in a child process: the time from the probe to the process's exit (a lingering socket kept it 2 s longer)
      const script = `import { probeRedis } from ${JSON.stringify(new URL('../../src/queue/connection.ts', import.meta.url).href)};
const t = Date.now();
process.on('exit', () => console.log(JSON.stringify({ exitMs: Date.now() - t, code })));
let code = null;
try { await probeRedis('redis://127.0.0.1:${port}'); } catch (e) { code = e.code; }`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
      const got = JSON.parse(child.stdout.trim().split('\n').pop()!) as { exitMs: number; code: string };
      assert.equal(got.code, 'QUEUE_UNAVAILABLE');
      assert.ok(got.exitMs >= 3000 && got.exitMs < 4500, `exited ${got.exitMs} ms after the probe began`);
    } finally {
      silent.close();
    }
  });

  it('a URL with a bad port or path is INVALID_ARGUMENT naming it (password hidden); a database Redis refuses is QUEUE_UNAVAILABLE, not database 0', async () => {
    await assert.rejects(probeRedis('redis://:hunter2@127.0.0.1:abc'), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.match(e.message, /received "redis:\/\/:\*\*\*@127\.0\.0\.1:abc" \(not a valid URL/);
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
    await assert.rejects(probeRedis(`${redis.url}/x`), { code: 'INVALID_ARGUMENT', message: /the path must be a database number/ });
    await assert.rejects(queueStatus({ redis: `${redis.url}/99` }), { code: 'QUEUE_UNAVAILABLE', message: new RegExp(`${redis.url.replace(/[./]/g, '\\$&')}/99: cannot reach Redis: ERR DB index is out of range`) });
    await probeRedis(`${redis.url}/1`);
    await probeRedis(`${redis.url}/`);
  });

  it('submits in jobs, a resubmit adds nothing, results wait for the workers, then come in input order with failures', async () => {
    const queue = 'order';
    const s = await submitImages([...files, join(dir, 'missing.jpg')], { redis: redis.url, queue, batch: 3 });
    assert.deepEqual({ images: s.images, newImages: s.newImages, newJobs: s.newJobs }, { images: 8, newImages: 8, newJobs: 3 });
    assert.deepEqual(s.missing.map((m) => m.input), [join(dir, 'missing.jpg')]);
    const again = await submitImages([dir], { redis: redis.url, queue, batch: 2 });
    assert.deepEqual({ newImages: again.newImages, newJobs: again.newJobs }, { newImages: 0, newJobs: 0 });
    const empty = await queueStatus({ redis: redis.url, queue: 'never-submitted' });
    assert.equal(statusLine(empty), 'queue "never-submitted" holds no images (nothing submitted to it yet, or its results expired after 7 days)');
    const before = await queueStatus({ redis: redis.url, queue });
    assert.equal(statusLine(before), '0/8 images (0 failed) | jobs: 3 waiting, 0 active, 0 retrying, 0 completed, 0 failed | – images/s | ETA –');
    assert.deepEqual({ images: before.images, done: before.done, waiting: before.waiting, finished: before.finished }, { images: 8, done: 0, waiting: 3, finished: false });
    const out = join(dir, 'out', 'results.csv');
    await assert.rejects(writeQueueResults({ redis: redis.url, queue, out }), { code: 'QUEUE_UNFINISHED', message: /8 of 8 images in queue "order" are not processed yet/ });
    const partial = await writeQueueResults({ redis: redis.url, queue, out, partial: true });
    assert.deepEqual({ images: partial.images, failed: partial.failed, unfinished: partial.unfinished }, { images: 8, failed: 0, unfinished: 8 }, 'not processed yet is not failed');
    assert.match(await readFile(out, 'utf8'), /c0\.jpg,,,,,,,,,,,,,,,QUEUE_UNFINISHED: not processed yet/);

    const model = fakeModel();
    const worker = await startQueueWorker({ redis: redis.url, queue, model, detect: false, untilEmpty: true, lockDurationMs: 1000 });
    await worker.closed;
    assert.deepEqual(worker.stats, { jobs: 3, images: 8, failedImages: 1 });
    const status = await queueStatus({ redis: redis.url, queue });
    assert.deepEqual({ done: status.done, failed: status.failed, completed: status.completed, finished: status.finished, eta: status.etaSeconds }, { done: 8, failed: 1, completed: 3, finished: true, eta: 0 });
    assert.ok(status.imagesPerSecond !== null && status.imagesPerSecond > 0);

    const r = await writeQueueResults({ redis: redis.url, queue, out });
    assert.deepEqual({ images: r.images, failed: r.failed, format: r.format }, { images: 8, failed: 1, format: 'csv' });
    const rows = parseCsv(await readFile(out, 'utf8'));
    assert.equal(rows[0]!.join(','), PREDICT_CSV_HEADER);
    assert.deepEqual(rows.slice(1).map((row) => row[0]), files, 'one row per image, in input order');
    assert.match(rows[8]![rows[0]!.indexOf('error')]!, /^INVALID_IMAGE: /);
    assert.ok(rows.slice(1, 8).every((row) => row[10] === 'male' || row[10] === 'female'));
    const nd = await writeQueueResults({ redis: redis.url, queue, out: join(dir, 'out', 'results.ndjson') });
    assert.equal(nd.format, 'ndjson');
    const objects = (await readFile(join(dir, 'out', 'results.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as PredictFileResult);
    assert.deepEqual(objects.map((o) => o.file), files);
    assert.equal(objects[7]!.error?.code, 'INVALID_IMAGE');
  });

  it('clear: refused while jobs wait (QUEUE_UNFINISHED) unless forced; a finished queue is removed from Redis, keys and jobs, and the same images can be submitted afresh', async () => {
    const queue = 'to-clear';
    const keysOf = async (): Promise<string[]> => {
      const client = new Redis(redis.url);
      try {
        return (await client.keys(`*${queue}*`)).sort();
      } finally {
        client.disconnect();
      }
    };
    await submitImages(files.slice(0, 4), { redis: redis.url, queue, batch: 2 });
    await assert.rejects(clearQueue({ redis: redis.url, queue }), { code: 'QUEUE_UNFINISHED', message: /queue "to-clear" still has 2 jobs waiting, running or retrying \(0 of 4 images done\).*--force/ });
    assert.equal((await queueStatus({ redis: redis.url, queue })).images, 4, 'a refused clear removes nothing');
    const worker = await startQueueWorker({ redis: redis.url, queue, model: fakeModel(), detect: false, untilEmpty: true, lockDurationMs: 1000 });
    await worker.closed;
    assert.ok((await keysOf()).some((k) => k === `agegender:${queue}:results`));
    assert.deepEqual(await clearQueue({ redis: redis.url, queue }), { queue, images: 4, jobs: 2 });
    assert.deepEqual(await keysOf(), [], 'no key of the queue is left: BullMQ\'s nor its own');
    const again = await submitImages(files.slice(0, 4), { redis: redis.url, queue, batch: 2 });
    assert.deepEqual({ newImages: again.newImages, newJobs: again.newJobs }, { newImages: 4, newJobs: 2 });
    assert.deepEqual(await clearQueue({ redis: redis.url, queue, force: true }), { queue, images: 4, jobs: 2 });
    assert.deepEqual(await keysOf(), []);
  });

  it('a result recorded twice (a job run again after its worker was presumed dead) counts once', async () => {
    const client = new Redis(redis.url);
    try {
      const store = queueStore(client, 'twice', 60);
      await store.registerJobs([{ id: 'j1', images: 2 }]);
      const text = encodeJobResults([{ file: '/a.jpg', width: 1, height: 1, faces: [], error: null }, { file: '/b.jpg', width: null, height: null, faces: [], error: { code: 'INVALID_IMAGE', message: 'x' } }]);
      await store.recordResults('j1', text, 2, 1);
      await store.recordResults('j1', text, 2, 1);
      // the same job failed for stalling after it was recorded: its rows and counters stay as they were
      await store.recordResults('j1', encodeJobResults(failedResults(['/a.jpg', '/b.jpg'], 'JOB_FAILED', 'job stalled more than allowable limit')), 2, 2);
      assert.deepEqual(decodeJobResults((await store.results(['j1']))[0]!), decodeJobResults(text));
      const c = await store.counters();
      assert.deepEqual({ images: c.images, jobs: c.jobs, done: c.done, failed: c.failed, jobsDone: c.jobsDone }, { images: 2, jobs: 1, done: 2, failed: 1, jobsDone: 1 });
      assert.deepEqual(await store.registerJobs([{ id: 'j1', images: 2 }, { id: 'j2', images: 1 }]), ['j2']);
      const ttl = await client.ttl(store.keys.results);
      assert.ok(ttl > 0 && ttl <= 60, `results expire (ttl ${ttl})`);
    } finally {
      client.disconnect();
    }
  });

  it('a job that fails on every try is retried with backoff, then its images are JOB_FAILED rows', async () => {
    const queue = 'doomed';
    await submitImages(files.slice(0, 2), { redis: redis.url, queue, batch: 2, attempts: 2, backoffMs: 50 });
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    let tries = 0;
    const w = new Worker(queue, async () => {
      tries++;
      throw new Error('disk on fire');
    }, { connection });
    const q = new Queue(queue, { connection });
    try {
      for (let i = 0; i < 100 && (await q.getJobCounts('failed'))['failed'] !== 1; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(tries, 2, 'tried attempts times');
    } finally {
      await w.close();
      await q.close();
      connection.disconnect();
    }
    // nothing recorded it (that worker was not ours): results ask BullMQ, which says failed
    const out = join(dir, 'doomed.csv');
    await assert.rejects(writeQueueResults({ redis: redis.url, queue, out }), { code: 'QUEUE_UNFINISHED' });
    const r = await writeQueueResults({ redis: redis.url, queue, out, partial: true });
    assert.deepEqual({ images: r.images, failed: r.failed, unfinished: r.unfinished }, { images: 2, failed: 2, unfinished: 0 });
    assert.match(await readFile(out, 'utf8'), /c1\.jpg,,,,,,,,,,,,,,,JOB_FAILED: job failed: disk on fire/);
  });

  it('after the queue\'s keys expire, the same images submitted again run again, though BullMQ still holds their failed job', async () => {
    const queue = 'expired';
    await submitImages(files.slice(0, 2), { redis: redis.url, queue, batch: 2, attempts: 1, ttlSeconds: 1 });
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const w = new Worker(queue, async () => {
      throw new Error('share not mounted');
    }, { connection });
    const q = new Queue(queue, { connection });
    try {
      for (let i = 0; i < 100 && (await q.getJobCounts('failed'))['failed'] !== 1; i++) await new Promise((r) => setTimeout(r, 100));
      await w.close();
      for (let i = 0; i < 50 && (await connection.exists(`agegender:${queue}:order`)) === 1; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await connection.exists(`agegender:${queue}:order`), 0, 'the order expired');
      assert.equal((await q.getJobCounts('failed'))['failed'], 1, 'BullMQ keeps the failed job');
      const again = await submitImages(files.slice(0, 2), { redis: redis.url, queue, batch: 2 });
      assert.deepEqual({ newImages: again.newImages, newJobs: again.newJobs }, { newImages: 2, newJobs: 1 });
      const worker = await startQueueWorker({ redis: redis.url, queue, model: fakeModel(), detect: false, untilEmpty: true });
      await worker.closed;
      assert.equal(worker.stats.images, 2, 'the job ran again');
      const r = await writeQueueResults({ redis: redis.url, queue, out: join(dir, 'expired.csv') });
      assert.deepEqual({ images: r.images, failed: r.failed }, { images: 2, failed: 0 });
    } finally {
      await q.close();
      connection.disconnect();
    }
  });

  it('closing a worker (what SIGTERM does) finishes the job in hand, records it, and leaves the rest queued', async () => {
    const queue = 'term';
    await submitImages(files.slice(0, 3), { redis: redis.url, queue, batch: 1 });
    const worker = await startQueueWorker({ redis: redis.url, queue, model: fakeModel({ delayMs: 400 }), detect: false, concurrency: 1 });
    const client = new Redis(redis.url);
    try {
      const q = new Queue(queue, { connection: client });
      for (let i = 0; i < 100 && (await q.getJobCounts('active'))['active'] !== 1; i++) await new Promise((r) => setTimeout(r, 50));
      await worker.close();
      await worker.closed;
      assert.equal(worker.stats.jobs, 1, 'the job in hand was finished');
      const s = await queueStatus({ redis: redis.url, queue });
      assert.deepEqual({ done: s.done, waiting: s.waiting, active: s.active }, { done: 1, waiting: 2, active: 0 });
      await q.close();
    } finally {
      client.disconnect();
    }
  });

  it('a worker with untilEmpty waits out Redis going away mid-run: the outage is in its log lines, no stack trace on the console', async () => {
    const queue = 'outage';
    await submitImages(files.slice(0, 2), { redis: redis.url, queue, batch: 1 });
    const logged: string[] = [];
    const printed: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]): void => void printed.push(args);
    let stats;
    try {
      const worker = await startQueueWorker({ redis: redis.url, queue, model: fakeModel({ delayMs: 500 }), detect: false, concurrency: 1, untilEmpty: true, lockDurationMs: 2000, log: (line) => logged.push(line) });
      await redis.restart(1500);
      await worker.closed;
      stats = worker.stats;
    } finally {
      console.error = original;
    }
    assert.deepEqual(printed.map((args) => args.map(String).join(' ')), [], 'nothing printed by BullMQ (a stack trace per reconnect try)');
    assert.ok(logged.some((line) => /^redis: .*ECONNREFUSED.*\(reconnecting\)$/.test(line)), logged.join('\n'));
    assert.ok(logged.includes('redis: connected again'), logged.join('\n'));
    assert.ok(stats.images >= 2, 'both jobs ran (one may have run twice, its lock lost in the outage)');
    assert.equal((await queueStatus({ redis: redis.url, queue })).done, 2);
  });

  it('a command that runs once (status here; submit, results and clear share its connection) gives up on a Redis gone mid-command: QUEUE_UNAVAILABLE naming the server in about 11 s, no hang, no stack trace', async () => {
    const queue = 'gone';
    await submitImages(files.slice(0, 2), { redis: redis.url, queue, batch: 1 });
    const printed: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]): void => void printed.push(args);
    let down: Promise<void> | undefined;
    let readings = 0;
    let took = 0;
    const started = Date.now();
    try {
      const watch = watchQueue({ redis: redis.url, queue }, 200, () => {
        readings++;
        down ??= redis.restart(16_000); // Redis goes away after the first reading, for longer than the command waits
      });
      const hang = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still waiting after 25 s')), 25_000).unref());
      await assert.rejects(Promise.race([watch, hang]), {
        code: 'QUEUE_UNAVAILABLE',
        message: new RegExp(`^${redis.url.replace(/[./]/g, '\\$&')}/?: lost the connection to Redis: connect ECONNREFUSED .*\\(gave up after 10 reconnect tries\\)$`),
      });
      took = Date.now() - started;
    } finally {
      console.error = original;
      await down;
    }
    assert.ok(took > 5000 && took < 16_000, `gave up after ${took} ms (a short blip is waited out)`);
    assert.equal(readings, 1);
    assert.deepEqual(printed.map((args) => args.map(String).join(' ')), [], 'nothing printed by BullMQ');
    assert.equal((await queueStatus({ redis: redis.url, queue })).images, 2, 'Redis is back (appendonly): the next command works');
  });

  it('closing an idle worker (SIGTERM) while Redis is down stops it at once, not never (BullMQ waits for ever on a lost blocking connection)', async () => {
    const worker = await startQueueWorker({ redis: redis.url, queue: 'idle', model: fakeModel(), detect: false, log: () => undefined });
    await new Promise((r) => setTimeout(r, 300));
    const down = redis.restart(4000);
    try {
      await new Promise((r) => setTimeout(r, 800));
      const started = Date.now();
      const hang = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('close() still waiting after 10 s')), 10_000).unref());
      await Promise.race([worker.close().then(() => worker.closed), hang]);
      assert.ok(Date.now() - started < 2000, `stopped after ${Date.now() - started} ms, Redis still down`);
    } finally {
      await down;
    }
  });

  it('results stopped mid-write (Ctrl-C: its signal aborted) leave no temp file and the earlier file untouched', async () => {
    const queue = 'many';
    const client = new Redis(redis.url);
    try {
      const store = queueStore(client, queue, 600);
      const face: PredictFileResult['faces'][number] = { box: { x: 0, y: 0, width: 200, height: 200 }, score: null, age: 31.4, ageInterval: [26.1, 37.2], gender: 'female', genderProbability: 0.97, femaleProbability: 0.97, quality: { score: 0.6, detector: 0.9, landmarkFit: null, sharpness: 0.5, exposure: 0.7 } };
      const pipeline = client.pipeline();
      for (let j = 0; j < 1500; j++) {
        const results = Array.from({ length: 64 }, (_, i): PredictFileResult => ({ file: `/data/photos/${j}/${i}.jpg`, width: 200, height: 200, faces: [face], error: null }));
        pipeline.zadd(store.keys.order, j, `job${j}`).hset(store.keys.results, `job${j}`, encodeJobResults(results));
      }
      await pipeline.hset(store.keys.stats, { images: 96_000, jobs: 1500, done: 96_000, jobsDone: 1500 }).exec();
    } finally {
      client.disconnect();
    }
    const folder = join(dir, 'stopped');
    await mkdir(folder);
    const out = join(folder, 'results.csv');
    await writeFile(out, 'earlier results\n');
    const stop = new AbortController();
    const watch = setInterval(() => void readdir(folder).then((names) => names.some((n) => n.endsWith('.tmp')) && stop.abort()), 2);
    try {
      await assert.rejects(writeQueueResults({ redis: redis.url, queue, out, signal: stop.signal }), { name: 'AbortError' });
    } finally {
      clearInterval(watch);
    }
    assert.ok(stop.signal.aborted, 'stopped while the temp file was being written');
    assert.deepEqual(await readdir(folder), ['results.csv'], 'no temp file left beside it');
    assert.equal(await readFile(out, 'utf8'), 'earlier results\n');
  });

  it('queue results: a first SIGINT / SIGTERM aborts the write, then ends the process by that signal; a second ends it at once', async () => {
    const target = new EventEmitter();
    const exits: string[] = [];
    let seen: AbortSignal | undefined;
    const run = abortOnSignals(
      (signal) =>
        new Promise<never>((_, reject) => {
          seen = signal;
          signal.addEventListener('abort', () => setTimeout(() => reject(signal.reason), 20));
        }),
      target as unknown as NodeJS.Process,
      (signal) => void exits.push(signal),
    );
    target.emit('SIGINT', 'SIGINT');
    assert.equal(seen?.aborted, true);
    target.emit('SIGTERM', 'SIGTERM');
    assert.deepEqual(exits, ['SIGTERM'], 'the second signal: at once');
    await assert.rejects(run, { name: 'AbortError' });
    assert.deepEqual(exits, ['SIGTERM', 'SIGINT'], 'then as the first signal would have');
    assert.equal(target.listenerCount('SIGINT') + target.listenerCount('SIGTERM'), 0);
    assert.equal(await abortOnSignals(async () => 7, target as unknown as NodeJS.Process, () => assert.fail('no signal')), 7);
  });

  it('closing a worker (SIGTERM) with a job in hand while Redis is down: the job is finished and recorded once Redis is back, then the worker stops', async () => {
    const queue = 'busy-outage';
    await submitImages(files.slice(0, 2), { redis: redis.url, queue, batch: 1 });
    const worker = await startQueueWorker({ redis: redis.url, queue, model: fakeModel({ delayMs: 1500 }), detect: false, concurrency: 1, log: () => undefined });
    const client = new Redis(redis.url);
    const q = new Queue(queue, { connection: client });
    for (let i = 0; i < 100 && (await q.getJobCounts('active'))['active'] !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    await q.close();
    client.disconnect();
    const down = redis.restart(2000);
    await new Promise((r) => setTimeout(r, 300));
    const hang = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('close() still waiting after 15 s')), 15_000).unref());
    try {
      await Promise.race([worker.close().then(() => worker.closed), hang]);
    } finally {
      await down;
    }
    assert.equal(worker.stats.jobs, 1, 'the job in hand was finished, no other taken');
    const s = await queueStatus({ redis: redis.url, queue });
    assert.deepEqual({ done: s.done, jobsDone: s.jobsDone }, { done: 1, jobsDone: 1 }, 'its results recorded');
  });

  it('the queue survives a Redis restart (appendonly)', async () => {
    await submitImages(files.slice(0, 3), { redis: redis.url, queue: 'persist', batch: 1 });
    await redis.restart();
    const s = await queueStatus({ redis: redis.url, queue: 'persist' });
    assert.deepEqual({ images: s.images, waiting: s.waiting }, { images: 3, waiting: 3 });
  });
});
