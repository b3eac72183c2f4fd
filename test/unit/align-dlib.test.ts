// The dlib-style cut of the refinement pass: dlib's mean face, the shipped 68-point template, the
// least-squares fit over landmarks 17–67, and face-api's 68-point net on real UTKFace chips (which
// dlib's get_face_chip cut, so the fit must come back close to the identity).
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../../src/core/errors.js';
import { decodeImage } from '../../src/io/decode.js';
import type { RawImage } from '../../src/io/types.js';
import { applySimilarity, composeSimilarity, invertSimilarity, type Similarity } from '../../src/pipeline/align.js';
import { DLIB_FIRST_LANDMARK, dlibChipToImage, dlibMeanFace, dlibTemplate, parseDlibTemplate, readDlibTemplate } from '../../src/pipeline/align-dlib.js';
import { loadFaceDetector, type FaceDetector } from '../../src/pipeline/detect.js';
import { lazyLandmarks68, loadLandmarks68, sharedLandmarks68, type Landmarks68 } from '../../src/pipeline/landmarks68.js';

const DIR = new URL('../fixtures/photos/', import.meta.url);
const photo = async (file: string): Promise<RawImage> => decodeImage(await readFile(new URL(file, DIR)), file);
/** Largest distance between where `s` and `t` send the corners of a `size` chip. */
const cornerError = (s: Similarity, t: Similarity, size: number): number =>
  Math.max(...[[0, 0], [size, 0], [0, size], [size, size]].map(([x, y]) => {
    const p = applySimilarity(s, { x: x!, y: y! });
    const q = applySimilarity(t, { x: x!, y: y! });
    return Math.hypot(p.x - q.x, p.y - q.y);
  }));
const IDENTITY: Similarity = { a: 1, b: 0, tx: 0, ty: 0 };

describe('dlib-style chip cut (align-dlib)', () => {
  it("places dlib's mean face inside the chip at padding 0.2, eyes level and mirror-symmetric", () => {
    const m = dlibMeanFace(200, 0.2);
    assert.equal(m.length, 68 - DLIB_FIRST_LANDMARK);
    for (const p of m) assert.ok(p.x > 200 * (0.2 / 1.4) - 1e-6 && p.x < 200 * (1.2 / 1.4) + 1e-6 && p.y > 0 && p.y < 200, `${p.x}, ${p.y}`);
    // iBUG 36 and 45 (outer eye corners) are level and symmetric about the vertical midline
    const l = m[36 - DLIB_FIRST_LANDMARK]!;
    const r = m[45 - DLIB_FIRST_LANDMARK]!;
    assert.ok(Math.abs(l.y - r.y) < 1e-6 && Math.abs(l.x + r.x - 2 * m[30 - DLIB_FIRST_LANDMARK]!.x) < 1e-3);
  });

  it('recovers a known similarity from 68 landmarks and ignores the jaw line (0–16)', () => {
    const t = { size: 200, points: dlibMeanFace(200, 0.2) };
    const s: Similarity = { a: 1.7 * Math.cos(0.25), b: 1.7 * Math.sin(0.25), tx: 140, ty: -30 };
    const jaw = Array.from({ length: DLIB_FIRST_LANDMARK }, (_, i) => ({ x: 1000 + i * 37, y: -500 }));
    const fitted = dlibChipToImage(t, [...jaw, ...t.points.map((p) => applySimilarity(s, p))], 200);
    assert.ok(cornerError(fitted, s, 200) < 1e-6);
    // a 100-px chip: the same face fills the smaller frame
    const half = dlibChipToImage(t, [...jaw, ...t.points.map((p) => applySimilarity(s, p))], 100);
    assert.ok(Math.abs(Math.hypot(half.a, half.b) - 3.4) < 1e-9);
    assert.throws(() => dlibChipToImage(t, t.points, 200), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /68 landmarks/.test(e.message));
  });

  it('applies the shape correction: none for the template\'s own shape, the predicted error undone otherwise, the same in any frame and chip size', () => {
    const points = dlibMeanFace(200, 0.2);
    const jaw = Array.from({ length: DLIB_FIRST_LANDMARK }, () => ({ x: 0, y: 0 }));
    // a correction that reads one number of the shape: point 0's x residual → a shift of 0.5 px per px
    const correction = Array.from({ length: 2 * points.length }, (_, i) => (i === 0 ? [0, 0, 0.5, 0] : [0, 0, 0, 0]));
    const t = { size: 200, points, correction };
    const s: Similarity = { a: 1.3 * Math.cos(-0.4), b: 1.3 * Math.sin(-0.4), tx: 60, ty: 210 };
    // the template's own shape has no residual: the plain fit, exactly
    assert.ok(cornerError(dlibChipToImage(t, [...jaw, ...points.map((p) => applySimilarity(s, p))], 200), s, 200) < 1e-6);
    // point 0 moved 4 px right: the plain fit leans towards it, the correction moves the frame back
    const moved = points.map((p, i) => (i === 0 ? { x: p.x + 4, y: p.y } : p));
    const plain = dlibChipToImage({ size: 200, points }, [...jaw, ...moved], 200);
    const corrected = dlibChipToImage(t, [...jaw, ...moved], 200);
    const dx = applySimilarity(invertSimilarity(plain), moved[0]!).x - points[0]!.x; // point 0's residual in the template's frame
    assert.ok(dx > 3 && dx < 4, `residual ${dx}`);
    // predicted error E: a shift of 0.5·dx template px; the result is plain ∘ E⁻¹
    assert.ok(cornerError(corrected, composeSimilarity(plain, { a: 1, b: 0, tx: -0.5 * dx, ty: 0 }), 200) < 1e-9);
    assert.ok(cornerError(corrected, plain, 200) > 1);
    // equivariant: the same face turned, scaled and shifted in the image gives the same frame, turned with it
    const inImage = dlibChipToImage(t, [...jaw, ...moved.map((p) => applySimilarity(s, p))], 200);
    assert.ok(cornerError(inImage, composeSimilarity(s, corrected), 200) < 1e-6);
    // a correction predicting an implausible error (here 400% of scale) keeps the plain fit
    const wild = { size: 200, points, correction: Array.from({ length: 2 * points.length }, (_, i) => (i === 0 ? [1, 0, 0, 0] : [0, 0, 0, 0])) };
    assert.ok(cornerError(dlibChipToImage(wild, [...jaw, ...moved], 200), plain, 200) < 1e-9);
    // a 100-px chip is the same frame at half the resolution
    const half = dlibChipToImage(t, [...jaw, ...moved], 100);
    assert.ok(cornerError({ a: half.a / 2, b: half.b / 2, tx: half.tx, ty: half.ty }, corrected, 200) < 1e-6);
    assert.throws(() => parseDlibTemplate(JSON.stringify({ size: 200, points: points.map((p) => [p.x, p.y]), correction: [[0, 0, 0, 0]] }), 'x.json'), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_INVALID' && /correction needs 102 rows of 4 numbers/.test(e.message));
    // a template object built by hand with a correction of the wrong shape: an error, not a NaN frame (a black chip)
    for (const bad of [correction.slice(1), correction.map((r) => r.slice(0, 3))]) {
      assert.throws(() => dlibChipToImage({ size: 200, points, correction: bad }, [...jaw, ...moved], 200), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /correction of 102 rows of 4 numbers/.test(e.message));
    }
  });

  it('ships a template near the mean face (face-api vs dlib landmarks: a few px) and validates template files', () => {
    const t = dlibTemplate();
    assert.ok(t, 'models/detector/chip-template-68.json is in the package');
    assert.equal(t.size, 200);
    const m = dlibMeanFace(200, 0.2);
    const mean = t.points.reduce((s, p, i) => s + Math.hypot(p.x - m[i]!.x, p.y - m[i]!.y), 0) / m.length;
    assert.ok(mean > 0.5 && mean < 6, `mean offset ${mean} px`);
    const bad = (text: string, pattern: RegExp): void =>
      assert.throws(() => parseDlibTemplate(text, 'x/chip-template-68.json'), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_INVALID' && pattern.test(e.message) && e.subject === 'x/chip-template-68.json');
    bad('{', /not valid JSON/);
    bad(JSON.stringify({ size: 200, points: [[1, 2]] }), /51 \[x, y\] points/);
    bad(JSON.stringify({ size: -1, points: m.map((p) => [p.x, p.y]) }), /positive size/);
    // JSON that is not an object, and a size that parses to Infinity: the same clear error, not a TypeError
    bad('null', /positive size and 51 \[x, y\] points/);
    bad(`{"size": 1e999, "points": ${JSON.stringify(m.map((p) => [p.x, p.y]))}}`, /positive size/);
    // a package without the file has no template (the five-point fit); a file that is there but cannot be read is an error, not a silent fallback
    assert.equal(readDlibTemplate(fileURLToPath(new URL('no-such-template.json', DIR))), null);
    const folder = fileURLToPath(DIR);
    assert.throws(() => readDlibTemplate(folder), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_NOT_LOADED' && e.subject === folder && /cannot read the 68-point chip template/.test(e.message));
  });

  describe('with the real detector and the 68-point net', () => {
    let detector: FaceDetector;
    let net: Landmarks68;
    before(async () => {
      detector = await loadFaceDetector();
      net = await loadLandmarks68();
    });
    after(() => {
      detector.dispose();
      net.dispose();
    });

    it("cuts UTKFace chips (dlib get_face_chip crops) back to their own frame, within a few pixels", async () => {
      const t = dlibTemplate()!;
      for (const file of ['24_0_2_20170116170633399.jpg.chip.jpg', '35_0_0_20170117203240562.jpg.chip.jpg', '6_1_0_20170109194207894.jpg.chip.jpg']) {
        const chip = await photo(`chips/${file}`);
        const [face] = await detector.detect(chip);
        assert.ok(face, `${file}: a face`);
        const points = await net.locate(chip, face.box);
        assert.ok(points && points.length === 68, `${file}: 68 landmarks`);
        for (const p of points) assert.ok(p.x > -20 && p.x < 220 && p.y > -20 && p.y < 220, `${file}: landmark ${p.x}, ${p.y} on the chip`);
        const error = cornerError(dlibChipToImage(t, points, 200), IDENTITY, 200);
        assert.ok(error < 10, `${file}: chip corners ${error.toFixed(1)} px from the chip's own`);
      }
    });

    it('finds the pasted chip in a photo: the fit is the paste (shift and scale) in photo pixels', async () => {
      const specs = JSON.parse(await readFile(new URL('photos.json', DIR), 'utf8')) as Array<{ file: string; faces: Array<{ left: number; top: number; size: number }> }>;
      const spec = specs.find((s) => s.file === 'three-faces.jpg')!;
      const image = await photo(spec.file);
      const t = dlibTemplate()!;
      for (const place of spec.faces) {
        const face = (await detector.detect(image)).find((f) => Math.abs(f.box.x + f.box.width / 2 - (place.left + place.size / 2)) < place.size / 4);
        assert.ok(face, `face at ${place.left}, ${place.top}`);
        const points = await net.locate(image, face.box);
        assert.ok(points);
        const k = place.size / 200;
        const error = cornerError(dlibChipToImage(t, points, 200), { a: k, b: 0, tx: place.left, ty: place.top }, 200);
        assert.ok(error < 10 * k + 2, `paste at ${place.left}, ${place.top} (${place.size} px): corners ${error.toFixed(1)} px off`);
      }
    });

    it('returns null for a box too small to read', async () => {
      const chip = await photo('chips/24_0_2_20170116170633399.jpg.chip.jpg');
      assert.equal(await net.locate(chip, { x: 10, y: 10, width: 5, height: 5 }), null);
    });
  });

  describe('who frees the 68-point net', () => {
    const chipFile = 'chips/24_0_2_20170116170633399.jpg.chip.jpg';
    const disposedError = (e: unknown): boolean => e instanceof AgeGenderError && e.code === 'MODEL_NOT_LOADED';

    it("a detector's landmarks68() is loaded once, works, and its dispose() gives the tensors back (yunet and ssd)", async () => {
      const chip = await photo(chipFile);
      for (const which of ['yunet', 'ssd'] as const) {
        const before = tf.memory().numTensors;
        const detector = await loadFaceDetector({ detector: which });
        const net = await detector.landmarks68!();
        assert.equal(await detector.landmarks68!(), net, `${which}: one net per detector`);
        assert.equal((await net.locate(chip, { x: 20, y: 20, width: 160, height: 160 }))?.length, 68);
        detector.dispose();
        assert.equal(tf.memory().numTensors, before, `${which}: tensors left`);
        await assert.rejects(detector.landmarks68!(), disposedError);
      }
    });

    it('sharedLandmarks68(): dispose() gives the tensors back and the next call loads a working net', async () => {
      const chip = await photo(chipFile);
      const before = tf.memory().numTensors;
      const first = await sharedLandmarks68();
      assert.equal(await sharedLandmarks68(), first);
      first.dispose();
      assert.equal(tf.memory().numTensors, before);
      const second = await sharedLandmarks68();
      assert.notEqual(second, first);
      assert.equal((await second.locate(chip, { x: 20, y: 20, width: 160, height: 160 }))?.length, 68);
      first.dispose(); // a stale handle does not touch the new net
      assert.equal((await (await sharedLandmarks68()).locate(chip, { x: 20, y: 20, width: 160, height: 160 }))?.length, 68);
      second.dispose();
      assert.equal(tf.memory().numTensors, before);
    });

    it('lazyLandmarks68: loads on the first get(), and a net still loading at dispose() is disposed when it arrives', async () => {
      const disposed: string[] = [];
      const fake = (name: string): Landmarks68 => ({ locate: () => Promise.resolve(null), dispose: () => void disposed.push(name) });
      let loads = 0;
      const lazy = lazyLandmarks68(() => Promise.resolve(fake(`net ${++loads}`)));
      assert.equal(loads, 0);
      await Promise.all([lazy.get(), lazy.get()]);
      assert.equal(loads, 1);
      lazy.dispose();
      assert.deepEqual(disposed, ['net 1'], 'a loaded net is disposed at once');
      await assert.rejects(lazy.get(), disposedError);

      let arrive: (net: Landmarks68) => void = () => undefined;
      const slow = lazyLandmarks68(() => new Promise<Landmarks68>((resolve) => (arrive = resolve)));
      const pending = slow.get();
      slow.dispose();
      arrive(fake('slow'));
      await pending;
      assert.deepEqual(disposed, ['net 1', 'slow']);
    });
  });
});
