// The batch queue's cost (`npm run bench:queue`): the same N UTKFace chips (default 3,000, every k-th
// of the sorted folder) through
//   - `agegender predict --no-detect --workers 2` (2 worker threads, 1 onnxruntime thread each), and
//   - `agegender queue submit` + 2 × `agegender queue worker --no-detect --threads 1` (2 processes)
//     on a local redis-server (appendonly, fsync every second), at batch sizes 64, 16 and 1.
// CPU seconds (user + system, GNU time) of every process, Redis's own CPU included for the queue;
// wall time from the first start to the last exit. Overhead = queue / predict − 1, and per job.
// Redis memory: INFO used_memory (less the script cache) before submit, after submit (queued) and after the run (results),
// per 1,000 images, extrapolated to 10 million, after a warm-up run (BullMQ's scripts and Redis's
// one-time allocations, ≈ 0.5 MB, are not per image). Runs the built CLI (dist/, `npm run build`;
// no TypeScript compiling in the measured processes) and no library internals.
//   BENCH_QUEUE_N (3000), BENCH_QUEUE_BATCHES (64,16,1), AGEGENDER_UTKFACE_DIR.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedis } from '../test/helpers/redis.js';
import { benchOptions, countEnv, countOption, existingPath } from './args.js';

const usage = `Usage: npm run bench:queue   (no options; -h, --help: this text; runs the built CLI: npm run build first)

Environment: BENCH_QUEUE_N (chips, default 3000), BENCH_QUEUE_BATCHES (batch sizes, default 64,16,1),
AGEGENDER_UTKFACE_DIR (dataset, default ../shared/datasets/utkface).`;
const { N, BATCHES, utk } = benchOptions('bench:queue', usage, process.argv.slice(2), () => {
  parseArgs({ options: {} });
  const batches = (process.env['BENCH_QUEUE_BATCHES'] ?? '64,16,1').split(',').map((b) => countOption(b, 'BENCH_QUEUE_BATCHES')!);
  const dataset = resolve(process.env['AGEGENDER_UTKFACE_DIR'] ?? resolve(process.cwd(), '../shared/datasets/utkface'), 'UTKFace');
  return { N: countEnv('BENCH_QUEUE_N', 3000), BATCHES: batches, utk: existingPath(dataset, 'UTKFace chips (AGEGENDER_UTKFACE_DIR)') };
});
const TIME = '/usr/bin/time';
if (!existsSync(TIME)) throw new Error('bench:queue measures CPU with GNU time (/usr/bin/time; Debian package "time")');
const CLI = resolve('dist/cli/main.js');
if (!existsSync(CLI)) throw new Error('bench:queue runs the built CLI: npm run build first');

interface Cost {
  cpu: number;
  wall: number;
}

/** Runs the CLI under GNU time; resolves with its CPU and wall seconds (fails on a non-zero exit). */
async function timed(args: string[], tag: string, dir: string): Promise<Cost & { stdout: string }> {
  const file = join(dir, `${tag}.time`);
  const child = spawn(TIME, ['-f', '%U %S %e', '-o', file, process.execPath, CLI, ...args], { env: { ...process.env, CI: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const status = await new Promise<number | null>((r) => child.on('close', r));
  // exit code 1 = some images failed (e.g. a chip the quality gate refuses): still a complete run
  if (status !== 0 && !(status === 1 && args[0] === 'predict')) throw new Error(`${args.slice(0, 2).join(' ')} exited with ${status}: ${stderr.slice(-2000)}`);
  const [user, sys, wall] = (await readFile(file, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
  return { cpu: user! + sys!, wall: wall!, stdout };
}

async function info(redis: Redis): Promise<{ memory: number; cpu: number }> {
  const text = await redis.info();
  const field = (k: string): number => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(text)?.[1] ?? NaN);
  // the script cache (BullMQ's Lua scripts, loaded once per server) is not per image
  return { memory: field('used_memory') - field('used_memory_scripts'), cpu: field('used_cpu_user') + field('used_cpu_sys') };
}

const load = (): string => `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

const root = await mkdtemp(join(tmpdir(), 'agegender-bench-queue-'));
const redisServer = await startRedis('everysec');
const redis = new Redis(redisServer.url);
try {
  const all = readdirSync(utk).filter((f) => f.endsWith('.jpg')).sort();
  const step = Math.max(1, Math.floor(all.length / N));
  const chips = join(root, 'chips');
  await mkdir(chips);
  for (const f of all.filter((_f, i) => i % step === 0).slice(0, N)) await copyFile(join(utk, f), join(chips, f));
  console.log(`${N} chips; redis-server ${redisServer.url} (appendonly, fsync every second); ${load()}`);
  // warm-up: 32 other chips through the queue once (loads BullMQ's scripts into Redis, fills the page cache)
  const warmDir = join(root, 'warm-up');
  await mkdir(warmDir);
  for (const f of all.filter((_f, i) => i % step === 1).slice(0, 32)) await copyFile(join(utk, f), join(warmDir, f));
  const warm = ['--redis', redisServer.url, '--queue', 'warm-up'];
  await timed(['queue', 'submit', warmDir, ...warm, '--batch', '16'], 'warm-submit', root);
  await timed(['queue', 'worker', ...warm, '--no-detect', '--until-empty'], 'warm-worker', root);

  const predict = await timed(['predict', '--no-detect', '--workers', '2', '--csv', chips], 'predict', root);
  console.log(`predict --no-detect --workers 2: ${predict.cpu.toFixed(1)} s CPU, ${predict.wall.toFixed(1)} s wall (${(N / predict.wall).toFixed(1)} images/s); ${load()}`);

  for (const batch of BATCHES) {
    const queue = `bench-${batch}`;
    const q = ['--redis', redisServer.url, '--queue', queue];
    const before = await info(redis);
    const started = performance.now();
    const submit = await timed(['queue', 'submit', chips, ...q, '--batch', String(batch)], `submit-${batch}`, root);
    const queued = await info(redis);
    const worker = ['queue', 'worker', ...q, '--no-detect', '--threads', '1', '--until-empty'];
    const workers = await Promise.all([timed(worker, `w1-${batch}`, root), timed(worker, `w2-${batch}`, root)]);
    const wall = (performance.now() - started) / 1000;
    const done = await info(redis);
    const jobs = Math.ceil(N / batch);
    const cpu = submit.cpu + workers[0].cpu + workers[1].cpu + (done.cpu - before.cpu);
    const extra = cpu - predict.cpu;
    console.log(
      `queue, batch ${batch} (${jobs} jobs): ${cpu.toFixed(1)} s CPU (submit ${submit.cpu.toFixed(1)}, workers ${workers[0].cpu.toFixed(1)} + ${workers[1].cpu.toFixed(1)}, redis ${(done.cpu - before.cpu).toFixed(1)}), ` +
        `${wall.toFixed(1)} s wall (${(N / wall).toFixed(1)} images/s) → overhead CPU ${((cpu / predict.cpu - 1) * 100).toFixed(1)}%, wall ${((wall / predict.wall - 1) * 100).toFixed(1)}%, ` +
        `${((extra / jobs) * 1000).toFixed(1)} ms CPU per job${batch === 64 ? ` (target ≤ 10%: ${cpu / predict.cpu - 1 <= 0.1 ? 'PASS' : 'FAIL'})` : ''}; ${load()}`,
    );
    const perQueued = ((queued.memory - before.memory) / N) * 1000;
    const perResult = ((done.memory - before.memory) / N) * 1000;
    console.log(
      `  redis memory, batch ${batch}: ${kib(perQueued)} per 1,000 queued images, ${kib(perResult)} per 1,000 results → 10 M images: ` +
        `${((perQueued * 1e4) / 2 ** 20).toFixed(0)} MiB queued at once, ${((perResult * 1e4) / 2 ** 20).toFixed(0)} MiB of results`,
    );
    if (batch === BATCHES[0]) {
      const out = join(root, 'results.csv');
      await timed(['queue', 'results', ...q, '--out', out], 'results', root);
      const rows = (await readFile(out, 'utf8')).trim().split('\n').length - 1;
      const reference = predict.stdout.trim().split('\n').length - 1;
      console.log(`  results: ${rows} rows (predict: ${reference})${rows === N && reference === N ? '' : '  MISMATCH'}`);
    }
  }
} finally {
  redis.disconnect();
  await redisServer.stop();
  await rm(root, { recursive: true, force: true });
}
