// The error contract: every error the service answers — from routes, from Fastify itself (bad URL,
// unknown route) and from the connection (408, 431, an unparsable request) — has the one shape
// `{ error: { code, message } }`, checked against ONE schema (schemas.ts ErrorResponse, strict).
import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { ErrorResponse } from '../../src/server/schemas.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';
import { flatPng } from '../helpers/png.js';

const CHIP = new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends raw bytes on a fresh connection and reads the answer until the server closes or `ms` pass. */
function raw(port: number, request: string | Buffer, ms = 3000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      if (!m) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const headers: Record<string, string> = {};
      for (const line of m[2]!.split('\r\n')) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(m[1]), headers, body: m[3]! });
    });
    socket.write(request);
  });
}

/** The one check every error answer passes. */
function assertErrorShape(a: { status: number; body: string; headers: Record<string, unknown> }, status: number, code: string): void {
  assert.equal(a.status, status, a.body);
  assert.match(String(a.headers['content-type']), /^application\/json/);
  const parsed = ErrorResponse.safeParse(JSON.parse(a.body));
  assert.ok(parsed.success, `not the error shape: ${a.body}`);
  assert.equal(parsed.data.error.code, code);
  assert.ok(parsed.data.error.message.length > 0);
  assert.doesNotMatch(parsed.data.error.message, /at .*\.(ts|js):\d+/, 'no stack in messages');
}

function multipart(boundaryInHeader: string | null, body: Buffer): { payload: Buffer; headers: Record<string, string> } {
  return { payload: body, headers: { 'content-type': boundaryInHeader === null ? 'multipart/form-data' : `multipart/form-data; boundary=${boundaryInHeader}` } };
}

describe('one error shape for every error', () => {
  let app: FastifyInstance;
  let port: number;
  let chip: Buffer;
  let form: Buffer;

  before(async () => {
    chip = await readFile(CHIP);
    form = Buffer.concat([
      Buffer.from('--B0UNDARY\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'),
      chip,
      Buffer.from('\r\n--B0UNDARY--\r\n'),
    ]);
    app = await buildServer({ model: fakeModel(), detector: null, limits: { requestTimeoutMs: 400, maxUploadBytes: 1024 * 1024, maxPixels: 1_000_000 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  after(async () => {
    await app.close();
  });

  it('a well-formed multipart body is accepted (the control case)', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', ...multipart('B0UNDARY', form) });
    assert.equal(res.statusCode, 200, res.body);
  });

  it('malformed multipart answers 400 MALFORMED_MULTIPART: no boundary, wrong boundary, cut short', async () => {
    for (const [what, m] of [
      ['no boundary', multipart(null, form)],
      ['wrong boundary', multipart('OTHER', form)],
      ['truncated body', multipart('B0UNDARY', form.subarray(0, 300))],
      ['truncated part headers', multipart('B0UNDARY', form.subarray(0, 30))],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/v1/predict', ...m });
      assert.equal(res.statusCode, 400, `${what}: ${res.body}`);
      assertErrorShape({ status: res.statusCode, body: res.body, headers: res.headers }, 400, 'MALFORMED_MULTIPART');
    }
  });

  it('multipart: any field name holds the file; a second file is refused with 400; 413s name the limit', async () => {
    const part = (name: string, body: Buffer): Buffer =>
      Buffer.concat([Buffer.from(`--B0UNDARY\r\nContent-Disposition: form-data; name="${name}"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), body, Buffer.from('\r\n')]);
    const field = (name: string): Buffer => Buffer.from(`--B0UNDARY\r\nContent-Disposition: form-data; name="${name}"\r\n\r\nvalue\r\n`);
    const end = Buffer.from('--B0UNDARY--\r\n');
    const post = (body: Buffer) => app.inject({ method: 'POST', url: '/v1/predict?detect=false', ...multipart('B0UNDARY', body) });

    const image = await post(Buffer.concat([field('note'), part('image', chip), end]));
    assert.equal(image.statusCode, 200, image.body);
    const two = await post(Buffer.concat([part('file', chip), part('file', chip), end]));
    assertErrorShape({ status: two.statusCode, body: two.body, headers: two.headers }, 400, 'INVALID_ARGUMENT');
    assert.match(two.body, /more than one file: send one image per request/);
    const big = await post(Buffer.concat([part('file', Buffer.alloc(1024 * 1024 + 1, 0xff)), end]));
    assertErrorShape({ status: big.statusCode, body: big.body, headers: big.headers }, 413, 'PAYLOAD_TOO_LARGE');
    assert.match(big.body, /over the limit of 1048576 bytes \(1 MB; serve --max-upload-mb\)/);
    const fields = await post(Buffer.concat([...Array.from({ length: 9 }, (_v, i) => field(`f${i}`)), part('file', chip), end]));
    assertErrorShape({ status: fields.statusCode, body: fields.body, headers: fields.headers }, 413, 'PAYLOAD_TOO_LARGE');
    assert.match(fields.body, /more than 8 fields/);
  });

  it('route errors: 400, 404, 413 (bytes, pixels, aspect), 415, 422, 501', async () => {
    const cases: Array<[string, string, Buffer | undefined, number, string]> = [
      ['POST', '/v1/predict?detect=maybe', chip, 400, 'INVALID_ARGUMENT'],
      ['POST', '/v1/predict', undefined, 400, 'EMPTY_BODY'],
      ['GET', '/v2/nothing', undefined, 404, 'NOT_FOUND'],
      ['POST', '/v1/predict?detect=false', Buffer.alloc(2 * 1024 * 1024, 0xff), 413, 'PAYLOAD_TOO_LARGE'],
      ['POST', '/v1/predict?detect=false', flatPng(2000, 2000), 413, 'IMAGE_TOO_LARGE'],
      ['POST', '/v1/predict?detect=false', flatPng(4000, 4), 413, 'ASPECT_RATIO_TOO_LARGE'],
      ['POST', '/v1/predict', Buffer.from('hello, not an image'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['POST', '/v1/predict?detect=false', chip.subarray(0, 400), 422, 'INVALID_IMAGE'],
      ['POST', '/v1/explain?detect=false', chip, 501, 'EXPLAIN_UNAVAILABLE'],
    ];
    for (const [method, url, payload, status, code] of cases) {
      const res = await app.inject({ method: method as 'GET' | 'POST', url, ...(payload ? { payload } : {}) });
      assertErrorShape({ status: res.statusCode, body: res.body, headers: res.headers }, status, code);
      if (code === 'PAYLOAD_TOO_LARGE') assert.match(res.body, /over the limit of 1048576 bytes \(1 MB; serve --max-upload-mb\)/);
    }
  });

  it('a known path with another method: 405 METHOD_NOT_ALLOWED with an Allow header; /v1/preview refuses unknown query parameters', async () => {
    const cases: Array<['GET' | 'PUT' | 'DELETE' | 'POST' | 'OPTIONS', string, string]> = [
      ['GET', '/v1/predict', 'POST'],
      ['PUT', '/v1/explain', 'POST'],
      ['OPTIONS', '/v1/predict', 'POST'],
      ['DELETE', '/healthz', 'GET, HEAD'],
      ['POST', '/openapi.json', 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const res = await app.inject({ method, url });
      assertErrorShape({ status: res.statusCode, body: res.body, headers: res.headers }, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(res.headers.allow, allow, `${method} ${url}`);
    }
    const head = await app.inject({ method: 'HEAD', url: '/v1/predict' });
    assert.equal(head.statusCode, 405);
    assert.equal(head.headers.allow, 'POST');
    const preview = await app.inject({ method: 'POST', url: '/v1/preview?size=100', payload: chip });
    assertErrorShape({ status: preview.statusCode, body: preview.body, headers: preview.headers }, 400, 'INVALID_ARGUMENT');
    assert.match(preview.body, /unknown query parameter \\"size\\"; this route takes no query parameters/);
  });

  it('415 names what is wrong: a Content-Type that is not a media type, a Content-Encoding', async () => {
    const badType = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip, headers: { 'content-type': 'jpeg' } });
    assertErrorShape({ status: badType.statusCode, body: badType.body, headers: badType.headers }, 415, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(badType.body, /Content-Type header \\"jpeg\\" is not a media type/);
    const gzip = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip, headers: { 'content-encoding': 'gzip' } });
    assertErrorShape({ status: gzip.statusCode, body: gzip.body, headers: gzip.headers }, 415, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(gzip.body, /Content-Encoding \\"gzip\\" is not supported/);
    const anyType = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip, headers: { 'content-type': 'text/plain' } });
    assert.equal(anyType.statusCode, 200, 'a well-formed Content-Type of any type is ignored');
  });

  it('query parameters: messages name the parameter and what it accepts, stay short; bad percent-encoding is INVALID_URL', async () => {
    const message = async (query: string, status = 400, code = 'INVALID_ARGUMENT'): Promise<string> => {
      const res = await app.inject({ method: 'POST', url: `/v1/predict?${query}`, payload: chip });
      assertErrorShape({ status: res.statusCode, body: res.body, headers: res.headers }, status, code);
      const text = (res.json() as { error: { message: string } }).error.message;
      assert.ok(text.length < 300, `message of ${text.length} chars: ${text.slice(0, 100)}`);
      return text;
    };
    const range = 'expected a decimal number from 0.5 to 1';
    assert.equal(await message('genderThreshold='), `query parameter genderThreshold: ${range}, got an empty value`);
    assert.equal(await message('genderThreshold=abc'), `query parameter genderThreshold: ${range}, got "abc"`);
    assert.equal(await message('genderThreshold=0x1'), `query parameter genderThreshold: ${range}, got "0x1"`);
    assert.equal(await message('genderThreshold=1e0'), `query parameter genderThreshold: ${range}, got "1e0"`);
    assert.equal(await message('genderThreshold=0.3'), `query parameter genderThreshold: ${range}, got "0.3"`);
    assert.match(await message('genderThreshold=0.6&genderThreshold=0.7'), /^query parameter genderThreshold is given 2 times: give it once, as a decimal number from 0.5 to 1$/);
    assert.equal(await message('detect=maybe'), 'query parameter detect: expected true, false, 1 or 0, got "maybe"');
    assert.match(await message(`detect=${'x'.repeat(5000)}`), /got "x{40}…"$/);
    assert.match(await message('detect=%zz', 400, 'INVALID_URL'), /percent-encoding/);
    const many = await message(Array.from({ length: 2000 }, (_v, i) => `k${i}=1`).join('&'));
    assert.equal(many, 'unknown query parameters "k0", "k1", "k2", "k3", "k4" and 1995 more; accepted: detect, genderThreshold');
    const ok = await app.inject({ method: 'POST', url: '/v1/predict?detect=false&genderThreshold=.75', payload: chip });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  it('a URL Fastify cannot decode answers 400 INVALID_URL', async () => {
    const a = await raw(port, 'GET /%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assertErrorShape(a, 400, 'INVALID_URL');
  });

  it('connection-level errors: 400 unparsable request, 431 header overflow, 408 body never finished', async () => {
    assertErrorShape(await raw(port, 'NOT HTTP AT ALL\r\n\r\n'), 400, 'BAD_REQUEST');
    assertErrorShape(await raw(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`), 431, 'HEADERS_TOO_LARGE');
    const slow = await raw(port, 'POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\nonly a little', 5000);
    assertErrorShape(slow, 408, 'REQUEST_TIMEOUT');
  });
});

describe('error shape for 503 and 504', () => {
  it('503 QUEUE_FULL (with Retry-After) and 504 TIMEOUT have the same shape', async () => {
    const chip = await readFile(CHIP);
    const app = await buildServer({ model: fakeModel({ delayMs: 300 }), detector: null, limits: { maxQueued: 0, requestTimeoutMs: 200 } });
    try {
      const [first, second] = await Promise.all([
        app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip }),
        app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip }),
      ]);
      const codes = [first, second].map((r) => ({ status: r.statusCode, body: r.body, headers: r.headers }));
      const busy = codes.find((c) => c.status === 503)!;
      assertErrorShape(busy, 503, 'QUEUE_FULL');
      assert.ok(Number(busy.headers['retry-after']) >= 1);
      assertErrorShape(codes.find((c) => c.status === 504)!, 504, 'TIMEOUT');
    } finally {
      await app.close();
    }
  });
});
