// Cached jitter augmentation: the transform's geometry, its determinism, and the cache entries it makes.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/model/backend.js';
import { FaceRecEncoder, loadFaceApiWeights } from '../../src/model/encoder.js';
import { JITTER_RANGES, jitterChips, jitterFor, NO_JITTER, transformRow } from '../../src/train/jitter.js';
import { assertAugmentedCache } from '../helpers/augmented-cache.js';

/** A 1×h×w×3 float image whose pixel (x, y) holds (x, y, x + y). */
function ramp(w: number, h: number): tf.Tensor4D {
  const d = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.set([x, y, x + y], (y * w + x) * 3);
  return tf.tensor4d(d, [1, h, w, 3]);
}
const pixel = (t: tf.Tensor4D, x: number, y: number): number[] => Array.from(tf.slice(t, [0, y, x, 0], [1, 1, 1, 3]).dataSync());

describe('jitter', () => {
  before(async () => {
    await initBackend();
  });

  it('the identity jitter returns the chip unchanged', () => {
    const img = ramp(9, 7);
    const out = jitterChips(img, [NO_JITTER]);
    assert.deepEqual(Array.from(out.dataSync()), Array.from(img.dataSync()));
    tf.dispose([img, out]);
  });

  it('a shift moves the content by that fraction of the side; a quarter turn rotates about the centre', () => {
    const img = ramp(20, 20);
    const shifted = jitterChips(img, [{ ...NO_JITTER, dx: 0.1, dy: -0.05 }]);
    // content moves +2 px in x and −1 px in y: output (x, y) shows input (x − 2, y + 1)
    assert.deepEqual(pixel(shifted, 10, 5), [8, 6, 14]);
    assert.deepEqual(pixel(shifted, 0, 19), [0, 19, 19], 'pixels from outside repeat the edge');
    // 90°: output (x, y) samples input R·(p − c) + c with c = 9.5: (x, y) → (c − (y − c), c + (x − c)) = (19 − y, x)
    const row = transformRow({ ...NO_JITTER, angle: Math.PI / 2 }, 20, 20);
    assert.ok(Math.abs(row[2]! - 19) < 1e-9 && Math.abs(row[5]!) < 1e-9, `coefficients ${row.join(', ')}`);
    const turned = jitterChips(img, [{ ...NO_JITTER, angle: Math.PI / 2 }]);
    const p = pixel(turned, 3, 5);
    assert.ok(Math.abs(p[0]! - 14) < 1e-3 && Math.abs(p[1]! - 3) < 1e-3, `got ${p.join(', ')}`);
    // zoom 2 about the centre: output (x, y) shows input c + (p − c)/2
    const zoomed = jitterChips(img, [{ ...NO_JITTER, zoom: 2 }]);
    const z = pixel(zoomed, 19, 9);
    assert.ok(Math.abs(z[0]! - 14.25) < 1e-3 && Math.abs(z[1]! - 9.25) < 1e-3, `got ${z.join(', ')}`);
    tf.dispose([img, shifted, turned, zoomed]);
  });

  it('lighting is applied about mid-grey and clipped; a flipped jitter is the mirror of the same jitter unflipped', () => {
    const img = tf.fill([2, 4, 6, 3], 200) as tf.Tensor4D;
    const lit = jitterChips(img, [{ ...NO_JITTER, contrast: 0.5 }, { ...NO_JITTER, brightness: 0.5 }]);
    const v = lit.dataSync();
    assert.ok(Math.abs(v[0]! - (127.5 + 72.5 * 1.5)) < 1e-3, `contrast: ${v[0]}`);
    assert.equal(v[4 * 6 * 3], 255, 'brightness clips at 255');
    const r = tf.mul(ramp(8, 8), 15) as tf.Tensor4D; // 0…210: mid-range values, not clipped
    const j = { ...jitterFor('some-hash', 0), flip: false };
    const a = jitterChips(r, [j]);
    const b = jitterChips(r, [{ ...j, flip: true }]);
    assert.ok(tf.max(tf.abs(tf.sub(tf.reverse(a, 2), b))).dataSync()[0]! < 1e-4);
    assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! > 1, 'the mirror differs from the original');
    assert.throws(() => jitterChips(r, []), /0 jitters for a batch of 1/);
    tf.dispose([img, lit, r, a, b]);
  });

  it('parameters come from the content hash and copy index, within the documented ranges', () => {
    assert.deepEqual(jitterFor('abc', 0), jitterFor('abc', 0));
    assert.notDeepEqual(jitterFor('abc', 0), jitterFor('abd', 0));
    assert.notDeepEqual(jitterFor('abc', 0), { ...jitterFor('abc', 1), flip: false });
    for (let i = 0; i < 200; i++) {
      const j = jitterFor(`h${i}`, i % 2);
      assert.equal(j.flip, i % 2 === 1);
      assert.ok(Math.abs(j.angle) <= (JITTER_RANGES.degrees * Math.PI) / 180);
      assert.ok(j.zoom >= JITTER_RANGES.zoom[0] && j.zoom <= JITTER_RANGES.zoom[1]);
      assert.ok(Math.abs(j.dx) <= JITTER_RANGES.shift && Math.abs(j.dy) <= JITTER_RANGES.shift);
      assert.ok(Math.abs(j.brightness) <= JITTER_RANGES.brightness && Math.abs(j.contrast) <= JITTER_RANGES.contrast);
    }
  });

  describe('feature cache, variant set "jitter"', () => {
    let dir: string;
    let encoder: FaceRecEncoder;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'agegender-jitter-'));
      const w = await loadFaceApiWeights();
      encoder = new FaceRecEncoder(w, { cutPoint: 'conv256_down' });
      tf.dispose(Object.values(w));
    });
    after(async () => {
      encoder.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    it('writes two jittered copies per chip beside the mirror set, reproducibly', async () => {
      await assertAugmentedCache(encoder, dir, 'jitter');

    });
  });
});
