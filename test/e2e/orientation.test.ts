// EXIF orientation: a photo stored in any of the 8 orientations (the pixels transformed, the tag
// saying how to undo it) is analysed upright, with the shipped model and the real face detector:
// same boxes in the upright image's coordinates and the same predictions.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { decodeImage } from '../../src/io/decode.js';
import { buildServer } from '../../src/server/app.js';
import { PredictResponse } from '../../src/server/schemas.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import { loadModel } from '../../src/model/index.js';
import { analyzeImage, type AnalyzeResult } from '../../src/pipeline/analyze.js';
import { loadFaceDetector, type FaceDetector } from '../../src/pipeline/detect.js';

const PHOTO = new URL('../fixtures/photos/three-faces.jpg', import.meta.url).pathname;

/**
 * The stored pixels of a file tagged `orientation` whose upright view is `upright`: the inverse of
 * the transform a viewer applies for that tag (1 none, 2 mirror, 3 rotate 180, 4 flip, 5 transpose,
 * 6 rotate 90 CW, 7 transverse, 8 rotate 270 CW).
 */
function stored(upright: Sharp, orientation: number): Sharp {
  switch (orientation) {
    case 1: return upright;
    case 2: return upright.flop();
    case 3: return upright.rotate(180);
    case 4: return upright.flip();
    case 5: return upright.rotate(270).flop();
    case 6: return upright.rotate(270);
    case 7: return upright.rotate(90).flop();
    case 8: return upright.rotate(90);
    default: throw new Error(`no orientation ${orientation}`);
  }
}

/** Lossless WebP files (so the upright pixels are exactly the same) tagged with each orientation. */
async function orientedFiles(): Promise<{ upright: { data: Buffer; width: number; height: number }; files: Buffer[] }> {
  const { data, info } = await sharp(PHOTO).raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: 3 as const } };
  const files: Buffer[] = [];
  for (let o = 1; o <= 8; o++) {
    const px = await stored(sharp(data, raw), o).raw().toBuffer({ resolveWithObject: true });
    const rawPx = { raw: { width: px.info.width, height: px.info.height, channels: 3 as const } };
    files.push(await sharp(px.data, rawPx).webp({ lossless: true }).withMetadata({ orientation: o }).toBuffer());
  }
  return { upright: { data, width: info.width, height: info.height }, files };
}

describe('EXIF orientation (shipped model, real detector)', () => {
  let model: AgeGenderModel;
  let detector: FaceDetector;
  let files: Buffer[];
  let upright: { data: Buffer; width: number; height: number };
  before(async () => {
    model = await loadModel();
    detector = await loadFaceDetector();
    ({ files, upright } = await orientedFiles());
  });
  after(() => {
    model.dispose();
    detector.dispose();
  });

  it('the 8 files really are stored differently, and every one decodes to the upright pixels', async () => {
    for (let o = 1; o <= 8; o++) {
      const meta = await sharp(files[o - 1]).metadata();
      assert.equal(meta.orientation, o);
      assert.equal(meta.width, o >= 5 ? upright.height : upright.width, `orientation ${o}: stored width`);
      const d = await decodeImage(files[o - 1]!, `orientation-${o}.webp`);
      assert.deepEqual([d.width, d.height], [upright.width, upright.height], `orientation ${o}`);
      assert.ok(Buffer.from(d.data).equals(upright.data), `orientation ${o}: pixels differ from the upright photo`);
    }
  });

  it('all 8 orientations give the same boxes (upright coordinates, ±0.5 px) and predictions (±0.5 years, same gender)', async () => {
    const results: AnalyzeResult[] = [];
    for (let o = 1; o <= 8; o++) {
      results.push(await analyzeImage(model, detector, await decodeImage(files[o - 1]!, `orientation-${o}.webp`), { detect: true }));
    }
    const ref = results[0]!;
    assert.equal(ref.faces.length, 3, 'the fixture has three faces');
    results.forEach((r, i) => {
      const o = i + 1;
      assert.equal(r.faces.length, ref.faces.length, `orientation ${o}: faces found`);
      r.faces.forEach((f, k) => {
        const g = ref.faces[k]!;
        for (const key of ['x', 'y', 'width', 'height'] as const) {
          assert.ok(Math.abs(f.box[key] - g.box[key]) <= 0.5, `orientation ${o}, face ${k}: box.${key} ${f.box[key]} vs ${g.box[key]}`);
        }
        const eyes = (d: typeof f.detection): number[] => (d ? [d.leftEye.x, d.leftEye.y, d.rightEye.x, d.rightEye.y] : []);
        eyes(f.detection).forEach((v, j) => assert.ok(Math.abs(v - eyes(g.detection)[j]!) <= 0.5, `orientation ${o}, face ${k}: eye coordinate ${j}`));
        assert.ok(Math.abs(f.prediction.age - g.prediction.age) <= 0.5, `orientation ${o}, face ${k}: age ${f.prediction.age} vs ${g.prediction.age}`);
        assert.equal(f.prediction.gender, g.prediction.gender, `orientation ${o}, face ${k}: gender`);
      });
    });
  });

  it('a sideways JPEG (orientation 6, as phones save it) is analysed upright: the three faces, where they are upright', async () => {
    const { data, info } = await sharp(PHOTO).raw().toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: info.width, height: info.height, channels: 3 as const } };
    const px = await stored(sharp(data, raw), 6).raw().toBuffer({ resolveWithObject: true });
    const jpeg = await sharp(px.data, { raw: { width: px.info.width, height: px.info.height, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const ref = await analyzeImage(model, detector, await decodeImage(files[0]!, 'upright.webp'), { detect: true });
    const r = await analyzeImage(model, detector, await decodeImage(jpeg, 'sideways.jpg'), { detect: true });
    assert.deepEqual([r.width, r.height], [info.width, info.height]);
    assert.equal(r.faces.length, 3);
    r.faces.forEach((f, k) => {
      const g = ref.faces[k]!;
      assert.ok(Math.abs(f.box.x - g.box.x) < 4 && Math.abs(f.box.y - g.box.y) < 4, `face ${k}: box ${JSON.stringify(f.box)} vs ${JSON.stringify(g.box)}`);
      assert.ok(Math.abs(f.prediction.age - g.prediction.age) <= 1.5, `face ${k}: age ${f.prediction.age} vs ${g.prediction.age}`);
      assert.equal(f.prediction.gender, g.prediction.gender, `face ${k}: gender`);
    });
  });

  it('HTTP: the API answers in upright coordinates for every orientation', async () => {
    const app = await buildServer({ model, detector });
    try {
      const boxes: Array<Array<{ x: number; y: number; width: number; height: number }>> = [];
      for (let o = 1; o <= 8; o++) {
        const res = await app.inject({ method: 'POST', url: '/v1/predict', payload: files[o - 1]! });
        assert.equal(res.statusCode, 200, res.body);
        const body = PredictResponse.parse(res.json());
        assert.deepEqual([body.width, body.height], [upright.width, upright.height], `orientation ${o}`);
        boxes.push(body.faces.map((f) => f.box));
      }
      assert.equal(boxes[0]!.length, 3);
      boxes.forEach((b, i) => b.forEach((box, k) => {
        for (const key of ['x', 'y', 'width', 'height'] as const) {
          assert.ok(Math.abs(box[key] - boxes[0]![k]![key]) <= 0.5, `orientation ${i + 1}, face ${k}: box.${key}`);
        }
      }));
    } finally {
      await app.close();
    }
  });
});
