// detect → align → analyze on the test photos (UTKFace chips pasted on a background at known
// places and scales, see test/fixtures/photos/make-photos.ts), with the real face detector on wasm.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { AgeGenderError } from '../../src/core/errors.js';
import { decodeImage } from '../../src/io/decode.js';
import type { RawImage } from '../../src/io/types.js';
import { alignFace, chipTemplate, chipToImageTransform, UTKFACE_TEMPLATE } from '../../src/pipeline/align.js';
import { analyzeImage } from '../../src/pipeline/analyze.js';
import { loadFaceDetector, type FaceBox, type FaceDetector } from '../../src/pipeline/detect.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

interface Placement {
  chip: string;
  left: number;
  top: number;
  size: number;
}
interface PhotoSpec {
  file: string;
  width: number;
  height: number;
  faces: Placement[];
}

const DIR = new URL('../fixtures/photos/', import.meta.url);
const specs = JSON.parse(await readFile(new URL('photos.json', DIR), 'utf8')) as PhotoSpec[];

async function photo(file: string): Promise<RawImage> {
  return decodeImage(await readFile(new URL(file, DIR)), file);
}

/** Share of the detected box that lies inside the pasted chip's square. */
function insideShare(box: FaceBox, p: Placement): number {
  const ix = Math.max(0, Math.min(box.x + box.width, p.left + p.size) - Math.max(box.x, p.left));
  const iy = Math.max(0, Math.min(box.y + box.height, p.top + p.size) - Math.max(box.y, p.top));
  return (ix * iy) / (box.width * box.height);
}

/** Matches each placement to the detection lying most inside it; asserts one-to-one. */
function assertBoxesNearPlacements(boxes: FaceBox[], placements: Placement[]): void {
  assert.equal(boxes.length, placements.length, `found ${boxes.length} faces, pasted ${placements.length}`);
  const used = new Set<number>();
  for (const p of placements) {
    let best = -1;
    let bestShare = 0;
    boxes.forEach((b, i) => {
      const s = insideShare(b, p);
      if (!used.has(i) && s > bestShare) {
        best = i;
        bestShare = s;
      }
    });
    assert.ok(best >= 0 && bestShare >= 0.7, `${p.chip} at (${p.left}, ${p.top}) size ${p.size}: best box only ${(bestShare * 100).toFixed(0)}% inside`);
    used.add(best);
    const b = boxes[best]!;
    assert.ok(b.width > 0.4 * p.size && b.width < 1.3 * p.size, `${p.chip}: box width ${b.width.toFixed(0)} vs chip ${p.size}`);
  }
}

describe('align (pure geometry)', () => {
  it('maps the template eyes onto the detected eyes, whatever the rotation and scale', () => {
    const eyes = { leftEye: { x: 300, y: 220 }, rightEye: { x: 380, y: 260 } };
    const map = chipToImageTransform(eyes);
    const l = map(UTKFACE_TEMPLATE.leftEye.x, UTKFACE_TEMPLATE.leftEye.y);
    const r = map(UTKFACE_TEMPLATE.rightEye.x, UTKFACE_TEMPLATE.rightEye.y);
    assert.ok(Math.hypot(l.x - 300, l.y - 220) < 1e-9);
    assert.ok(Math.hypot(r.x - 380, r.y - 260) < 1e-9);
  });

  it('an already aligned chip comes back (almost) unchanged', () => {
    const size = 200;
    const data = new Uint8Array(size * size * 3);
    for (let i = 0; i < size * size; i++) {
      data[i * 3] = i % size;
      data[i * 3 + 1] = Math.floor(i / size);
      data[i * 3 + 2] = 128;
    }
    const chip: RawImage = { data, width: size, height: size, channels: 3 };
    const out = alignFace(chip, { leftEye: { ...UTKFACE_TEMPLATE.leftEye }, rightEye: { ...UTKFACE_TEMPLATE.rightEye } });
    assert.equal(out.width, 200);
    assert.equal(out.height, 200);
    let maxDiff = 0;
    for (let i = 0; i < data.length; i++) maxDiff = Math.max(maxDiff, Math.abs((out.data[i] ?? 0) - (data[i] ?? 0)));
    assert.ok(maxDiff <= 1, `max difference ${maxDiff}`);
  });

  it('validates the size option', () => {
    const chip: RawImage = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
    assert.throws(() => alignFace(chip, { leftEye: { x: 0, y: 0 }, rightEye: { x: 1, y: 0 } }, { size: 0 }), /size/);
  });
});

describe('face detection on test photos', () => {
  let detector: FaceDetector;
  before(async () => {
    detector = await loadFaceDetector();
  });
  after(() => detector.dispose());

  for (const spec of specs) {
    it(`${spec.file}: finds the ${spec.faces.length} pasted faces near where they were put`, async () => {
      const image = await photo(spec.file);
      const faces = await detector.detect(image);
      assertBoxesNearPlacements(faces.map((f) => f.box), spec.faces);
      for (const f of faces) {
        assert.ok(f.score >= 0.5 && f.score <= 1);
        // Eyes inside the box, left of right, mouth below them.
        assert.ok(f.leftEye.x < f.rightEye.x);
        assert.ok(f.mouth.y > Math.max(f.leftEye.y, f.rightEye.y));
        assert.ok(f.leftEye.x > f.box.x && f.rightEye.x < f.box.x + f.box.width);
      }
    });
  }

  it('the TF.js detector (ssd) finds the same faces and does not leak tensors', async () => {
    const ssd = await loadFaceDetector({ detector: 'ssd' });
    try {
      const image = await photo('three-faces.jpg');
      const first = await ssd.detect(image);
      const before = tf.memory().numTensors;
      await ssd.detect(image);
      assert.equal(tf.memory().numTensors, before);
      assertBoxesNearPlacements(first.map((f) => f.box), specs.find((s) => s.file === 'three-faces.jpg')!.faces);
      assert.ok(first.every((f) => f.landmarks?.length === 5));
    } finally {
      ssd.dispose();
    }
  });

  it('both detectors cut at maxFaces, keeping the highest-scoring, and count the faces they cut', async () => {
    const image = await photo('three-faces.jpg');
    for (const which of ['yunet', 'ssd'] as const) {
      const [all, two] = await Promise.all([loadFaceDetector({ detector: which }), loadFaceDetector({ detector: which, maxFaces: 2 })]);
      try {
        const every = await all.detectCounted!(image);
        const cut = await two.detectCounted!(image);
        assert.deepEqual([every.faces.length, every.found], [3, 3], which);
        assert.deepEqual([cut.faces.length, cut.found], [2, 3], which);
        assert.deepEqual(cut.faces.map((f) => f.score), every.faces.slice(0, 2).map((f) => f.score), `${which}: the two best`);
        assert.deepEqual(await two.detect(image), cut.faces);
      } finally {
        all.dispose();
        two.dispose();
      }
    }
  });

  it('aligned chips put the eyes where UTKFace chips have them', async () => {
    const image = await photo('three-faces.jpg');
    const { faces } = await analyzeImage(fakeModel(), detector, image, { detect: true });
    for (const f of faces) {
      const { chip } = f;
      // The detector run on the aligned chip (padded) should find the five landmarks near the template
      // (RMS < 10 px: YuNet's landmarks move by a few pixels between runs on near-identical faces).
      const pad = 100;
      const size = 200 + 2 * pad;
      const data = new Uint8Array(size * size * 3).fill(128);
      for (let y = 0; y < 200; y++) data.set(chip.data.subarray(y * 600, (y + 1) * 600), ((y + pad) * size + pad) * 3);
      const again = await detector.detect({ data, width: size, height: size, channels: 3 });
      assert.equal(again.length, 1);
      const a = again[0]!;
      const t = chipTemplate().points;
      const rms = Math.sqrt(a.landmarks!.reduce((s, p, i) => s + (p.x - pad - t[i]!.x) ** 2 + (p.y - pad - t[i]!.y) ** 2, 0) / 5);
      assert.ok(rms < 10, `landmarks ${rms.toFixed(1)} px from the template: ${JSON.stringify(a.landmarks)}`);
    }
  });

  it('aligned chips recover the original UTKFace chips pasted into three-faces.jpg (better than a box crop)', async () => {
    const spec = specs.find((s) => s.file === 'three-faces.jpg')!;
    const image = await photo(spec.file);
    const { faces } = await analyzeImage(fakeModel(), detector, image, { detect: true });
    for (const p of spec.faces) {
      const face = faces.find((f) => {
        const cx = f.box.x + f.box.width / 2;
        const cy = f.box.y + f.box.height / 2;
        return cx > p.left && cx < p.left + p.size && cy > p.top && cy < p.top + p.size;
      });
      assert.ok(face, p.chip);
      const original = await photo(`chips/${p.chip}`);
      const aligned = face.chip;
      const { box } = face;
      const crop = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
        .extract({ left: Math.max(0, Math.round(box.x)), top: Math.max(0, Math.round(box.y)), width: Math.round(box.width), height: Math.round(box.height) })
        .resize(200, 200, { fit: 'fill' })
        .raw()
        .toBuffer();
      let alignedErr = 0;
      let cropErr = 0;
      for (let i = 0; i < original.data.length; i++) {
        alignedErr += Math.abs((aligned.data[i] ?? 0) - (original.data[i] ?? 0));
        cropErr += Math.abs((crop[i] ?? 0) - (original.data[i] ?? 0));
      }
      alignedErr /= original.data.length;
      cropErr /= original.data.length;
      // < 22: a chip whose face is smaller than the template's (as this fixture's 24_0_2…) comes back zoomed in
      assert.ok(alignedErr < 22, `${p.chip}: mean absolute difference ${alignedErr.toFixed(1)} (box crop ${cropErr.toFixed(1)})`);
      assert.ok(alignedErr < cropErr, `${p.chip}: aligned ${alignedErr.toFixed(1)} vs box crop ${cropErr.toFixed(1)}`);
    }
  });

  it('analyzeImage: one prediction per face, on a 200×200 chip each; detect=false takes the image as one chip', async () => {
    const model = fakeModel();
    const image = await photo('many-faces.jpg');
    const result = await analyzeImage(model, detector, image, { detect: true });
    assert.equal(result.faces.length, 7);
    assert.deepEqual(model.seen.map((s) => [s.width, s.height]), Array(7).fill([200, 200]));
    const chip = await photo('chip-35-male.jpg');
    const one = await analyzeImage(model, null, chip, { detect: false });
    assert.equal(one.faces.length, 1);
    assert.deepEqual(one.faces[0]!.box, { x: 0, y: 0, width: 200, height: 200 });
    assert.equal(one.faces[0]!.score, null);
  });

  it('analyzeImage: a large photo is shrunk for detection and boxes come back in full-size pixels', async () => {
    const image = await photo('three-faces.jpg');
    const small = await analyzeImage(fakeModel(), detector, image, { detect: true, detectMaxSide: 500 });
    assertBoxesNearPlacements(small.faces.map((f) => f.box), specs.find((s) => s.file === 'three-faces.jpg')!.faces);
  });

  it('analyzeImage: no face → NO_USABLE_FACE naming the input', async () => {
    await assert.rejects(analyzeImage(fakeModel(), detector, await photo('no-face.jpg'), { detect: true, subject: 'no-face.jpg' }), (e: unknown) => e instanceof AgeGenderError && e.code === 'NO_USABLE_FACE' && /^no-face\.jpg: no usable face/.test(e.message));
  });
});
