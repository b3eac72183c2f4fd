// Quarter turns (turn.ts) and the photo path's search for faces in photos stored sideways or upside
// down (analyze.ts `turns`), with the real face detector on a fixture photo turned in its pixels.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { AgeGenderError } from '../../src/core/errors.js';
import { decodeImage } from '../../src/io/decode.js';
import type { RawImage } from '../../src/io/types.js';
import { analyzeImage, detectFaces } from '../../src/pipeline/analyze.js';
import { loadFaceDetector, type FaceBox, type FaceDetector } from '../../src/pipeline/detect.js';
import { turnImage, unturnBox, unturnPoint, type QuarterTurn } from '../../src/pipeline/turn.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

const TURNS: QuarterTurn[] = [0, 90, 180, 270];

/** A 7×4 image (of `channels`), black but for one marked pixel. */
function marked(x: number, y: number, channels: 1 | 3): RawImage {
  const data = new Uint8Array(7 * 4 * channels);
  data[(y * 7 + x) * channels] = 255;
  return { data, width: 7, height: 4, channels };
}

function markOf(im: RawImage): { x: number; y: number } {
  for (let i = 0; i < im.width * im.height; i++) if (im.data[i * im.channels]! > 128) return { x: i % im.width, y: Math.floor(i / im.width) };
  throw new Error('no marked pixel');
}

function meanAbsDiff(a: RawImage, b: RawImage): number {
  assert.equal(a.data.length, b.data.length);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i]! - b.data[i]!);
  return s / a.data.length;
}

const centre = (b: FaceBox): { x: number; y: number } => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });

describe('quarter turns (pure)', () => {
  for (const turn of TURNS) {
    it(`turned ${turn}°: the marked pixel maps back to where it was; sides swap on quarter turns`, async () => {
      for (const channels of [1, 3] as const) {
        const im = marked(5, 1, channels);
        const t = await turnImage(im, turn);
        assert.deepEqual([t.width, t.height], turn % 180 === 0 ? [7, 4] : [4, 7]);
        assert.equal(t.data.length, t.width * t.height * t.channels, 'channel count matches the buffer');
        assert.deepEqual(unturnPoint(markOf(t), turn, 7, 4), { x: 5, y: 1 });
        // the box around the marked pixel (pixel centres at integer positions)
        const box = unturnBox({ x: markOf(t).x - 0.5, y: markOf(t).y - 0.5, width: 1, height: 1 }, turn, 7, 4);
        assert.deepEqual(box, { x: 4.5, y: 0.5, width: 1, height: 1 });
      }
    });
  }
  it('a turn and its opposite give back the same pixels; the input is not modified', async () => {
    const im = marked(2, 3, 3);
    const copy = new Uint8Array(im.data);
    const back = await turnImage(await turnImage(im, 90), 270);
    assert.deepEqual([back.width, back.height], [7, 4]);
    assert.deepEqual(back.data, im.data);
    assert.deepEqual(im.data, copy);
  });
  it('refuses a turn that is not a quarter turn', async () => {
    await assert.rejects(turnImage(marked(0, 0, 3), 45 as QuarterTurn), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /quarter turn/.test(e.message));
    assert.throws(() => unturnPoint({ x: 0, y: 0 }, 45 as QuarterTurn, 7, 4), /quarter turn/);
  });
});

describe('photos stored turned (real detector)', () => {
  let detector: FaceDetector;
  let upright: RawImage;
  before(async () => {
    detector = await loadFaceDetector();
    upright = await decodeImage(await readFile(new URL('../fixtures/photos/three-faces.jpg', import.meta.url)), 'three-faces.jpg');
  });
  after(() => detector.dispose());

  for (const stored of [90, 180, 270] as const) {
    it(`stored turned ${stored}°: the faces are found, boxed in the stored pixels, and cut upright`, async () => {
      const ref = await analyzeImage(fakeModel(), detector, upright, { detect: true });
      const photo = await turnImage(upright, stored);
      const got = await analyzeImage(fakeModel(), detector, photo, { detect: true });
      assert.equal(got.turned, (360 - stored) % 360);
      assert.equal(got.faces.length, ref.faces.length);
      for (const r of ref.faces) {
        // where the upright face lies in the stored photo: the stored photo turned back is the upright one
        const want = unturnPoint(centre(r.box), ((360 - stored) % 360) as QuarterTurn, photo.width, photo.height);
        const face = got.faces.find((f) => Math.hypot(centre(f.box).x - want.x, centre(f.box).y - want.y) < 0.1 * r.box.width);
        assert.ok(face, `no face near (${want.x.toFixed(0)}, ${want.y.toFixed(0)})`);
        assert.ok(Math.abs(face.box.width * face.box.height - r.box.width * r.box.height) < 0.05 * r.box.width * r.box.height);
        assert.ok(meanAbsDiff(face.chip, r.chip) < 3, `chip differs from the upright photo's by ${meanAbsDiff(face.chip, r.chip).toFixed(1)} levels`);
        assert.ok(Math.abs(face.prediction.age - r.prediction.age) < 0.5);
      }
    });
  }
  it('a photo tilted by 40° is never taken upside down: it ends within 45° of upright', async () => {
    for (const file of ['three-faces.jpg', 'many-faces.jpg']) {
      for (const tilt of [40, -40]) {
        const bytes = await sharp(new URL(`../fixtures/photos/${file}`, import.meta.url).pathname).rotate(tilt, { background: '#777777' }).jpeg().toBuffer();
        const { faces, turned = 0 } = await detectFaces(detector, await decodeImage(bytes, file));
        assert.ok(faces.length > 0, `${file} at ${tilt}°: no face`);
        assert.ok([0, tilt > 0 ? 270 : 90].includes(turned), `${file} tilted ${tilt}°: taken turned ${turned}°`);
      }
    }
  });

  it('detectFaces: an upright photo comes back unturned; `turns: false` skips the search on a sideways one', async () => {
    const up = await detectFaces(detector, upright);
    assert.equal(up.turned, undefined);
    assert.equal(up.faces.length, 3);
    const sideways = await turnImage(upright, 90);
    assert.equal((await detectFaces(detector, sideways)).turned, 270);
    assert.equal((await detectFaces(detector, sideways, { turns: false })).turned, undefined);
  });
});
