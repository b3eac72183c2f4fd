import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { applySimilarity, chipTemplate, chipToImageSimilarity, composeSimilarity, invertSimilarity, type Similarity } from '../../src/pipeline/align.js';
import { ALIGN_CORRECTION_FEATURES, alignCorrection, correctedChipToImage, correctionFeatures, parseAlignCorrection, type ShapedFace } from '../../src/pipeline/align-correction.js';

const t = chipTemplate();
// a face whose shape differs from the template's mean (wide eyes, low mouth), with a box
const shape = t.points.map((p, i) => ({ x: p.x + [-4, 3, 6, -2, 2][i]!, y: p.y + [1, -1, 2, 5, 4][i]! }));
const face = { landmarks: shape, leftEye: shape[0]!, rightEye: shape[1]!, box: { x: 18, y: -18, width: 162, height: 215 } }; // a box as YuNet draws it on a UTKFace chip
const move = (f: ShapedFace, s: Similarity): ShapedFace => {
  const c = applySimilarity(s, { x: f.box.x + f.box.width / 2, y: f.box.y + f.box.height / 2 });
  const k = Math.hypot(s.a, s.b);
  return { landmarks: f.landmarks!.map((p) => applySimilarity(s, p)), box: { x: c.x - (f.box.width * k) / 2, y: c.y - (f.box.height * k) / 2, width: f.box.width * k, height: f.box.height * k } };
};
const close = (a: number[], b: number[], eps: number): void => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < eps, `${i}: ${v} vs ${b[i]}`));
const zero = { weights: Array.from({ length: ALIGN_CORRECTION_FEATURES + 1 }, () => [0, 0, 0, 0]) };

describe('shape-aware alignment correction', () => {
  it('reads the same features from a face moved by a similarity (what makes a chip and a photo comparable)', () => {
    const p: Similarity = { a: 2.1 * Math.cos(0.3), b: 2.1 * Math.sin(0.3), tx: 310, ty: -45 };
    const a = correctionFeatures(t, face)!.features;
    const b = correctionFeatures(t, move(face, p))!.features;
    assert.equal(a.length, ALIGN_CORRECTION_FEATURES);
    close(a, b, 1e-6);
    assert.ok(a.slice(0, 10).some((v) => Math.abs(v) > 1), 'the residuals carry the shape');
    assert.equal(correctionFeatures(t, { box: face.box }), null);
  });
  it('moves with the face: corrected(P·face) = P ∘ corrected(face)', () => {
    const c = alignCorrection();
    assert.ok(c, 'the package ships models/detector/align-correction.json');
    const p: Similarity = { a: 0.7 * Math.cos(-0.2), b: 0.7 * Math.sin(-0.2), tx: 55, ty: 80 };
    const direct = composeSimilarity(p, correctedChipToImage(c, t, face, 200)!);
    const moved = correctedChipToImage(c, t, move(face, p), 200)!;
    close([moved.a, moved.b, moved.tx, moved.ty], [direct.a, direct.b, direct.tx, direct.ty], 1e-6);
  });
  it('is the plain five-point fit when the predicted miss is zero, and scales with the chip size', () => {
    const plain = chipToImageSimilarity(face, 100);
    const z = correctedChipToImage(zero, t, face, 100)!;
    close([z.a, z.b, z.tx, z.ty], [plain.a, plain.b, plain.tx, plain.ty], 1e-9);
  });
  it('the shipped correction moves the fit, by a few pixels at most, not away from the chip frame', () => {
    const c = alignCorrection()!;
    const plain = chipToImageSimilarity(face, 200);
    const corrected = correctedChipToImage(c, t, face, 200)!;
    const shift = Math.hypot(applySimilarity(corrected, { x: 0, y: 0 }).x - applySimilarity(plain, { x: 0, y: 0 }).x, applySimilarity(corrected, { x: 0, y: 0 }).y - applySimilarity(plain, { x: 0, y: 0 }).y);
    assert.ok(shift > 0.01 && shift < 30, `corner moved ${shift} px`);
    const id = composeSimilarity(invertSimilarity(corrected), corrected);
    close([id.a, id.b, id.tx, id.ty], [1, 0, 0, 0], 1e-9);
  });
  it('refuses a malformed file, naming it', () => {
    assert.throws(() => parseAlignCorrection('{', 'x.json'), (e: Error & { subject?: string }) => /not valid JSON/.test(e.message));
    assert.throws(() => parseAlignCorrection('{"weights":[[1,2,3,4]]}', 'x.json'), /15 rows of 4 finite weights/);
  });
});
