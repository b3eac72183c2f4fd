// HTTP service with the real face detector (wasm) and a tiny deterministic model:
// ordinary photos with no face and with many faces.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { PredictResponse } from '../../src/server/schemas.js';
import { loadFaceDetector, type FaceDetector } from '../../src/pipeline/detect.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

const DIR = new URL('../fixtures/photos/', import.meta.url);
interface PhotoSpec {
  file: string;
  faces: Array<{ left: number; top: number; size: number }>;
}
const specs = JSON.parse(await readFile(new URL('photos.json', DIR), 'utf8')) as PhotoSpec[];

describe('server with the real face detector', () => {
  let app: FastifyInstance;
  let detector: FaceDetector;
  before(async () => {
    detector = await loadFaceDetector();
    app = await buildServer({ model: fakeModel(), detector });
  });
  after(async () => {
    await app.close();
    detector.dispose();
  });

  it('bad input: a photo with no face answers 422 NO_USABLE_FACE (never an age or a gender)', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: await readFile(new URL('no-face.jpg', DIR)) });
    assert.equal(res.statusCode, 422, res.body);
    const body = res.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'NO_USABLE_FACE');
    assert.match(body.error.message, /no usable face: the face detector .* finds no face/);
  });

  it('an animated GIF (several frames) is answered from its first frame, and `note` says so; a one-frame photo has no note', async () => {
    const still = await sharp(await readFile(new URL('three-faces.jpg', DIR))).resize(500).raw().toBuffer({ resolveWithObject: true });
    const { width, height } = still.info;
    const frames = Buffer.concat([still.data, Buffer.alloc(still.data.length, 128), Buffer.alloc(still.data.length, 30)]);
    const gif = await sharp(frames, { raw: { width, height: height * 3, channels: 3, pageHeight: height } }).gif().toBuffer();
    const animated = await app.inject({ method: 'POST', url: '/v1/predict', payload: gif, headers: { 'content-type': 'image/gif' } });
    assert.equal(animated.statusCode, 200, animated.body);
    const body = PredictResponse.parse(animated.json());
    assert.equal(body.faces.length, 3);
    assert.equal(body.note, 'the GIF holds 3 frames: only the first was analysed');
    const one = await app.inject({ method: 'POST', url: '/v1/predict', payload: await sharp(still.data, { raw: { width, height, channels: 3 } }).gif().toBuffer() });
    assert.equal(one.statusCode, 200, one.body);
    assert.equal('note' in one.json(), false);
  });

  it('a photo with many faces answers every face, each box inside the chip that was pasted there', async () => {
    const spec = specs.find((s) => s.file === 'many-faces.jpg')!;
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: await readFile(new URL(spec.file, DIR)) });
    assert.equal(res.statusCode, 200, res.body);
    const body = PredictResponse.parse(res.json());
    assert.equal(body.faces.length, spec.faces.length);
    for (const p of spec.faces) {
      const hit = body.faces.find((f) => {
        const cx = f.box.x + f.box.width / 2;
        const cy = f.box.y + f.box.height / 2;
        return cx > p.left && cx < p.left + p.size && cy > p.top && cy < p.top + p.size;
      });
      assert.ok(hit, `no face box centred in the chip at (${p.left}, ${p.top})`);
      assert.ok(hit.score !== null && hit.score >= 0.5);
    }
  });

  it('iPhone photos (HEIC, image/heic), upright or stored turned with `irot`, are read like their JPEG: the same faces, boxes within 4 px', async () => {
    const spec = specs.find((s) => s.file === 'three-faces.jpg')!;
    const post = async (file: string, type: string): Promise<PredictResponse> => {
      const res = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': type }, payload: await readFile(new URL(file, DIR)) });
      assert.equal(res.statusCode, 200, res.body);
      return PredictResponse.parse(res.json());
    };
    const jpeg = await post(spec.file, 'image/jpeg');
    // three-faces-irot.heic stores the pixels turned, with `irot` to show them upright (an iPhone
    // portrait photo): upright in the response and `turned` 0, i.e. not left to the turn search.
    for (const file of ['three-faces.heic', 'three-faces-irot.heic']) {
      const heic = await post(file, 'image/heic');
      assert.deepEqual([heic.width, heic.height, heic.turned, heic.faces.length], [jpeg.width, jpeg.height, 0, spec.faces.length], file);
      for (const f of jpeg.faces) {
        const twin = heic.faces.find((g) => Math.abs(g.box.x - f.box.x) < 4 && Math.abs(g.box.y - f.box.y) < 4 && Math.abs(g.box.width - f.box.width) < 4);
        assert.ok(twin, `${file}: no face near the JPEG face at (${f.box.x}, ${f.box.y})`);
      }
    }
  });

  it('a phone\'s full-resolution photo (8064×6048, 48.8 MP) posted directly is answered with the limits\' defaults, boxes in its own pixels', async () => {
    const spec = specs.find((s) => s.file === 'three-faces.jpg')!;
    const small = await readFile(new URL(spec.file, DIR));
    const { width: w } = await sharp(small).metadata();
    const big = await sharp(small).resize(8064, 6048, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
    const res = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'image/jpeg' }, payload: big });
    assert.equal(res.statusCode, 200, res.body);
    const body = PredictResponse.parse(res.json());
    assert.deepEqual([body.width, body.height, body.faces.length], [8064, 6048, spec.faces.length]);
    const k = 8064 / w!;
    for (const p of spec.faces) {
      const hit = body.faces.find((f) => {
        const cx = (f.box.x + f.box.width / 2) / k;
        const cy = (f.box.y + f.box.height / 2) / k;
        return cx > p.left && cx < p.left + p.size && cy > p.top && cy < p.top + p.size;
      });
      assert.ok(hit, `no face box centred in the chip pasted at (${p.left}, ${p.top}) ×${k.toFixed(2)}`);
    }
  });

  it('POST /v1/preview: the upload as an upright JPEG of at most 2048 px (for a HEIC the browser cannot show); bad input as elsewhere', async () => {
    const preview = async (payload: Buffer): Promise<{ status: number; type: string | undefined; meta: Metadata | null; body: string }> => {
      const res = await app.inject({ method: 'POST', url: '/v1/preview', payload });
      const ok = res.statusCode === 200;
      return { status: res.statusCode, type: res.headers['content-type'] as string | undefined, meta: ok ? await sharp(res.rawPayload).metadata() : null, body: ok ? '' : res.body };
    };
    const irot = await preview(await readFile(new URL('three-faces-irot.heic', DIR)));
    assert.equal(irot.status, 200, irot.body);
    assert.equal(irot.type, 'image/jpeg');
    assert.deepEqual([irot.meta!.format, irot.meta!.width, irot.meta!.height, irot.meta!.orientation], ['jpeg', 1000, 700, undefined], 'upright, no tag left to apply');
    const big = await preview(await sharp(await readFile(new URL('three-faces.jpg', DIR))).resize(3000, 2100).jpeg().toBuffer());
    assert.equal(big.status, 200, big.body);
    assert.deepEqual([big.meta!.width, big.meta!.height], [2048, 1434]);
    const text = await preview(Buffer.from('not an image'));
    assert.equal(text.status, 415, text.body);
    assert.equal((JSON.parse(text.body) as { error: { code: string } }).error.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('a photo stored sideways (no EXIF tag) is searched turned: faces found, boxed in the stored pixels, `turned` says how', async () => {
    const spec = specs.find((s) => s.file === 'three-faces.jpg')!;
    const upright = await readFile(new URL(spec.file, DIR));
    const { width: w, height: h } = await sharp(upright).metadata();
    // turned 90° clockwise in its pixels: the photo's (x, y) is at (h − 1 − y, x)
    const sideways = await sharp(upright).rotate(90).jpeg({ quality: 95 }).toBuffer();
    const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: sideways });
    assert.equal(res.statusCode, 200, res.body);
    const body = PredictResponse.parse(res.json());
    assert.deepEqual([body.width, body.height, body.turned], [h, w, 270]);
    assert.equal(body.faces.length, spec.faces.length);
    for (const p of spec.faces) {
      const [x0, x1] = [h! - p.top - p.size, h! - p.top];
      const [y0, y1] = [p.left, p.left + p.size];
      const hit = body.faces.find((f) => {
        const cx = f.box.x + f.box.width / 2;
        const cy = f.box.y + f.box.height / 2;
        return cx > x0 && cx < x1 && cy > y0 && cy < y1;
      });
      assert.ok(hit, `no face box centred in the chip pasted at (${p.left}, ${p.top}), now at (${x0}, ${y0})`);
    }
    const plain = PredictResponse.parse((await app.inject({ method: 'POST', url: '/v1/predict', payload: upright })).json());
    assert.equal(plain.turned, 0);
  });

  it('startServer with maxFaces: a photo with more faces answers the highest-scoring ones only, and how many it found', async () => {
    const { startServer } = await import('../../src/server/start.js');
    const running = await startServer({ model: fakeModel(), maxFaces: 2, port: 0, explainSamples: 0 });
    try {
      const payload = await readFile(new URL('many-faces.jpg', DIR));
      const all = PredictResponse.parse((await app.inject({ method: 'POST', url: '/v1/predict', payload })).json());
      const capped = PredictResponse.parse((await running.app.inject({ method: 'POST', url: '/v1/predict', payload })).json());
      assert.ok(all.faces.length > 2);
      assert.deepEqual(capped.faces.map((f) => f.score).sort(), all.faces.map((f) => f.score!).sort((a, b) => b - a).slice(0, 2).sort());
      assert.deepEqual([all.facesFound, capped.facesFound], [all.faces.length, all.faces.length], 'facesFound counts the faces cut too');
    } finally {
      await running.close();
    }
  });
});
