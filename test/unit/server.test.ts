// HTTP service: routes, limits and the error contract, with a tiny deterministic model and a
// stub detector (fast). Real-detector cases (no face, many faces) are in server-photos.test.ts.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ExplainFn } from '../../src/server/app.js';
import { limeExplainer } from '../../src/server/lime-explainer.js';
import { ErrorResponse, ExplainResponse, HealthResponse, PredictResponse } from '../../src/server/schemas.js';
import type { DetectedFace, FaceDetector } from '../../src/pipeline/detect.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';
import { AgeGenderError } from '../../src/core/errors.js';

const CHIP = new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url);

/** Full paths from Fastify's printRoutes tree (`├── segment (GET, HEAD)`, children indented by 4). */
function registeredPaths(tree: string): string[] {
  const stack: string[] = [];
  const paths: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(/u.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    paths.push(stack.join(''));
  }
  return paths;
}

/** Finds one "face" in the middle of any image, eyes level. */
const stubDetector: FaceDetector = {
  name: 'stub',
  async detect(image) {
    const w = image.width;
    const h = image.height;
    const face: DetectedFace = {
      box: { x: w * 0.25, y: h * 0.25, width: w * 0.5, height: h * 0.5 },
      score: 0.9,
      leftEye: { x: w * 0.4, y: h * 0.4 },
      rightEye: { x: w * 0.6, y: h * 0.4 },
      mouth: { x: w * 0.5, y: h * 0.65 },
    };
    return [face];
  },
  dispose() {},
};

const stubExplain: ExplainFn = async (_model, chip) => ({
  overlayPng: await sharp(chip.data, { raw: { width: chip.width, height: chip.height, channels: chip.channels } }).png().toBuffer(),
});

/** PNG signature + an IHDR chunk with the given size (no pixel data): a "decompression bomb" header. */
function pngHeader(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_v, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (buf: Buffer): number => {
    let c = 0xffffffff;
    for (const byte of buf) c = (crcTable[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = 8; // bit depth
  data[9] = 2; // RGB
  const typeAndData = Buffer.concat([Buffer.from('IHDR'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(13);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), len, typeAndData, crc]);
}

function multipartBody(field: string, filename: string, bytes: Buffer): { payload: Buffer; contentType: string } {
  const boundary = '----agegender-test-boundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { payload: Buffer.concat([head, bytes, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}

function assertError(res: { statusCode: number; json(): unknown }, status: number, code: string): void {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  const body = ErrorResponse.parse(res.json());
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 0);
}

describe('server', () => {
  let app: FastifyInstance;
  let chip: Buffer;

  before(async () => {
    chip = await readFile(CHIP);
    app = await buildServer({ model: fakeModel(), detector: stubDetector, explain: stubExplain });
  });
  after(async () => {
    await app.close();
  });

  it('GET /healthz reports status, model and queue', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    const body = HealthResponse.parse(res.json());
    assert.equal(body.model, 'fake (none)');
    assert.equal(body.detector, 'stub');
    assert.equal(body.explain, true);
  });

  it('/openapi.json declares every error code the image routes answer, and says a 200 holds a face', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, { post: { responses: Record<string, { description: string }> } }> };
    const expected = ['BAD_REQUEST', 'INVALID_URL', 'INVALID_ARGUMENT', 'EMPTY_BODY', 'MALFORMED_MULTIPART', 'CROSS_ORIGIN_FORBIDDEN', 'REQUEST_TIMEOUT', 'PAYLOAD_TOO_LARGE', 'IMAGE_TOO_LARGE', 'ASPECT_RATIO_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'INVALID_IMAGE', 'HOST_NOT_ALLOWED', 'RATE_LIMITED', 'HEADERS_TOO_LARGE', 'QUEUE_FULL', 'SHUTTING_DOWN', 'TIMEOUT', 'INTERNAL'];
    for (const route of ['/v1/predict', '/v1/explain', '/v1/preview']) {
      const responses = doc.paths[route]!.post.responses;
      const declared = Object.values(responses).map((r) => r.description).join(' ');
      for (const code of expected) assert.match(declared, new RegExp(`\\b${code}\\b`), `${route} does not declare ${code}`);
    }
    for (const route of ['/v1/predict', '/v1/explain']) assert.match(doc.paths[route]!.post.responses['422']!.description, /NO_USABLE_FACE/);
    assert.match(doc.paths['/v1/predict']!.post.responses['200']!.description, /at least one/);
  });

  it('/openapi.json declares for every GET route the errors it can answer: 421 HOST_NOT_ALLOWED (reached here), 503 SHUTTING_DOWN except /healthz', async () => {
    const guarded = await buildServer({ model: fakeModel(), detector: null, security: { allowedHosts: ['localhost'] } });
    try {
      const doc = (await guarded.inject({ method: 'GET', url: '/openapi.json', headers: { host: 'localhost' } })).json() as { paths: Record<string, { get?: { responses: Record<string, { description: string }> } }> };
      const gets = Object.entries(doc.paths).filter(([, ops]) => ops.get !== undefined);
      assert.ok(gets.length >= 7);
      for (const [path, ops] of gets) {
        const responses = ops.get!.responses;
        assert.match(responses['421']?.description ?? '', /HOST_NOT_ALLOWED/, `${path} declares 421`);
        assert.match(responses['400']?.description ?? '', /INVALID_URL/, `${path} declares 400`);
        const refused = await guarded.inject({ method: 'GET', url: path, headers: { host: 'evil.example' } });
        assert.equal(refused.statusCode, 421, `${path} answers 421 to another host`);
        if (path === '/healthz') assert.equal(responses['503'], undefined, '/healthz is answered while stopping');
        else assert.match(responses['503']?.description ?? '', /SHUTTING_DOWN/, `${path} declares 503`);
      }
      assert.ok((doc as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas['ReadyResponse']);
    } finally {
      await guarded.close();
    }
  });

  it('GET /openapi.json describes every route with the error schema', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/', '/app.css', '/app.js', '/healthz', '/metrics', '/openapi.json', '/readyz', '/v1/explain', '/v1/predict', '/v1/preview']);
    // every GET route the server registered is documented, and every documented operation is registered
    const registered = registeredPaths(app.printRoutes({ method: 'GET', commonPrefix: false }));
    assert.ok(registered.includes('/app.js') && registered.includes('/healthz'), registered.join(' '));
    for (const path of registered) assert.ok(doc.paths[path]?.['get'], `GET ${path} is registered but not in /openapi.json`);
    for (const [path, ops] of Object.entries(doc.paths)) for (const method of Object.keys(ops)) assert.ok(app.hasRoute({ method: method.toUpperCase() as 'GET', url: path }), `${method} ${path}`);
    assert.ok(doc.components.schemas['Error']);
    assert.ok(doc.components.schemas['PredictResponse']);
    // every query parameter of the image routes says what it does
    for (const path of ['/v1/predict', '/v1/explain']) {
      const params = (doc.paths[path]!['post'] as { parameters: Array<{ name: string; description?: string }> }).parameters;
      for (const p of params) assert.ok(p.description, `${path} ?${p.name} has no description`);
    }
  });

  it('GET / serves the web page (plain HTML with the drop zone), its script at /app.js and its style at /app.css', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.match(res.body, /<button type="button" id="drop"/);
    assert.deepEqual([...res.body.matchAll(/<script([^>]*)>/g)].map((m) => m[1]), [' src="/app.js" defer'], 'one script, same origin, nothing inline');
    const js = await app.inject({ method: 'GET', url: '/app.js' });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.match(js.body, /\/v1\/predict/);
    const css = await app.inject({ method: 'GET', url: '/app.css' });
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.match(css.body, /\.face-box/);
  });

  it('POST /v1/predict with a raw JPEG body returns one face per detection, with a stable shape', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: chip, headers: { 'content-type': 'image/jpeg' } });
    assert.equal(res.statusCode, 200, res.body);
    const body = PredictResponse.parse(res.json());
    assert.equal(body.width, 200);
    assert.equal(body.height, 200);
    assert.equal(body.detect, true);
    assert.equal(body.faces.length, 1);
    const face = body.faces[0]!;
    assert.deepEqual(face.box, { x: 50, y: 50, width: 100, height: 100 });
    assert.equal(face.score, 0.9);
    assert.ok(face.ageInterval[0] < face.age && face.age < face.ageInterval[1]);
    assert.ok(face.genderProbability >= 0.5 && face.genderProbability <= 1);
  });

  it('the Content-Type header is ignored: the type is sniffed from the bytes', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: chip, headers: { 'content-type': 'text/plain' } });
    assert.equal(res.statusCode, 200, res.body);
  });

  it('POST /v1/predict?detect=false takes the image as one chip, boxed as the whole frame', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.statusCode, 200, res.body);
    const body = PredictResponse.parse(res.json());
    assert.equal(body.faces.length, 1);
    assert.deepEqual(body.faces[0]!.box, { x: 0, y: 0, width: 200, height: 200 });
    assert.equal(body.faces[0]!.score, null);
  });

  it('?genderThreshold= decides uncertain vs a label (probability still returned); the default is the model\'s; out of range is 400', async () => {
    const url = (q: string): string => `/v1/predict?detect=false${q}`;
    const plain = PredictResponse.parse((await app.inject({ method: 'POST', url: url(''), payload: chip })).json());
    assert.equal(plain.genderThreshold, 0.5, "the model's threshold");
    const p = plain.faces[0]!;
    assert.notEqual(p.gender, 'uncertain');
    assert.ok(p.genderProbability < 0.9, `the fake model is unsure of this chip (${p.genderProbability})`);
    const strict = PredictResponse.parse((await app.inject({ method: 'POST', url: url('&genderThreshold=0.9'), payload: chip })).json());
    assert.equal(strict.genderThreshold, 0.9);
    assert.equal(strict.faces[0]!.gender, 'uncertain');
    assert.equal(strict.faces[0]!.genderProbability, p.genderProbability);
    assert.equal(strict.faces[0]!.femaleProbability, p.femaleProbability);
    const lenient = PredictResponse.parse((await app.inject({ method: 'POST', url: url(`&genderThreshold=${p.genderProbability}`), payload: chip })).json());
    assert.equal(lenient.faces[0]!.gender, p.gender, 'at the threshold exactly the label is given');
    for (const bad of ['0.3', '1.5', 'high']) {
      const res = await app.inject({ method: 'POST', url: url(`&genderThreshold=${bad}`), payload: chip });
      assertError(res, 400, 'INVALID_ARGUMENT');
      assert.match((res.json() as { error: { message: string } }).error.message, /genderThreshold/);
    }
    const explained = ExplainResponse.parse((await app.inject({ method: 'POST', url: '/v1/explain?detect=false&genderThreshold=0.9', payload: chip })).json());
    assert.equal(explained.faces[0]!.gender, 'uncertain');
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, { post: { parameters: Array<{ name: string }> } }> };
    for (const route of ['/v1/predict', '/v1/explain']) assert.ok(doc.paths[route]!.post.parameters.some((x) => x.name === 'genderThreshold'), route);
  });

  it("a model whose recorded threshold is above the face's confidence answers uncertain by default", async () => {
    const strictApp = await buildServer({ model: fakeModel({ genderThreshold: 0.95 }), detector: stubDetector });
    try {
      const body = PredictResponse.parse((await strictApp.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip })).json());
      assert.equal(body.genderThreshold, 0.95);
      assert.equal(body.faces[0]!.gender, 'uncertain');
    } finally {
      await strictApp.close();
    }
  });

  it('POST /v1/predict accepts multipart/form-data with one file', async () => {
    const { payload, contentType } = multipartBody('file', 'face.jpg', chip);
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload, headers: { 'content-type': contentType } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(PredictResponse.parse(res.json()).faces.length, 1);
  });

  it('bad query parameters answer 400 INVALID_ARGUMENT', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/predict?detect=maybe', payload: chip });
    assertError(res, 400, 'INVALID_ARGUMENT');
    assert.match((res.json() as { error: { message: string } }).error.message, /detect/);
  });

  it('bad input: an empty body answers 400 EMPTY_BODY', async () => {
    assertError(await app.inject({ method: 'POST', url: '/v1/predict' }), 400, 'EMPTY_BODY');
    assertError(await app.inject({ method: 'POST', url: '/v1/predict', payload: Buffer.alloc(0), headers: { 'content-type': 'image/jpeg' } }), 400, 'EMPTY_BODY');
  });

  it('bad input: a 50 MB body answers 413 PAYLOAD_TOO_LARGE', async () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 0xff);
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: big, headers: { 'content-type': 'image/jpeg' } });
    assertError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('bad input: a 50 MB multipart file answers 413 PAYLOAD_TOO_LARGE', async () => {
    const small = await buildServer({ model: fakeModel(), detector: stubDetector, limits: { maxUploadBytes: 1024 * 1024 } });
    try {
      const { payload, contentType } = multipartBody('file', 'big.jpg', Buffer.concat([chip, Buffer.alloc(2 * 1024 * 1024)]));
      const res = await small.inject({ method: 'POST', url: '/v1/predict', payload, headers: { 'content-type': contentType } });
      assertError(res, 413, 'PAYLOAD_TOO_LARGE');
    } finally {
      await small.close();
    }
  });

  it('bad input: a text file answers 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const text = Buffer.from('name,age\nalice,34\n'.repeat(50));
    assertError(await app.inject({ method: 'POST', url: '/v1/predict', payload: text, headers: { 'content-type': 'image/jpeg' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const { payload, contentType } = multipartBody('file', 'notes.txt', text);
    assertError(await app.inject({ method: 'POST', url: '/v1/predict', payload, headers: { 'content-type': contentType } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('bad input: a truncated JPEG answers 422 INVALID_IMAGE', async () => {
    const truncated = chip.subarray(0, Math.floor(chip.length / 2));
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: truncated, headers: { 'content-type': 'image/jpeg' } });
    assertError(res, 422, 'INVALID_IMAGE');
  });

  it('bad input: a PNG header claiming 20,000×20,000 pixels answers 413 IMAGE_TOO_LARGE without decoding', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: pngHeader(20_000, 20_000), headers: { 'content-type': 'image/png' } });
    assertError(res, 413, 'IMAGE_TOO_LARGE');
    assert.match((res.json() as { error: { message: string } }).error.message, /20000×20000/);
  });

  it('a large photo is analysed at its working size, boxes in the uploaded pixels', async () => {
    const { flatPng } = await import('../helpers/png.js');
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: flatPng(4096, 2048) });
    assert.equal(res.statusCode, 200, res.body);
    const body = PredictResponse.parse(res.json());
    assert.deepEqual([body.width, body.height], [4096, 2048]);
    assert.deepEqual(body.faces[0]!.box, { x: 1024, y: 512, width: 2048, height: 1024 });
  });

  it('unknown routes answer 404 with the same error shape', async () => {
    assertError(await app.inject({ method: 'GET', url: '/v2/nothing' }), 404, 'NOT_FOUND');
  });

  it('POST /v1/explain returns each face with an overlay PNG data URL', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/explain?target=age', payload: chip });
    assert.equal(res.statusCode, 200, res.body);
    const body = ExplainResponse.parse(res.json());
    assert.equal(body.facesFound, 1);
    assert.equal(body.faces.length, 1);
    assert.equal(body.faces[0]!.explanation.target, 'age');
    const png = Buffer.from(body.faces[0]!.explanation.overlayPng.replace(/^data:image\/png;base64,/, ''), 'base64');
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, 200, 'the overlay is on the aligned 200×200 chip');
  });

  it('POST /v1/explain of a face that does not exist answers 400', async () => {
    assertError(await app.inject({ method: 'POST', url: '/v1/explain?face=3', payload: chip }), 400, 'INVALID_ARGUMENT');
  });

  it('POST /v1/explain says which output the overlay explains: the age, or the more likely gender label (as LIME resolves it)', async () => {
    const explained: string[] = [];
    const lime = limeExplainer({ samples: 20 });
    const recording: ExplainFn = async (model, face, options) => {
      const e = await lime(model, face, options);
      explained.push(String(e.output));
      return e;
    };
    const withLime = await buildServer({ model: fakeModel(), detector: stubDetector, explain: recording });
    try {
      for (const target of ['gender', 'age'] as const) {
        const res = await withLime.inject({ method: 'POST', url: `/v1/explain?target=${target}`, payload: chip });
        assert.equal(res.statusCode, 200, res.body);
        const face = ExplainResponse.parse(res.json()).faces[0]!;
        const label = face.femaleProbability >= 0.5 ? 'female' : 'male';
        assert.equal(face.explanation.output, target === 'age' ? 'age' : label);
        assert.equal(face.explanation.output, explained.at(-1), 'the output LIME explained');
      }
    } finally {
      await withLime.close();
    }
  });

  it('POST /v1/explain without an explainer answers 501 EXPLAIN_UNAVAILABLE', async () => {
    const bare = await buildServer({ model: fakeModel(), detector: stubDetector });
    try {
      assertError(await bare.inject({ method: 'POST', url: '/v1/explain', payload: chip }), 501, 'EXPLAIN_UNAVAILABLE');
    } finally {
      await bare.close();
    }
  });

  it('detect=true without a detector answers 400', async () => {
    const bare = await buildServer({ model: fakeModel(), detector: null });
    try {
      assertError(await bare.inject({ method: 'POST', url: '/v1/predict', payload: chip }), 400, 'INVALID_ARGUMENT');
      assert.equal((await bare.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: chip })).statusCode, 200);
    } finally {
      await bare.close();
    }
  });
});

describe('server limits', () => {
  it('past the queue limit answers 503 QUEUE_FULL with Retry-After, and serves the rest', async () => {
    const app = await buildServer({ model: fakeModel({ delayMs: 150 }), detector: stubDetector, limits: { concurrency: 1, maxQueued: 2 } });
    try {
      const chip = await readFile(CHIP);
      const all = await Promise.all(
        Array.from({ length: 6 }, () => app.inject({ method: 'POST', url: '/v1/predict', payload: chip })),
      );
      const codes = all.map((r) => r.statusCode).sort();
      assert.deepEqual(codes, [200, 200, 200, 503, 503, 503]);
      const busy = all.find((r) => r.statusCode === 503)!;
      assertError(busy, 503, 'QUEUE_FULL');
      assert.ok(Number(busy.headers['retry-after']) >= 1);
      // The server keeps serving afterwards.
      assert.equal((await app.inject({ method: 'POST', url: '/v1/predict', payload: chip })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('a request slower than the timeout answers 504 TIMEOUT', async () => {
    const app = await buildServer({ model: fakeModel({ delayMs: 400 }), detector: stubDetector, limits: { requestTimeoutMs: 100 } });
    try {
      const chip = await readFile(CHIP);
      assertError(await app.inject({ method: 'POST', url: '/v1/predict', payload: chip }), 504, 'TIMEOUT');
    } finally {
      await app.close();
    }
  });

  it('rejects bad limits with INVALID_ARGUMENT naming the option', async () => {
    await assert.rejects(buildServer({ model: fakeModel(), detector: null, limits: { maxQueued: -1 } }), /limits\.maxQueued/);
  });
});

describe('serve command', () => {
  it('startServer listens on loopback, reports its URL, and closes', async () => {
    const { startServer } = await import('../../src/server/start.js');
    const running = await startServer({ model: fakeModel(), detect: false, port: 0, explainSamples: 0 });
    try {
      assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(`${running.url}healthz`);
      assert.equal(res.status, 200);
      const body = HealthResponse.parse(await res.json());
      assert.equal(body.detector, null);
      assert.equal(body.explain, false);
      const chip = await readFile(CHIP);
      const p = await fetch(`${running.url}v1/predict?detect=false`, { method: 'POST', body: new Uint8Array(chip) });
      assert.equal(p.status, 200);
    } finally {
      await running.close();
    }
  });

  it('a port in use, or an address this machine does not have, is a clear INVALID_ARGUMENT naming host:port', async () => {
    const { startServer } = await import('../../src/server/start.js');
    const first = await startServer({ model: fakeModel(), detect: false, port: 0, explainSamples: 0 });
    try {
      const port = Number(new URL(first.url).port);
      const refused = (pattern: RegExp) => (e: unknown): boolean => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message);
      await assert.rejects(
        startServer({ model: fakeModel(), detect: false, port, explainSamples: 0 }),
        refused(new RegExp(`^127\\.0\\.0\\.1:${port}: port ${port} is already in use .*--port 0 for any free port$`)),
      );
      await assert.rejects(startServer({ model: fakeModel(), detect: false, host: '192.0.2.1', port: 0, explainSamples: 0 }), refused(/^192\.0\.2\.1:0: cannot listen on 192\.0\.2\.1: no such address/));
      assert.equal((await fetch(`${first.url}healthz`)).status, 200, 'the first server is untouched');
    } finally {
      await first.close();
    }
  });

  it('registers `serve` with its options', async () => {
    const { registerServeCommand } = await import('../../src/cli/commands/serve.js');
    const { Command } = await import('commander');
    const program = new Command();
    registerServeCommand(program);
    const cmd = program.commands.find((c) => c.name() === 'serve')!;
    for (const flag of ['--port', '--host', '--model', '--no-detect', '--max-faces', '--max-upload-mb', '--max-aspect-ratio', '--timeout', '--queue', '--cors', '--rate-limit', '--allowed-hosts', '--trust-proxy', '--runtime', '--no-tta']) {
      assert.ok(cmd.options.some((o) => o.long === flag), flag);
    }
  });

  it('docs/serving.md lists every `serve` option, and no other, with the default the code has', async () => {
    const { registerServeCommand } = await import('../../src/cli/commands/serve.js');
    const { Command } = await import('commander');
    const program = new Command();
    registerServeCommand(program);
    const cmd = program.commands.find((c) => c.name() === 'serve')!;
    const doc = await readFile(new URL('../../docs/serving.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('| Option | Default | |'));
    const rows = new Map<string, string>();
    for (const line of table.split('\n').slice(2)) {
      const m = /^\| `(--[a-z-]+)[^`]*` \| ([^|]*) \|/.exec(line);
      if (!m) break;
      rows.set(m[1]!, m[2]!);
    }
    const flags = cmd.options.map((o) => o.long!).filter((f) => f !== '--help');
    assert.deepEqual([...rows.keys()].sort(), [...flags].sort(), 'the table has one row per option');
    for (const o of cmd.options) {
      if (typeof o.defaultValue === 'string') assert.ok(rows.get(o.long!)!.includes(`\`${o.defaultValue}\``), `${o.long}: the docs give ${rows.get(o.long!)}, the code ${o.defaultValue}`);
    }
  });

  it('--trust-proxy takes IP addresses, subnets and range names; anything else is INVALID_ARGUMENT naming the entry', async () => {
    const { parseTrustProxy } = await import('../../src/cli/commands/serve.js');
    assert.deepEqual(parseTrustProxy(undefined), []);
    assert.deepEqual(parseTrustProxy('127.0.0.1, 10.0.0.0/8,FD00::/8,loopback'), ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'loopback']);
    for (const bad of ['nginx.internal', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '10.0.0.0/', '', 'loopback,', '*', 'true']) {
      assert.throws(
        () => parseTrustProxy(bad),
        (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.startsWith(`--trust-proxy ${bad}: `) && /is not an IP address, a subnet/.test(e.message),
        bad,
      );
    }
  });
});
