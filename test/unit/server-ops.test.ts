// Operations: /metrics in the Prometheus text format, /readyz, request ids; and the real CLI
// `serve` on a free port: SIGTERM during a request lets it complete and exits 0, and a served
// request writes nothing under $HOME or the temp folder (both pointed at fresh empty folders).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

const CHIP = new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url);

/** Prometheus text exposition: comments, or `name{labels} value`. Returns samples by name+labels. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not Prometheus text: ${JSON.stringify(line)}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return samples;
}

describe('ops endpoints', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await buildServer({ model: fakeModel(), detector: null });
  });
  after(async () => {
    await app.close();
  });

  it('/metrics parses as Prometheus text and counts requests by route and status, latency, queue, RSS', async () => {
    const chip = await readFile(CHIP);
    assert.equal((await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip })).statusCode, 200);
    assert.equal((await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: Buffer.from('no') })).statusCode, 415);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const m = parsePrometheus(res.body);
    assert.equal(m.get('agegender_http_requests_total{route="/v1/predict",method="POST",status="200"}'), 1);
    assert.equal(m.get('agegender_http_requests_total{route="/v1/predict",method="POST",status="415"}'), 1);
    assert.equal(m.get('agegender_http_request_duration_seconds_count{route="/v1/predict"}'), 2);
    assert.equal(m.get('agegender_http_request_duration_seconds_bucket{le="+Inf",route="/v1/predict"}'), 2);
    assert.equal(m.get('agegender_queue_waiting'), 0);
    assert.equal(m.get('agegender_queue_running'), 0);
    assert.ok((m.get('agegender_process_resident_memory_bytes') ?? 0) > 10 * 1024 * 1024);
  });

  it('/readyz answers 200 when the model is loaded; every answer carries a request id', async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.equal((res.json() as { status: string }).status, 'ready');
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const echoed = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'client-42' } });
    assert.equal(echoed.headers['x-request-id'], 'client-42');
    for (const unsafe of ['<script>alert(1)</script>', 'a'.repeat(129), 'two words', '']) {
      const replaced = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': unsafe } });
      assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/, `${unsafe.slice(0, 20)} is replaced by a UUID`);
    }
    const longest = 'A.b_c:d-9'.repeat(15).slice(0, 128);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': longest } })).headers['x-request-id'], longest);
  });
});

describe('request log', () => {
  it('one JSON line per request with method, URL, status and time; an error adds its code and message; no body bytes', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
        done();
      },
    });
    const app = await buildServer({ model: fakeModel(), detector: null, logger: { stream } });
    try {
      const chip = await readFile(CHIP);
      assert.equal((await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip })).statusCode, 200);
      assert.equal((await app.inject({ method: 'POST', url: '/v1/predict', payload: Buffer.from('%PDF-1.7 not an image') })).statusCode, 415);
      assert.equal((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode, 404);
      const records = lines.map((l) => JSON.parse(l) as { msg: string; reqId?: string; method?: string; url?: string; remoteAddress?: string; statusCode?: number; responseTime?: number; error?: { code: string; message: string } });
      const perRequest = records.filter((r) => r.reqId !== undefined);
      assert.deepEqual(perRequest.map((r) => [r.method, r.url, r.statusCode, r.remoteAddress]), [
        ['POST', '/v1/predict?detect=false', 200, '127.0.0.1'],
        ['POST', '/v1/predict', 415, '127.0.0.1'],
        ['GET', '/nowhere', 404, '127.0.0.1'],
      ], 'one line per request');
      assert.equal(perRequest[0]!.error, undefined);
      assert.ok(typeof perRequest[0]!.responseTime === 'number');
      assert.equal(perRequest[1]!.error?.code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.match(perRequest[1]!.error?.message ?? '', /not a supported image/);
      assert.equal(perRequest[2]!.error?.code, 'NOT_FOUND');
      const all = lines.join('\n');
      assert.ok(!all.includes('PDF-1.7') && !all.includes('JFIF'), 'no body bytes in the log');
    } finally {
      await app.close();
    }
  });
});

describe('closing with a keep-alive request in flight', () => {
  it('the request completes with Connection: close, so close() does not wait for the keep-alive timeout', async () => {
    const chip = await readFile(CHIP);
    const app = await buildServer({ model: fakeModel(), detector: null });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    let closed = false;
    const socket = connect(port, '127.0.0.1');
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
    });
    // A keep-alive request (no Connection header): headers and part of the body, then close(), then the rest.
    socket.write(`POST /v1/predict?detect=false HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${chip.length}\r\n\r\n`);
    socket.write(chip.subarray(0, 1000));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const closing = app.close().then(() => (closed = true));
    socket.write(chip.subarray(1000));
    const text = await Promise.race([answer, new Promise<string>((resolve) => setTimeout(() => resolve('connection still open after 5 s'), 5000))]);
    socket.destroy();
    assert.match(text, /^HTTP\/1\.1 200 /, text.slice(0, 300));
    assert.match(text, /\r\nconnection: close\r\n/i);
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 2000))]);
    assert.ok(closed, 'app.close() resolved once the request was answered');
  });
});

function listAll(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

describe('the real `agegender serve`', () => {
  it('SIGTERM during a request: the request completes, the process exits 0, nothing is written under $HOME or $TMPDIR', async () => {
    const home = mkdtempSync(join(tmpdir(), 'agegender-home-'));
    const tmp = mkdtempSync(join(tmpdir(), 'agegender-tmp-'));
    try {
      const chip = await readFile(CHIP);
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--no-detect', '--explain-samples', '0'], {
        // TSX_DISABLE_CACHE: tsx (the test's TypeScript loader, not part of the installed CLI) caches compiled files in the temp folder.
        env: { ...process.env, HOME: home, TMPDIR: tmp, XDG_CACHE_HOME: join(home, '.cache'), TSX_DISABLE_CACHE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const url = await new Promise<URL>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /serving (http:\/\/\S+)/.exec(out);
          if (m) resolve(new URL(m[1]!));
        });
        void exited.then((code) => reject(new Error(`serve exited ${code} before listening: ${stderr}`)));
      });
      // A request in flight: headers and half the body sent, then SIGTERM, then the rest.
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(Number(url.port), url.hostname);
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', () => undefined);
        socket.write(`POST /v1/predict?detect=false HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${chip.length}\r\nConnection: close\r\n\r\n`);
        socket.write(chip.subarray(0, 1000));
        setTimeout(() => {
          child.kill('SIGTERM');
          setTimeout(() => socket.write(chip.subarray(1000)), 300);
        }, 200);
      });
      assert.match(answer, /^HTTP\/1\.1 200 /, answer.slice(0, 300));
      assert.match(answer, /"faces":\[\{/);
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000))]);
      assert.equal(code, 0, stderr);
      assert.deepEqual(listAll(home), [], 'nothing under $HOME');
      assert.deepEqual(listAll(tmp), [], 'nothing under $TMPDIR');
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
