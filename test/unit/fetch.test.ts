// fetchImageBytes (src/io/fetch.ts) against a local HTTP server: the size cap holds for a body sent
// without Content-Length (chunked), and a body that stalls past the timeout is an UNREADABLE_FILE
// naming the URL, as a connection that never answers is.
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fetchImageBytes } from '../../src/io/fetch.js';

describe('fetchImageBytes', () => {
  let server: Server;
  let base: string;
  let sent = 0;
  before(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' }); // no Content-Length: chunked
      const chunk = Buffer.alloc(64 * 1024, 0xff);
      if (req.url === '/endless.jpg') {
        const push = (): void => {
          while (!res.destroyed && sent < 512 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
          if (!res.destroyed && sent < 512 * 1024 * 1024) res.once('drain', push);
        };
        push();
      } else if (req.url === '/stalls.jpg') {
        res.write(chunk); // then nothing more, connection held open
      }
      req.socket.on('close', () => res.destroy());
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });

  it('a chunked body over the cap is IMAGE_TOO_LARGE as soon as it passes the cap, not read to the end', async () => {
    const started = Date.now();
    await assert.rejects(fetchImageBytes(`${base}/endless.jpg`, { maxBytes: 1024 * 1024, timeoutMs: 20_000 }), {
      code: 'IMAGE_TOO_LARGE',
      message: `${base}/endless.jpg: download is over the 1048576-byte limit`,
    });
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.ok(sent < 64 * 1024 * 1024, `the server sent ${sent} bytes before the download stopped`);
  });

  it('a body that stalls past the timeout is UNREADABLE_FILE naming the URL', async () => {
    await assert.rejects(fetchImageBytes(`${base}/stalls.jpg`, { timeoutMs: 500 }), {
      code: 'UNREADABLE_FILE',
      message: `${base}/stalls.jpg: cannot download: no complete answer within 0.5 s`,
    });
  });
});
