// Answers given before the whole body arrived (413 over the byte limit, 403/421/429/503 refusals),
// over real sockets: the client always reads the answer (no connection reset), gets exactly one
// answer, `Expect: 100-continue` over the limit is refused without a `100 Continue`, and the
// connection is closed afterwards within a bounded time.
import { strict as assert } from 'node:assert';
import { connect, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

const CHIP = new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url);
const LIMIT = 64 * 1024;
const TIMEOUT_MS = 1500;

interface Exchange {
  /** Everything the server sent, as text. */
  text: string;
  /** A socket error the client saw (ECONNRESET, EPIPE), if any. */
  error: string | null;
  /** ms from the first byte written to the server closing the connection (or the test giving up). */
  closedAfterMs: number;
}

/**
 * Opens a connection, writes `head`, then `body` in 16 KiB chunks without waiting for the answer
 * (as a client that reads only once it has sent everything), and collects all the server sends
 * until it closes, or `giveUpMs` pass.
 */
function exchange(port: number, head: string, body: Buffer | null, giveUpMs = 6000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let error: string | null = null;
    const t0 = performance.now();
    const timer = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), error, closedAfterMs: performance.now() - t0 });
    });
    socket.write(head);
    if (body) {
      for (let i = 0; i < body.length; i += 16 * 1024) socket.write(body.subarray(i, i + 16 * 1024));
    }
  });
}

function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
}

describe('answers before the body is read', () => {
  let app: FastifyInstance;
  let port: number;
  let chip: Buffer;

  before(async () => {
    chip = await readFile(CHIP);
    app = await buildServer({ model: fakeModel(), detector: null, limits: { maxUploadBytes: LIMIT, requestTimeoutMs: TIMEOUT_MS } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  after(async () => {
    await app.close();
  });

  it('a body over the limit sent whole without waiting gets 413 every time, without a connection reset', async () => {
    const body = Buffer.alloc(16 * 1024 * 1024, 0xff);
    for (let i = 0; i < 8; i++) {
      const head = `POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`;
      const x = await exchange(port, head, body);
      assert.deepEqual(statuses(x.text), [413], `try ${i}: ${x.text.slice(0, 300)}`);
      assert.match(x.text, /"code":"PAYLOAD_TOO_LARGE"/);
      assert.equal(x.error, null, `try ${i}: the client saw ${x.error}`);
      assert.ok(x.closedAfterMs < TIMEOUT_MS + 1000, `closed after ${x.closedAfterMs} ms`);
    }
  });

  it('a chunked body that grows over the limit gets 413 without a connection reset', async () => {
    const chunk = Buffer.alloc(8 * 1024, 0xff);
    const parts: Buffer[] = [];
    for (let i = 0; i < 2048; i++) parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
    parts.push(Buffer.from('0\r\n\r\n'));
    for (let i = 0; i < 4; i++) {
      const x = await exchange(port, 'POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n', Buffer.concat(parts));
      assert.deepEqual(statuses(x.text), [413], `try ${i}: ${x.text.slice(0, 300)}`);
      assert.equal(x.error, null, `try ${i}: the client saw ${x.error}`);
    }
  });

  it('a multipart file that grows over the limit (chunked) gets 413 without a connection reset', async () => {
    const form = Buffer.concat([
      Buffer.from('--B\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'),
      Buffer.alloc(16 * 1024 * 1024, 0xff),
      Buffer.from('\r\n--B--\r\n'),
    ]);
    const parts: Buffer[] = [];
    for (let i = 0; i < form.length; i += 64 * 1024) {
      const piece = form.subarray(i, i + 64 * 1024);
      parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('0\r\n\r\n'));
    for (let i = 0; i < 3; i++) {
      const head = 'POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nTransfer-Encoding: chunked\r\n\r\n';
      const x = await exchange(port, head, Buffer.concat(parts));
      assert.deepEqual(statuses(x.text), [413], `try ${i}: ${x.text.slice(0, 300)}`);
      assert.equal(x.error, null, `try ${i}: the client saw ${x.error}`);
    }
  });

  it('a multipart file over the limit is answered 413 at once, before the rest of a chunked body has been sent', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let text = '';
    const answered = new Promise<void>((resolve) => {
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (text.includes('\r\n\r\n{')) resolve();
      });
    });
    socket.write('POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nTransfer-Encoding: chunked\r\n\r\n');
    const piece = (b: Buffer): Buffer => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
    socket.write(piece(Buffer.from('--B\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n')));
    // Twice the limit of the file, then nothing more: the form is never finished.
    socket.write(piece(Buffer.alloc(2 * LIMIT, 0xff)));
    const outcome = await Promise.race([answered.then(() => 'answered'), new Promise<string>((resolve) => setTimeout(() => resolve('no answer while the body was incomplete'), 1000))]);
    socket.destroy();
    assert.equal(outcome, 'answered', text.slice(0, 200));
    assert.deepEqual(statuses(text), [413]);
    assert.match(text, /"code":"PAYLOAD_TOO_LARGE"/);
    // The client hung up after reading its 413: /metrics counts a 413, not a 499 (client gone before the answer).
    await new Promise((resolve) => setTimeout(resolve, 100));
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /agegender_http_requests_total\{route="\/v1\/predict",method="POST",status="413"\} \d+/);
    assert.doesNotMatch(metrics, /status="499"/);
  });

  it('Expect: 100-continue over the limit is answered 413 without a 100 Continue', async () => {
    for (let i = 0; i < 3; i++) {
      const x = await exchange(port, `POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: ${LIMIT * 4}\r\n\r\n`, null);
      assert.deepEqual(statuses(x.text), [413], x.text.slice(0, 300));
      assert.ok(x.closedAfterMs < 1000, `closed after ${x.closedAfterMs} ms`);
    }
  });

  it('Expect: 100-continue within the limit gets 100 Continue, then the answer', async () => {
    const socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    const done = new Promise<string>((resolve) => {
      socket.on('data', (d: Buffer) => {
        got.push(d);
        const text = Buffer.concat(got).toString('latin1');
        if (text.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && got.length === 1) socket.write(chip);
        if (/\r\n\r\n[\s\S]*\}$/.test(text)) {
          socket.end();
          resolve(text);
        }
      });
    });
    socket.write(`POST /v1/predict?detect=false HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: ${chip.length}\r\n\r\n`);
    const text = await done;
    assert.deepEqual(statuses(text), [100, 200], text.slice(0, 300));
  });

  it('a refusal before the body (403) is the one answer: no 408 after it, and the connection closes', async () => {
    const head = 'POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nContent-Length: 1000\r\n\r\nab';
    const x = await exchange(port, head, null, TIMEOUT_MS + 4000);
    assert.deepEqual(statuses(x.text), [403], x.text);
    assert.match(x.text, /\r\nconnection: close\r\n/i);
    assert.ok(x.closedAfterMs <= TIMEOUT_MS + 1200, `closed after ${x.closedAfterMs} ms`);
  });

  it('a refusal whose body then arrives in full closes as soon as it has been read', async () => {
    const body = Buffer.alloc(4000, 0x41);
    const head = `POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nContent-Length: ${body.length}\r\n\r\n`;
    const x = await exchange(port, head, body);
    assert.deepEqual(statuses(x.text), [403], x.text);
    assert.equal(x.error, null);
    assert.ok(x.closedAfterMs < 500, `closed after ${x.closedAfterMs} ms`);
  });
});
