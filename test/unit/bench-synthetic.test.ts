// bench:photos' synthetic photos: the face scored is the one on the pasted chip, not a background
// the detector took for a face (a blurred face stretched over the canvas once gave a box larger than
// the photo, and "the largest face" chose it).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { pastedBounds, pastedCentre, pastedFace, syntheticSpec, type SyntheticSpec } from '../../bench/synthetic-photos.js';

const spec: SyntheticSpec = { canvas: 600, chipSide: 200, faceShare: 1 / 3, angle: 0, left: 300, top: 100, grayscale: false, background: 'blurred-chip' };
const box = (x: number, y: number, width: number, height = width) => ({ box: { x, y, width, height } });

describe('bench synthetic photos: the pasted face', () => {
  it('places the bounds and centre of the turned chip', () => {
    assert.deepEqual(pastedCentre(spec), { x: 400, y: 200 });
    const turned = pastedBounds({ ...spec, angle: -30 });
    assert.ok(Math.abs(turned.width - 200 * (Math.cos(Math.PI / 6) + Math.sin(Math.PI / 6))) < 1e-9);
    // every seeded spec keeps the pasted chip inside its canvas
    for (let i = 0; i < 50; i++) {
      const s = syntheticSpec(17, i);
      const b = pastedBounds(s);
      assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= s.canvas + 1 && b.y + b.height <= s.canvas + 1, `spec ${i}`);
    }
  });

  it('scores the face on the chip, not a larger background face, and counts the others', () => {
    const onChip = box(340, 130, 120);
    const background = box(-50, -100, 700);
    const elsewhere = box(20, 400, 90);
    const r = pastedFace([background, elsewhere, onChip], spec);
    assert.equal(r.face, onChip);
    assert.equal(r.elsewhere, 2);
  });

  it('finds no face when none lies on the chip', () => {
    const r = pastedFace([box(20, 400, 90), box(-50, -100, 700)], spec);
    assert.equal(r.face, null);
    assert.equal(r.elsewhere, 2);
    assert.deepEqual(pastedFace([], spec), { face: null, elsewhere: 0 });
  });

  it('takes the largest of two faces on the chip', () => {
    const small = box(390, 190, 20);
    const large = box(330, 120, 150);
    assert.equal(pastedFace([small, large], spec).face, large);
  });
});
