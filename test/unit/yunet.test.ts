// YuNet detector (decoding, NMS, input layout, the shipped ONNX file) and the 5-point alignment
// geometry (least-squares similarity, chip template, recognising an aligned chip).
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { decodeImage } from '../../src/io/decode.js';
import type { RawImage } from '../../src/io/types.js';
import { alignFace, applySimilarity, chipTemplate, fitSimilarity, isAlignedChip, parseChipTemplate } from '../../src/pipeline/align.js';
import { loadFaceDetector, type FaceDetector } from '../../src/pipeline/detect.js';
import sharp from 'sharp';
import { addMissedFaces, decodeYunetLevel, loadYunetDetector, nonMaxSuppression, yunetInput } from '../../src/pipeline/yunet.js';

const DIR = new URL('../fixtures/photos/', import.meta.url);
const photo = async (name: string): Promise<RawImage> => decodeImage(await readFile(new URL(name, DIR)), name);

describe('yunet decoding', () => {
  it('decodes a cell into a box and landmarks in input pixels (OpenCV postProcess)', () => {
    // 64×32 input at stride 32: 2 cells; only cell (r 0, c 1) scores above the threshold
    const level = {
      stride: 32,
      cls: [0.1, 0.81],
      obj: [0.1, 1.5], // clamped to 1: score √(0.81·1) = 0.9
      bbox: [0, 0, 0, 0, 0.5, 0.25, Math.log(2), 0],
      kps: [...new Array<number>(10).fill(0), 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    };
    const [c, ...rest] = decodeYunetLevel(level, 64, 32, 0.5);
    assert.equal(rest.length, 0);
    assert.ok(Math.abs(c!.score - 0.9) < 1e-9);
    // centre ((1 + 0.5)·32, (0 + 0.25)·32) = (48, 8); size (2·32, 1·32)
    assert.deepEqual(c!.box, { x: 16, y: -8, width: 64, height: 32 });
    assert.ok(Math.abs(c!.landmarks[0]!.x - 1.1 * 32) < 1e-9 && Math.abs(c!.landmarks[4]!.y - 1.0 * 32) < 1e-9);
  });

  it('non-maximum suppression keeps the best of overlapping boxes and separate ones', () => {
    const box = (x: number): { x: number; y: number; width: number; height: number } => ({ x, y: 0, width: 10, height: 10 });
    const kept = nonMaxSuppression([{ box: box(0), score: 0.7 }, { box: box(1), score: 0.9 }, { box: box(50), score: 0.6 }], 0.3, 10);
    assert.deepEqual(kept.map((k) => k.score), [0.9, 0.6]);
    assert.equal(nonMaxSuppression([{ box: box(0), score: 0.7 }, { box: box(50), score: 0.6 }], 0.3, 1).length, 1);
  });

  it('the second pass adds only the faces the first missed: no overlap, no box holding the other\'s centre', () => {
    const box = (x: number, width = 10): { x: number; y: number; width: number; height: number } => ({ x, y: 0, width, height: width });
    const first = [{ box: box(0), score: 0.7 }];
    const second = [
      { box: box(1), score: 0.95 }, // the same face, better scored: the first pass's box stays
      { box: box(-5, 30), score: 0.9 }, // holds the first face's centre
      { box: box(50), score: 0.65 },
      { box: box(80), score: 0.8 },
    ];
    assert.deepEqual(addMissedFaces(first, second, 0.3, 10).map((f) => f.box.x), [0, 80, 50]);
    assert.deepEqual(addMissedFaces(first, second, 0.3, 2).map((f) => f.box.x), [0, 80]);
    assert.deepEqual(addMissedFaces([], second, 0.3, 10).map((f) => f.score), [0.95, 0.8, 0.65]);
  });

  it('input: margin, /32 padding, BGR planes, grey replicated', async () => {
    const grey: RawImage = { data: new Uint8Array(100 * 50).fill(77), width: 100, height: 50, channels: 1 };
    const input = await yunetInput(grey, 320, 640, 0.25);
    assert.equal(input.width % 32, 0);
    assert.equal(input.height % 32, 0);
    const at = (plane: number, x: number, y: number): number => input.data[plane * input.width * input.height + y * input.width + x]!;
    const cx = Math.round(input.offsetX + 50 * input.scale);
    const cy = Math.round(input.offsetY + 25 * input.scale);
    assert.deepEqual([at(0, cx, cy), at(1, cx, cy), at(2, cx, cy)], [77, 77, 77]);
    assert.equal(at(0, 0, 0), 0); // margin is black
    const rgb: RawImage = { data: new Uint8Array([10, 20, 30]), width: 1, height: 1, channels: 3 };
    const one = await yunetInput(rgb, 32, 32, 0);
    assert.deepEqual([one.data[0], one.data[one.width * one.height], one.data[2 * one.width * one.height]], [30, 20, 10]);
  });
});

describe('yunet on the shipped ONNX file', () => {
  let detector: FaceDetector;
  before(async () => {
    detector = await loadFaceDetector({ detector: 'yunet' });
  });
  after(() => detector.dispose());

  it('finds the face of a UTKFace chip with landmarks where the template has them, and takes it as an aligned chip', async () => {
    const chip = await photo('chip-35-male.jpg');
    const faces = await detector.detect(chip);
    assert.equal(faces.length, 1);
    const f = faces[0]!;
    assert.ok(f.score > 0.6, `score ${f.score}`);
    assert.equal(f.landmarks?.length, 5);
    assert.ok(f.leftEye.x < f.rightEye.x && f.mouth.y > f.leftEye.y);
    assert.ok(isAlignedChip(chip, f));
  });

  it('finds the same face in grey', async () => {
    const chip = await photo('chip-35-male.jpg');
    const grey = new Uint8Array(chip.width * chip.height);
    for (let i = 0; i < grey.length; i++) grey[i] = chip.data[i * chip.channels]!;
    assert.equal((await detector.detect({ data: grey, width: chip.width, height: chip.height, channels: 1 })).length, 1);
  });

  it('a large group photo: the second pass finds the small faces the first pass shrinks away', async () => {
    // twelve 80-px chips (faces ≈ 40 px) on a 2400×1800 canvas: one pass sees it at 640 px with its margin
    const chips = await Promise.all(['24_0_2_20170116170633399.jpg.chip.jpg', '35_0_0_20170117203240562.jpg.chip.jpg', '6_1_0_20170109194207894.jpg.chip.jpg'].map((n) => sharp(new URL(`chips/${n}`, DIR).pathname).resize(80, 80).toBuffer()));
    const layers = Array.from({ length: 12 }, (_, i) => ({ input: chips[i % 3]!, left: 150 + (i % 4) * 600, top: 200 + Math.floor(i / 4) * 600 }));
    const jpeg = await sharp({ create: { width: 2400, height: 1800, channels: 3, background: { r: 90, g: 110, b: 100 } } }).composite(layers).jpeg().toBuffer();
    const group = await decodeImage(jpeg, 'group.jpg');
    const onePass = await loadYunetDetector({ largeInputSide: 0 });
    const twoPasses = await loadYunetDetector();
    try {
      const [one, two] = [await onePass.detect(group), await twoPasses.detect(group)];
      const onAChip = (f: { box: { x: number; y: number; width: number; height: number } }): boolean =>
        layers.some((l) => Math.abs(f.box.x + f.box.width / 2 - (l.left + 40)) < 30 && Math.abs(f.box.y + f.box.height / 2 - (l.top + 40)) < 30);
      assert.ok(two.length >= 11 && two.every(onAChip), `two passes: ${two.length} faces, ${two.filter(onAChip).length} on a chip`);
      assert.equal(one.length, 0, 'the first pass finds none of them');
    } finally {
      onePass.dispose();
      twoPasses.dispose();
    }
    await assert.rejects(loadYunetDetector({ largeInputSide: 100 }), /largeInputSide/);
    // a caller's larger first pass needs no second one by default, and is not refused for it
    const wide = await loadYunetDetector({ maxInputSide: 2048 });
    wide.dispose();
  });

  it('finds no face in the no-face photo nor in a flat image', async () => {
    assert.equal((await detector.detect(await photo('no-face.jpg'))).length, 0);
    assert.equal((await detector.detect({ data: new Uint8Array(64 * 64 * 3).fill(128), width: 64, height: 64, channels: 3 })).length, 0);
  });
});

describe('alignment geometry (five points)', () => {
  it('fitSimilarity recovers a known rotation, scale and shift', () => {
    const s = { a: 1.3 * Math.cos(0.4), b: 1.3 * Math.sin(0.4), tx: 12, ty: -7 };
    const from = chipTemplate().points;
    const to = from.map((p) => applySimilarity(s, p));
    const fit = fitSimilarity(from, to);
    for (const k of ['a', 'b', 'tx', 'ty'] as const) assert.ok(Math.abs(fit[k] - s[k]) < 1e-9, k);
    assert.throws(() => fitSimilarity([{ x: 1, y: 1 }, { x: 1, y: 1 }], [{ x: 0, y: 0 }, { x: 1, y: 1 }]), /coincident/);
  });

  it('aligning onto the template points returns the chip unchanged', () => {
    const size = 200;
    const data = new Uint8Array(size * size * 3);
    for (let i = 0; i < size * size; i++) data[i * 3] = i % size;
    const chip: RawImage = { data, width: size, height: size, channels: 3 };
    const points = chipTemplate().points.map((p) => ({ x: (p.x * 200) / chipTemplate().size, y: (p.y * 200) / chipTemplate().size }));
    const out = alignFace(chip, { leftEye: points[0]!, rightEye: points[1]!, landmarks: points });
    let maxDiff = 0;
    for (let i = 0; i < data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out.data[i]! - data[i]!));
    assert.ok(maxDiff <= 1, `max difference ${maxDiff}`);
  });

  it('an image is an aligned chip only when square with the landmarks near the template', () => {
    const points = chipTemplate().points.map((p) => ({ x: p.x, y: p.y }));
    const face = { leftEye: points[0]!, rightEye: points[1]!, landmarks: points };
    assert.ok(isAlignedChip({ width: 200, height: 200 }, face));
    assert.ok(!isAlignedChip({ width: 200, height: 300 }, face));
    assert.ok(!isAlignedChip({ width: 400, height: 400 }, face)); // face in a quarter of it
    assert.ok(!isAlignedChip({ width: 200, height: 200 }, { leftEye: points[0]!, rightEye: points[1]! }));
  });

  it('template files are checked', () => {
    assert.throws(() => parseChipTemplate('{', 'x.json'), /not valid JSON/);
    assert.throws(() => parseChipTemplate('{"size":200,"points":[[1,2]]}', 'x.json'), /five/);
    assert.throws(() => parseChipTemplate('null', 'x.json'), { code: 'MODEL_INVALID', message: 'x.json: chip template needs a positive size and five [x, y] points' });
    assert.equal(parseChipTemplate(JSON.stringify({ size: 200, points: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]] }), 'x.json').points[4]!.y, 10);
  });
});
