// Memory-safe decoding: huge-but-small uploads (a 12,000×3,333 PNG of ~100 KB, a 10,000,000×4 PNG)
// are answered quickly and leave no memory behind, with the shipped model (the full-size padded
// tensor was what blew up). One model and one server for the file.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { decodeImage } from '../../src/io/decode.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import { loadModel } from '../../src/model/index.js';
import { buildServer } from '../../src/server/app.js';
import { ErrorResponse, PredictResponse } from '../../src/server/schemas.js';
import { flatPng, gradientPng } from '../helpers/png.js';

const CHIP = new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url);
const MB = 1024 * 1024;

describe('decodeImage maxSide', () => {
  it('shrinks while decoding, keeping the aspect ratio, and never enlarges', async () => {
    const png = flatPng(3000, 1000);
    const small = await decodeImage(png, 'wide.png', { maxSide: 300 });
    assert.deepEqual([small.width, small.height, small.channels, small.data.length], [300, 100, 3, 300 * 100 * 3]);
    const same = await decodeImage(flatPng(40, 20), 'tiny.png', { maxSide: 300 });
    assert.deepEqual([same.width, same.height], [40, 20]);
  });

  it('rejects a bad maxSide with INVALID_ARGUMENT', async () => {
    await assert.rejects(decodeImage(flatPng(4, 4), 'x.png', { maxSide: 0 }), /maxSide/);
  });
});

describe('server: oversize images with the shipped model', () => {
  let app: FastifyInstance;
  let model: AgeGenderModel;
  const wide = gradientPng(12_000, 3_333);
  const strip = flatPng(10_000_000, 4);

  before(async () => {
    model = await loadModel();
    app = await buildServer({ model, detector: null });
    const warm = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: await readFile(CHIP) });
    assert.equal(warm.statusCode, 200, warm.body);
  });
  after(async () => {
    await app.close();
    model.dispose();
  });

  it('a 12,000×3,333 PNG is answered in < 2 s with 200, boxed in its own pixels', async () => {
    const t0 = performance.now();
    const res = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: wide });
    const ms = performance.now() - t0;
    assert.equal(res.statusCode, 200, res.body);
    const body = PredictResponse.parse(res.json());
    assert.deepEqual([body.width, body.height], [12_000, 3_333]);
    assert.deepEqual(body.faces[0]!.box, { x: 0, y: 0, width: 12_000, height: 3_333 });
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  });

  it('a 10,000,000×4 PNG is answered in < 2 s with 413 ASPECT_RATIO_TOO_LARGE', async () => {
    const t0 = performance.now();
    const res = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: strip });
    const ms = performance.now() - t0;
    assert.equal(res.statusCode, 413, res.body);
    assert.equal(ErrorResponse.parse(res.json()).error.code, 'ASPECT_RATIO_TOO_LARGE');
    assert.match(res.body, /10000000×4/);
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  });

  it('RSS after 20 of them stays within +150 MB of the start', async () => {
    const start = process.memoryUsage().rss;
    let peak = start;
    for (let i = 0; i < 20; i++) {
      const res = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: i % 2 === 0 ? wide : strip });
      assert.ok(res.statusCode === 200 || res.statusCode === 413, res.body);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const end = process.memoryUsage().rss;
    assert.ok(end - start < 150 * MB, `RSS ${(start / MB).toFixed(0)} → ${(end / MB).toFixed(0)} MB (peak ${(peak / MB).toFixed(0)} MB)`);
  });
});
