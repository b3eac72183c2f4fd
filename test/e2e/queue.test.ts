// `agegender queue` end to end, as separate processes against a real redis-server (persistence on):
// 600 UTKFace chips through 2 workers, one killed with SIGKILL mid-run, give exactly the rows of
// `agegender predict --no-detect --csv`; a Redis restart mid-run loses and duplicates nothing;
// bad inputs (a file gone before its turn, a non-image, a URL that 404s, an unreachable Redis)
// give clear errors while the other images are processed.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCsv } from '../../src/core/csv.js';
import { PREDICT_CSV_COLUMNS } from '../../src/pipeline/predict-csv.js';
import { sampleChips } from '../helpers/data.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.js';

interface Run {
  child: ChildProcess;
  stderr: () => string;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function agegender(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, CI: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { child, stderr: () => stderr, done };
}

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const COL: readonly string[] = PREDICT_CSV_COLUMNS;
const ERROR = COL.indexOf('error');
const jobsDone = (log: string): number => (log.match(/^job \w+: \d+ images/gm) ?? []).length;
// --no-tta on both sides (half the compute: the test runs on busy CI machines); the same options give the same rows
const WORKER = ['--no-detect', '--no-tta', '--concurrency', '1', '--lock-duration', '2', '--until-empty'];

describe('agegender queue (processes, real redis-server)', () => {
  let redis: RedisServer;
  let root: string;
  let chips: string;
  let reference: string[][];
  before(async () => {
    redis = await startRedis();
    root = await mkdtemp(join(tmpdir(), 'agegender-queue-e2e-'));
    chips = join(root, 'chips');
    await mkdir(chips);
    for (const chip of sampleChips(600)) await copyFile(chip, join(chips, basename(chip)));
  });
  after(async () => {
    await redis.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('600 chips, 2 workers, one killed with SIGKILL mid-run: every image once, rows equal predict --no-detect --no-tta --csv', async () => {
    const ref = agegender(['predict', '--no-detect', '--no-tta', '--csv', chips]);
    const submit = await agegender(['queue', 'submit', chips, '--redis', redis.url, '--queue', 'kill', '--batch', '16']).done;
    assert.equal(submit.status, 0, submit.stderr);
    assert.match(submit.stdout, /queued 600 images in 38 jobs of up to 16 on queue "kill"/);
    const resubmit = await agegender(['queue', 'submit', chips, '--redis', redis.url, '--queue', 'kill', '--batch', '16']).done;
    assert.match(resubmit.stdout, /queued 0 images in 0 jobs .*\(600 already queued, left out\)/);
    const victim = agegender(['queue', 'worker', '--redis', redis.url, '--queue', 'kill', ...WORKER]);
    const survivor = agegender(['queue', 'worker', '--redis', redis.url, '--queue', 'kill', ...WORKER]);
    await until('the first worker to finish a job', () => jobsDone(victim.stderr()) >= 1, 120_000);
    victim.child.kill('SIGKILL'); // it has taken its next job by now
    assert.equal((await victim.done).signal, 'SIGKILL');
    const last = await survivor.done;
    assert.equal(last.status, 0, last.stderr);
    assert.match(last.stderr, /its worker stopped answering; put back in the queue/, 'the killed worker\'s job was recovered');
    const status = await agegender(['queue', 'status', '--redis', redis.url, '--queue', 'kill']).done;
    assert.match(status.stdout, /^600\/600 images \(0 failed\) \| jobs: 0 waiting, 0 active, 0 retrying, 38 completed, 0 failed \| [\d.]+ images\/s \| done/);
    const out = join(root, 'kill.csv');
    const results = await agegender(['queue', 'results', '--redis', redis.url, '--queue', 'kill', '--out', out]).done;
    assert.equal(results.status, 0, results.stderr);
    const predicted = await ref.done;
    assert.equal(predicted.status, 0, predicted.stderr);
    const rows = parseCsv(await readFile(out, 'utf8'));
    assert.equal(new Set(rows.slice(1).map((r) => r[0])).size, 600, 'every image exactly once');
    assert.equal(rows.length, 601);
    reference = parseCsv(predicted.stdout);
    assert.deepEqual(rows, reference, 'the same rows, in the same order, as predict --no-detect --csv');
  });

  it('a Redis restart mid-run (appendonly): the run completes, nothing lost or duplicated', async () => {
    const some = join(root, 'some');
    await mkdir(some);
    const names = reference.slice(1, 161).map((r) => basename(r[0]!));
    for (const n of names) await copyFile(join(chips, n), join(some, n));
    const submit = await agegender(['queue', 'submit', some, '--redis', redis.url, '--queue', 'restart', '--batch', '8']).done;
    assert.equal(submit.status, 0, submit.stderr);
    const worker = agegender(['queue', 'worker', '--redis', redis.url, '--queue', 'restart', ...WORKER]);
    await until('two finished jobs', () => jobsDone(worker.stderr()) >= 2, 120_000);
    await redis.restart();
    const w = await worker.done;
    assert.equal(w.status, 0, w.stderr);
    assert.match(w.stderr, /redis: .*\(reconnecting\)[^]*redis: connected again/, 'the worker saw Redis go away and come back');
    const out = join(root, 'restart.ndjson');
    const results = await agegender(['queue', 'results', '--redis', redis.url, '--queue', 'restart', '--out', out]).done;
    assert.equal(results.status, 0, results.stderr);
    assert.match(results.stdout, /^160 images written to .*restart\.ndjson \(ndjson\): 0 failed/);
    const got = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { file: string; faces: Array<{ age: number; femaleProbability: number }> });
    assert.deepEqual(got.map((g) => basename(g.file)), names, 'each image once, in input order');
    const byName = new Map(reference.slice(1).map((r) => [basename(r[0]!), r]));
    for (const g of got) {
      const ref = byName.get(basename(g.file))!;
      assert.deepEqual([String(g.faces[0]!.age), String(g.faces[0]!.femaleProbability)], [ref[COL.indexOf('age')], ref[COL.indexOf('female_probability')]], basename(g.file));
    }
  });

  it('bad inputs: a file gone before its turn, a non-image, a 404 URL, an unreachable Redis — clear errors, the rest processed', async () => {
    const bad = join(root, 'bad');
    await mkdir(bad);
    const good = reference.slice(1, 4).map((r) => r[0]!);
    for (const f of good) await copyFile(f, join(bad, basename(f)));
    await writeFile(join(bad, 'gone.jpg'), await readFile(good[0]!));
    await writeFile(join(bad, 'text.jpg'), 'not an image\n');
    const bytes = await readFile(good[1]!);
    const server: Server = createServer((req, res) => (req.url === '/ok.jpg' ? res.end(bytes) : res.writeHead(404).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const urls = [`http://127.0.0.1:${port}/ok.jpg`, `http://127.0.0.1:${port}/missing.jpg`];
      const submit = await agegender(['queue', 'submit', bad, ...urls, join(root, 'nowhere'), '--redis', redis.url, '--queue', 'bad']).done;
      assert.equal(submit.status, 1, 'a missing argument makes the exit code 1');
      assert.match(submit.stderr, /nowhere: no such file or folder \(not queued\)/);
      assert.match(submit.stdout, /queued 7 images in 1 job of up to/);
      await rm(join(bad, 'gone.jpg'));
      const w = await agegender(['queue', 'worker', '--redis', redis.url, '--queue', 'bad', ...WORKER]).done;
      assert.equal(w.status, 0, w.stderr);
      const out = join(root, 'bad.csv');
      await agegender(['queue', 'results', '--redis', redis.url, '--queue', 'bad', '--out', out]).done;
      const rows = new Map(parseCsv(await readFile(out, 'utf8')).slice(1).map((r) => [basename(r[0]!), r]));
      assert.equal(rows.size, 7);
      assert.match(rows.get('gone.jpg')![ERROR]!, /^UNREADABLE_FILE: no such file or folder$/);
      assert.match(rows.get('text.jpg')![ERROR]!, /^INVALID_IMAGE: /);
      assert.match(rows.get('missing.jpg')![ERROR]!, /^UNREADABLE_FILE: cannot download: HTTP 404 Not Found/);
      assert.deepEqual(rows.get('ok.jpg')!.slice(1), reference.find((r) => r[0] === good[1])!.slice(1), 'a URL is predicted like the file');
      for (const f of good) assert.deepEqual(rows.get(basename(f))!.slice(1), reference.find((r) => r[0] === f)!.slice(1));
    } finally {
      server.close();
    }
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const unreachable = await agegender(['queue', 'submit', bad, '--redis', nowhere]).done;
    assert.equal(unreachable.status, 3, 'could not run');
    assert.match(unreachable.stderr, /error \[QUEUE_UNAVAILABLE\]: redis:\/\/127\.0\.0\.1:\d+\/?: cannot reach Redis: connect ECONNREFUSED/);
    assert.ok(Date.now() - started < 30_000, 'fails fast, no hang');
  });
});
