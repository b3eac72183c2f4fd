// HTTP service benchmark, loopback only and bounded in time (`npm run bench:serve`):
//  1. latency: 8 concurrent clients for 30 s posting an aligned chip (?detect=false), then 30 s
//     posting a group photo (many-faces.jpg, detection on): p50 / p99, throughput, 5xx (target 0);
//  2. overload: a burst past the queue limit must get 503 + Retry-After, never a crash;
//  3. memory: RSS of the server process sampled over 2,000 mixed requests (chips, every 50th a
//     photo, 50 oversize 12,000×3,333 PNGs): flat if the last sample is within ±5% of the first.
// The server runs in a child process (this file with --child) so its RSS and liveness are its own.
// Model: AGEGENDER_MODEL, else the shipped one, else the same network with an untrained head.
// Knobs: BENCH_SERVE_SECONDS (30), BENCH_SERVE_CLIENTS (8), BENCH_SERVE_RSS_REQUESTS (2000),
// BENCH_SERVE_DEADLINE_S (600: everything stops by then).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AgeGenderModel } from 'agegender/model';
import { gradientPng } from '../test/helpers/png.js';
import { benchOptions, countEnv } from './args.js';

const HOST = '127.0.0.1';

async function benchModel(): Promise<{ model: AgeGenderModel; what: string }> {
  const mod = await import('agegender/model');
  const dir = resolve(process.env['AGEGENDER_MODEL'] ?? mod.defaultModelDir());
  if (existsSync(join(dir, 'model.json'))) return { model: await mod.loadModel(dir), what: dir };
  await mod.initBackend();
  const { AgeGenderNet } = await import('agegender/model');
  const { loadFaceApiWeights } = await import('agegender/model');
  const net = new AgeGenderNet(await loadFaceApiWeights());
  const metadata = { formatVersion: 1, name: 'untrained', encoder: 'faceapi-facerec-resnet34', inputSize: 200, createdAt: new Date().toISOString(), command: 'bench', datasetManifestHash: null, metrics: {} };
  return { model: await mod.wrapNet(net, metadata), what: `no model at ${dir}: same network, untrained head (same compute)` };
}

async function child(): Promise<void> {
  const { startServer } = await import('agegender/server');
  const { model, what } = await benchModel();
  const running = await startServer({ model, port: 0, host: HOST, explainSamples: 0 });
  process.stdout.write(`READY ${running.url} ${what}\n`);
  process.on('SIGTERM', () => {
    void running.close().then(() => process.exit(0));
  });
}

interface Shot {
  status: number;
  ms: number;
  retryAfter: string | null;
}

async function post(base: string, path: string, body: Uint8Array<ArrayBuffer>): Promise<Shot> {
  const t0 = performance.now();
  try {
    const res = await fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t0, retryAfter: res.headers.get('retry-after') };
  } catch {
    return { status: 0, ms: performance.now() - t0, retryAfter: null }; // connection failure
  }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function rss(base: string): Promise<number> {
  const res = await fetch(`${base}healthz`);
  return ((await res.json()) as { rssBytes: number }).rssBytes;
}

async function latency(base: string, clients: number, until: number, label: string, path: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
  const shots: Shot[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < until) shots.push(await post(base, path, body));
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const ok = shots.filter((s) => s.status === 200).map((s) => s.ms).sort((a, b) => a - b);
  const fivexx = shots.filter((s) => s.status >= 500 || s.status === 0).length;
  const other = shots.length - ok.length - fivexx;
  console.log(`latency: ${label}: ${shots.length} requests, ${(shots.length / elapsed).toFixed(2)} req/s`);
  console.log(`  p50 ${pct(ok, 50).toFixed(0)} ms, p99 ${pct(ok, 99).toFixed(0)} ms, max ${pct(ok, 100).toFixed(0)} ms; other 4xx: ${other}; 5xx/failed: ${fivexx} (target 0: ${fivexx === 0 ? 'PASS' : 'FAIL'})`);
}

async function parent(): Promise<void> {
  const usage = `Usage: npm run bench:serve   (no options; -h, --help: this text)

Environment: BENCH_SERVE_SECONDS (per latency run, default 30), BENCH_SERVE_CLIENTS (default 8),
BENCH_SERVE_RSS_REQUESTS (default 2000), BENCH_SERVE_DEADLINE_S (default 600), AGEGENDER_MODEL.`;
  const { seconds, clients, rssRequests, deadlineS } = benchOptions('bench:serve', usage, process.argv.slice(2), () => {
    parseArgs({ options: {} });
    return {
      seconds: countEnv('BENCH_SERVE_SECONDS', 30),
      clients: countEnv('BENCH_SERVE_CLIENTS', 8),
      rssRequests: countEnv('BENCH_SERVE_RSS_REQUESTS', 2000),
      deadlineS: countEnv('BENCH_SERVE_DEADLINE_S', 600),
    };
  });
  const deadline = Date.now() + deadlineS * 1000;
  const photo = new Uint8Array(await readFile('test/fixtures/photos/three-faces.jpg'));
  const chip = new Uint8Array(await readFile('test/fixtures/photos/chip-35-male.jpg'));
  const group = new Uint8Array(await readFile('test/fixtures/photos/many-faces.jpg'));
  const oversize = new Uint8Array(gradientPng(12_000, 3_333)); // 40 MP in ~0.1 MB: 200 (or 413/422), never a blow-up

  const proc: ChildProcess = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let exited: number | null = null;
  proc.on('exit', (code) => (exited = code ?? -1));
  const base = await new Promise<string>((resolveUrl, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /READY (\S+) (.*)\n/.exec(buf);
      if (m) {
        console.log(`server: ${m[1]} (model: ${m[2]})`);
        resolveUrl(m[1]!);
      }
    });
    proc.on('exit', () => reject(new Error('server exited before it was ready')));
  });
  if (!base.startsWith(`http://${HOST}:`)) throw new Error(`refusing to load a non-loopback server: ${base}`);
  try {
    // Warm-up (wasm kernels, detector).
    await post(base, 'v1/predict', photo);
    await post(base, 'v1/predict?detect=false', chip);

    // 1. Latency at `clients` concurrent clients: aligned chips, then a group photo with detection.
    await latency(base, clients, Math.min(Date.now() + seconds * 1000, deadline), `${clients} clients × ${seconds} s, chip (?detect=false)`, 'v1/predict?detect=false', chip);
    await latency(base, clients, Math.min(Date.now() + seconds * 1000, deadline), `${clients} clients × ${seconds} s, group photo many-faces.jpg (detection on)`, 'v1/predict', group);

    // 2. Overload: a burst of 40 at once against a queue of 8.
    const health = (await (await fetch(`${base}healthz`)).json()) as { queue: { maxQueued: number; concurrency: number } };
    const burst = Math.max(40, 3 * (health.queue.maxQueued + health.queue.concurrency));
    const results = await Promise.all(Array.from({ length: burst }, () => post(base, 'v1/predict?detect=false', chip)));
    const count = (code: number): number => results.filter((r) => r.status === code).length;
    const busy = results.filter((r) => r.status === 503);
    const other = results.filter((r) => r.status !== 200 && r.status !== 503).length;
    const alive = exited === null && (await fetch(`${base}healthz`).then((r) => r.status === 200, () => false));
    console.log(`overload: burst of ${burst} (queue ${health.queue.maxQueued}, concurrency ${health.queue.concurrency}): ${count(200)} × 200, ${busy.length} × 503 (Retry-After: ${[...new Set(busy.map((b) => b.retryAfter))].join(', ')}), ${other} other; server alive after: ${alive} (${busy.length > 0 && other === 0 && alive ? 'PASS' : 'FAIL'})`);

    // 3. RSS over `rssRequests` requests (every 50th a photo with detection, the rest chips), 4 clients.
    const samples: Array<[number, number]> = [[0, await rss(base)]];
    let done = 0;
    let failed = 0;
    let fivexx = 0;
    const oversizeStatus = new Map<number, number>();
    const every = Math.max(1, Math.floor(rssRequests / 20));
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (done < rssRequests && Date.now() < deadline) {
          const i = done++;
          const big = i % 40 === 20; // 50 oversize PNGs in 2,000
          const s = big ? await post(base, 'v1/predict?detect=false', oversize) : await post(base, i % 50 === 0 ? 'v1/predict' : 'v1/predict?detect=false', i % 50 === 0 ? photo : chip);
          if (big) oversizeStatus.set(s.status, (oversizeStatus.get(s.status) ?? 0) + 1);
          else if (s.status !== 200) failed++;
          if (s.status >= 500 || s.status === 0) fivexx++;
          if ((i + 1) % every === 0) samples.push([i + 1, await rss(base)]);
        }
      }),
    );
    const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);
    const first = samples[1] ?? samples[0]!;
    const last = samples[samples.length - 1]!;
    console.log(`memory: ${done} requests (${failed} not 200)${done < rssRequests ? ' — stopped at the deadline' : ''}; RSS before ${mb(samples[0]![1])} MB, after ${first[0]} requests ${mb(first[1])} MB, after ${last[0]} requests ${mb(last[1])} MB (max ${mb(Math.max(...samples.map((s) => s[1])))} MB)`);
    console.log(`  oversize 12,000×3,333 PNGs: ${[...oversizeStatus].map(([k, v]) => `${v} × ${k}`).join(', ')}; 5xx/failed over the run: ${fivexx}`);
    console.log(`  RSS samples (MB): ${samples.map((s) => mb(s[1])).join(' ')}`);
    const growth = (last[1] - first[1]) / first[1];
    console.log(`  change first→last sample: ${(growth * 100).toFixed(1)}% (flat if within ±5%: ${Math.abs(growth) <= 0.05 ? 'PASS' : 'FAIL'})`);
  } finally {
    proc.kill('SIGTERM');
  }
}

if (process.argv.includes('--child')) await child();
else await parent();
