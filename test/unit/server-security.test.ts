// Security headers on the page and the API, CORS off by default and on for a configured origin,
// cross-origin POSTs refused, the optional rate limit and Host allow-list; behind a reverse proxy
// (over real sockets): X-Forwarded-* ignored by default, believed from --trust-proxy addresses only.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { ErrorResponse } from '../../src/server/schemas.js';
import type { SecurityOptions } from '../../src/server/security.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

const CHIP = new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url);

function code(res: { body: string }): string {
  return ErrorResponse.parse(JSON.parse(res.body)).error.code;
}

function assertSecurityHeaders(headers: Record<string, unknown>, where: string): void {
  const csp = String(headers['content-security-policy'] ?? '');
  assert.match(csp, /default-src 'self'/, `${where}: CSP ${csp}`);
  assert.match(csp, /script-src 'self'(;|$)/, `${where}: scripts only from the server`);
  assert.match(csp, /frame-ancestors 'none'/, where);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${where}: no inline exceptions`);
  assert.equal(headers['x-content-type-options'], 'nosniff', where);
  assert.equal(headers['x-frame-options'], 'DENY', where);
  assert.equal(headers['x-powered-by'], undefined, where);
}

describe('security: defaults', () => {
  let app: FastifyInstance;
  let chip: Buffer;
  before(async () => {
    chip = await readFile(CHIP);
    app = await buildServer({ model: fakeModel(), detector: null });
  });
  after(async () => {
    await app.close();
  });

  it('the page, its script and the API answer with the security headers', async () => {
    assertSecurityHeaders((await app.inject({ method: 'GET', url: '/' })).headers, 'GET /');
    assertSecurityHeaders((await app.inject({ method: 'GET', url: '/app.js' })).headers, 'GET /app.js');
    const api = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip });
    assert.equal(api.statusCode, 200, api.body);
    assertSecurityHeaders(api.headers, 'POST /v1/predict');
    assertSecurityHeaders((await app.inject({ method: 'GET', url: '/nothing' })).headers, '404');
  });

  it('the page needs no inline exception: no inline script, style element or style attribute', async () => {
    const html = (await app.inject({ method: 'GET', url: '/' })).body;
    assert.match(html, /<script src="\/app\.js"/);
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'inline <script>');
    assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=/i, 'inline style or handler');
  });

  it('Cache-Control: no-store on API answers, errors and the page; the script and style revalidate (no-cache)', async () => {
    const cases: Array<['GET' | 'POST', string, Buffer | undefined, string]> = [
      ['POST', '/v1/predict?detect=false', chip, 'no-store'],
      ['POST', '/v1/predict', Buffer.from('not an image'), 'no-store'],
      ['GET', '/healthz', undefined, 'no-store'],
      ['GET', '/readyz', undefined, 'no-store'],
      ['GET', '/metrics', undefined, 'no-store'],
      ['GET', '/openapi.json', undefined, 'no-store'],
      ['GET', '/nothing', undefined, 'no-store'],
      ['GET', '/', undefined, 'no-store'],
      ['GET', '/app.js', undefined, 'no-cache'],
    ];
    for (const [method, url, payload, expected] of cases) {
      const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
      assert.equal(res.headers['cache-control'], expected, `${method} ${url} (${res.statusCode})`);
    }
  });

  it('CORS is refused by default: no Access-Control-Allow-Origin, preflight not answered, foreign POST → 403', async () => {
    const pre = await app.inject({ method: 'OPTIONS', url: '/v1/predict', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    const post = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip, headers: { origin: 'http://evil.example' } });
    assert.equal(post.statusCode, 403, post.body);
    assert.equal(code(post), 'CROSS_ORIGIN_FORBIDDEN');
    assert.equal(post.headers['access-control-allow-origin'], undefined);
  });

  it('a POST from the page itself (Origin = this host) is served', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip, headers: { origin: 'http://localhost:80', host: 'localhost:80' } });
    assert.equal(res.statusCode, 200, res.body);
  });
});

describe('security: options', () => {
  it('--cors <origin> allows exactly that origin (preflight and POST), others stay refused', async () => {
    const app = await buildServer({ model: fakeModel(), detector: null, security: { corsOrigins: ['https://app.example'] } });
    try {
      const chip = await readFile(CHIP);
      const pre = await app.inject({ method: 'OPTIONS', url: '/v1/predict', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
      assert.ok(pre.statusCode < 300, `preflight ${pre.statusCode}`);
      assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
      const ok = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip, headers: { origin: 'https://app.example' } });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
      assert.equal(ok.headers['access-control-expose-headers'], 'Retry-After, X-Request-Id', 'scripts of the origin can read Retry-After and X-Request-Id');
      const other = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip, headers: { origin: 'https://other.example' } });
      assert.equal(other.statusCode, 403);
      assert.equal(other.headers['access-control-allow-origin'], undefined);
      // An OPTIONS that is not a preflight gets the API's error shape, not @fastify/cors's plain text.
      for (const headers of [{}, { origin: 'https://app.example' }]) {
        const bare = await app.inject({ method: 'OPTIONS', url: '/v1/predict', headers });
        assert.equal(bare.statusCode, 400);
        assert.match(String(bare.headers['content-type']), /^application\/json/);
        assert.equal(code(bare), 'INVALID_ARGUMENT');
      }
    } finally {
      await app.close();
    }
  });

  it('--rate-limit 3/min: the 4th API request answers 429 RATE_LIMITED with Retry-After; the page is not limited', async () => {
    const app = await buildServer({ model: fakeModel(), detector: null, security: { rateLimitPerMinute: 3 } });
    try {
      const chip = await readFile(CHIP);
      const statuses: number[] = [];
      let last = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip });
      statuses.push(last.statusCode);
      for (let i = 0; i < 3; i++) {
        last = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip });
        statuses.push(last.statusCode);
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      assert.equal(code(last), 'RATE_LIMITED');
      assert.ok(Number(last.headers['retry-after']) >= 1, `Retry-After ${String(last.headers['retry-after'])}`);
      assert.equal((await app.inject({ method: 'GET', url: '/' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('--allowed-hosts: another Host header answers 421 HOST_NOT_ALLOWED', async () => {
    const app = await buildServer({ model: fakeModel(), detector: null, security: { allowedHosts: ['localhost', '127.0.0.1'] } });
    try {
      const bad = await app.inject({ method: 'GET', url: '/healthz', headers: { host: 'rebound.example:8080' } });
      assert.equal(bad.statusCode, 421, bad.body);
      assert.equal(code(bad), 'HOST_NOT_ALLOWED');
      assert.equal((await app.inject({ method: 'GET', url: '/healthz', headers: { host: '127.0.0.1:8080' } })).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});

/** A POST of the chip to /v1/predict?detect=false over a real socket, with these headers: status and body. */
function post(port: number, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/predict?detect=false', headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A server listening on a free loopback port, logging to `lines`. */
async function listening(security: SecurityOptions, lines: string[]): Promise<{ app: FastifyInstance; port: number }> {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  const app = await buildServer({ model: fakeModel(), detector: null, security, logger: { stream } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return { app, port: typeof address === 'object' && address ? address.port : 0 };
}

/** The remoteAddress of each request's log line, in order. */
function loggedAddresses(lines: string[]): unknown[] {
  return lines.map((l) => JSON.parse(l) as { remoteAddress?: unknown; msg?: string }).filter((l) => l.msg === 'request completed').map((l) => l.remoteAddress);
}

describe('security: behind a reverse proxy', () => {
  let chip: Buffer;
  before(async () => {
    chip = await readFile(CHIP);
  });

  it('by default X-Forwarded-For is not believed: the rate limit and the log see the connection\'s peer', async () => {
    const lines: string[] = [];
    const { app, port } = await listening({ rateLimitPerMinute: 1 }, lines);
    try {
      assert.equal((await post(port, { 'x-forwarded-for': '203.0.113.1' }, chip)).status, 200);
      const second = await post(port, { 'x-forwarded-for': '203.0.113.2' }, chip);
      assert.equal(second.status, 429, 'a client cannot pick another address to escape the limit');
      assert.deepEqual(loggedAddresses(lines), ['127.0.0.1', '127.0.0.1']);
    } finally {
      await app.close();
    }
  });

  it('--trust-proxy loopback: each client behind the proxy gets its own rate limit and log address; an address the client forged is not', async () => {
    const lines: string[] = [];
    const { app, port } = await listening({ rateLimitPerMinute: 1, trustProxy: ['loopback'] }, lines);
    try {
      const statuses: number[] = [];
      // nginx appends the address it saw: a client sending its own X-Forwarded-For gets "forged, real".
      for (const xff of ['203.0.113.1', '203.0.113.2', '198.51.100.7, 203.0.113.1', '203.0.113.3']) {
        statuses.push((await post(port, { 'x-forwarded-for': xff }, chip)).status);
      }
      assert.deepEqual(statuses, [200, 200, 429, 200]);
      assert.deepEqual(loggedAddresses(lines), ['203.0.113.1', '203.0.113.2', '203.0.113.1', '203.0.113.3']);
    } finally {
      await app.close();
    }
  });

  it('--trust-proxy naming other addresses: a request from elsewhere is not believed', async () => {
    const lines: string[] = [];
    const { app, port } = await listening({ rateLimitPerMinute: 1, trustProxy: ['10.0.0.0/8', '192.0.2.1'] }, lines);
    try {
      assert.equal((await post(port, { 'x-forwarded-for': '203.0.113.1' }, chip)).status, 200);
      assert.equal((await post(port, { 'x-forwarded-for': '203.0.113.2' }, chip)).status, 429);
      assert.deepEqual(loggedAddresses(lines), ['127.0.0.1', '127.0.0.1']);
    } finally {
      await app.close();
    }
  });

  it('--trust-proxy: the Host allow-list and the same-origin check use X-Forwarded-Host from the proxy (nginx passing Host as 127.0.0.1:port)', async () => {
    const headers = { host: '127.0.0.1:8080', 'x-forwarded-host': 'faces.example', 'x-forwarded-proto': 'https', origin: 'https://faces.example' };
    const trusted = await listening({ allowedHosts: ['faces.example'], trustProxy: ['loopback'] }, []);
    try {
      const ok = await post(trusted.port, headers, chip);
      assert.equal(ok.status, 200, ok.body);
      const foreign = await post(trusted.port, { ...headers, origin: 'https://evil.example' }, chip);
      assert.equal(foreign.status, 403, foreign.body);
      assert.equal(code(foreign), 'CROSS_ORIGIN_FORBIDDEN');
      const otherName = await post(trusted.port, { ...headers, 'x-forwarded-host': 'rebound.example' }, chip);
      assert.equal(otherName.status, 421, otherName.body);
      assert.match(ErrorResponse.parse(JSON.parse(otherName.body)).error.message, /"rebound\.example" \(serve --allowed-hosts lists the names it answers to\)/);
    } finally {
      await trusted.app.close();
    }
    const untrusted = await listening({ allowedHosts: ['faces.example'] }, []);
    try {
      const refused = await post(untrusted.port, headers, chip);
      assert.equal(refused.status, 421, 'without --trust-proxy X-Forwarded-Host is ignored: the Host header decides');
    } finally {
      await untrusted.app.close();
    }
  });
});
