// Photo-like training copies: the degradations, their determinism, and the cache entries they make.
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { decodeImage } from '../../src/io/decode.js';
import type { RawImage } from '../../src/io/types.js';
import { initBackend } from '../../src/model/backend.js';
import { FaceRecEncoder, loadFaceApiWeights } from '../../src/model/encoder.js';
import { trainVariantSets } from '../../src/train/features.js';
import { ALIGNER_ERROR, degradeChip, PHOTO_DEGRADATIONS, photoAugmentFor, type PhotoAugment } from '../../src/train/photo-augment.js';
import { assertAugmentedCache } from '../helpers/augmented-cache.js';
import { pickChips } from '../helpers/train-fixtures.js';

const NONE: PhotoAugment = { grayscale: false, cast: null, blurSigma: 0, lowResolutionSide: 0, jpegQuality: 0, geometry: photoAugmentFor('x', 0).geometry };

/** Mean absolute difference per channel value. */
function meanDiff(a: RawImage, b: RawImage): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i]! - b.data[i]!);
  return s / a.data.length;
}

/** Mean absolute difference between horizontally adjacent pixels (high for sharp detail). */
function detail(a: RawImage): number {
  let s = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 1; x < a.width; x++) {
      s += Math.abs(a.data[(y * a.width + x) * 3]! - a.data[(y * a.width + x - 1) * 3]!);
      n++;
    }
  }
  return s / n;
}

describe('photo augmentation', () => {
  let chip: RawImage;
  before(async () => {
    await initBackend();
    const c = pickChips(1)[0]!;
    chip = await decodeImage(await readFile(c.source), c.source);
  });

  it('no degradation returns the same pixels; the input is never modified', async () => {
    const copy = Uint8Array.from(chip.data);
    const same = await degradeChip(chip, NONE);
    assert.deepEqual(Array.from(same.data), Array.from(chip.data));
    same.data[0] = (same.data[0]! + 1) % 256;
    assert.equal(chip.data[0], copy[0], 'the result is a copy, not a view of the input');
    await degradeChip(chip, { ...NONE, grayscale: true, blurSigma: 2, jpegQuality: 30 });
    assert.deepEqual(Array.from(chip.data), Array.from(copy));
  });

  it('each degradation does what it says, and keeps three channels and the size', async () => {
    const grey = await degradeChip(chip, { ...NONE, grayscale: true });
    assert.equal(grey.data.length, chip.width * chip.height * 3);
    for (let i = 0; i < grey.data.length; i += 3) assert.ok(grey.data[i] === grey.data[i + 1] && grey.data[i + 1] === grey.data[i + 2], 'grey pixels have equal channels');
    const blurred = await degradeChip(chip, { ...NONE, blurSigma: 2 });
    const small = await degradeChip(chip, { ...NONE, lowResolutionSide: 40 });
    assert.ok(detail(blurred) < 0.7 * detail(chip), `blur removes detail (${detail(blurred)} vs ${detail(chip)})`);
    assert.ok(detail(small) < 0.8 * detail(chip), `low resolution removes detail (${detail(small)} vs ${detail(chip)})`);
    assert.equal(small.width, chip.width);
    const jpeg = await degradeChip(chip, { ...NONE, jpegQuality: 25 });
    const d = meanDiff(jpeg, chip);
    assert.ok(d > 0.5 && d < 10, `JPEG at quality 25 changes pixels a little (${d})`);
    const red = await degradeChip(chip, { ...NONE, cast: [1.1, 1, 0.9] });
    const sum = (img: RawImage, c: number): number => img.data.reduce((s, v, i) => (i % 3 === c ? s + v : s), 0);
    assert.ok(sum(red, 0) > sum(chip, 0) && sum(red, 2) < sum(chip, 2), 'the cast raises red and lowers blue');
    assert.equal(sum(red, 1), sum(chip, 1), 'a gain of 1 leaves green alone');
    await assert.rejects(degradeChip({ ...chip, channels: 4, data: new Uint8Array(chip.width * chip.height * 4) }, NONE), /expected an RGB chip but received 4 channels/);
  });

  it('parameters come from the content hash and copy index, within the documented ranges and the measured aligner error', () => {
    assert.deepEqual(photoAugmentFor('abc', 0), photoAugmentFor('abc', 0));
    assert.notDeepEqual(photoAugmentFor('abc', 0), photoAugmentFor('abd', 0));
    const n = 2000;
    let grey = 0;
    let jpeg = 0;
    const angles: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = photoAugmentFor(`h${i}`, i % 2);
      assert.equal(p.geometry.flip, i % 2 === 1);
      if (p.grayscale) grey++;
      if (p.jpegQuality > 0) {
        jpeg++;
        assert.ok(p.jpegQuality >= PHOTO_DEGRADATIONS.jpeg.quality[0] && p.jpegQuality <= PHOTO_DEGRADATIONS.jpeg.quality[1]);
      }
      if (p.blurSigma > 0) assert.ok(p.blurSigma >= PHOTO_DEGRADATIONS.blur.sigma[0] && p.blurSigma <= PHOTO_DEGRADATIONS.blur.sigma[1]);
      const deg = (p.geometry.angle * 180) / Math.PI;
      assert.ok(Math.abs(deg - ALIGNER_ERROR.degrees.mean) <= 3 * ALIGNER_ERROR.degrees.sd + 1e-9, 'clipped at 3 sd');
      angles.push(deg);
    }
    assert.ok(Math.abs(grey / n - PHOTO_DEGRADATIONS.grayscale) < 0.04, `grayscale share ${grey / n}`);
    assert.ok(Math.abs(jpeg / n - PHOTO_DEGRADATIONS.jpeg.p) < 0.04, `JPEG share ${jpeg / n}`);
    const mean = angles.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(angles.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    assert.ok(Math.abs(sd - ALIGNER_ERROR.degrees.sd) < 0.3, `rotation sd ${sd} follows the measured ${ALIGNER_ERROR.degrees.sd}`);
  });

  it('a run reads the mirror set, then the jittered and photo-like copies it asked for', () => {
    assert.deepEqual(trainVariantSets({ jitter: false, photoAugment: false }), ['mirror']);
    assert.deepEqual(trainVariantSets({ jitter: false, photoAugment: true }), ['mirror', 'photo']);
    assert.deepEqual(trainVariantSets({ jitter: true, photoAugment: true }), ['mirror', 'jitter', 'photo']);
  });

  describe('feature cache, variant set "photo"', () => {
    let dir: string;
    let encoder: FaceRecEncoder;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'agegender-photo-aug-'));
      const w = await loadFaceApiWeights();
      encoder = new FaceRecEncoder(w, { cutPoint: 'conv256_down' });
      tf.dispose(Object.values(w));
    });
    after(async () => {
      encoder.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    it('writes two photo-like copies per chip in their own folder, reproducibly in any batch order', async () => {
      await assertAugmentedCache(encoder, dir, 'photo');

    });
  });
});
