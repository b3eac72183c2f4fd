import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { mulberry32 } from '../../src/core/random.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import type { RawImage } from '../../src/io/types.js';
import { slic, segmentSizes, rgbToLab } from '../../src/explain/superpixels.js';
import { lime, limeStability, topKAgreement, weightedRidge, fillImage } from '../../src/explain/lime.js';
import { occlusionSensitivity, superpixelOcclusion } from '../../src/explain/occlusion.js';
import { prepareChip } from '../../src/explain/input.js';
import { explainImage } from '../../src/explain/explain.js';
import { AgeGenderError } from '../../src/core/errors.js';
import { limeExplainer } from '../../src/server/lime-explainer.js';
import { LIME_TINTS, limeOverlayPixels } from '../../src/explain/overlay.js';
import type { LimeExplanation } from '../../src/explain/lime.js';

/** 200×200 chip: bright blocky texture in the top-left quadrant, darker varied colours elsewhere. */
function texturedChip(seed = 1): RawImage {
  const rand = mulberry32(seed);
  const w = 200;
  const data = new Uint8Array(w * w * 3);
  const blocks = new Map<string, number[]>();
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++) {
      const key = `${Math.floor(x / 25)},${Math.floor(y / 25)}`;
      let colour = blocks.get(key);
      if (!colour) {
        const bright = x < 100 && y < 100;
        colour = bright ? [180 + rand() * 75, 180 + rand() * 75, 180 + rand() * 75] : [rand() * 140, rand() * 140, rand() * 140];
        blocks.set(key, colour);
      }
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = Math.round(colour[c]! + (rand() - 0.5) * 10);
    }
  return { data, width: w, height: w, channels: 3 };
}

/** Age = mean brightness of the top-left quadrant (0–100); female probability from the bottom-right quadrant. */
function quadrantModel(): AgeGenderModel & { calls: number } {
  const quadrantMean = (img: RawImage, qx: number, qy: number): number => {
    const w = img.width;
    const h = img.height;
    let s = 0;
    let n = 0;
    for (let y = qy * (h / 2); y < (qy + 1) * (h / 2); y++)
      for (let x = qx * (w / 2); x < (qx + 1) * (w / 2); x++) {
        const o = (y * w + x) * 3;
        s += img.data[o]! + img.data[o + 1]! + img.data[o + 2]!;
        n += 3;
      }
    return s / n / 255;
  };
  const model = {
    calls: 0,
    runtime: 'test',
    genderThreshold: 0.5,
    metadata: { formatVersion: 1, name: 'quadrant', encoder: 'none', inputSize: 200, createdAt: '2026-01-01T00:00:00Z', command: 'test', datasetManifestHash: null, metrics: {} },
    predict: async () => {
      throw new Error('not used');
    },
    predictBatch: async () => {
      throw new Error('not used');
    },
    scoreRaw: async (images: readonly RawImage[]) => {
      model.calls++;
      return images.map((img) => ({ age: 100 * quadrantMean(img, 0, 0), femaleProbability: 0.2 * quadrantMean(img, 1, 1) }));
    },
    dispose: () => undefined,
  };
  return model;
}

function fractionInTopLeft(labels: Int32Array, segment: number, w: number): number {
  let inside = 0;
  let total = 0;
  labels.forEach((l, p) => {
    if (l !== segment) return;
    total++;
    if (p % w < 100 && Math.floor(p / w) < 100) inside++;
  });
  return inside / total;
}

test('SLIC gives connected superpixels near the wanted count that cover the image', () => {
  const chip = texturedChip();
  const seg = slic(chip, { segments: 80 });
  assert.ok(seg.count >= 50 && seg.count <= 110, `count ${seg.count}`);
  const sizes = segmentSizes(seg);
  assert.equal(
    sizes.reduce((a, b) => a + b, 0),
    200 * 200,
  );
  assert.ok(Math.min(...sizes) > 0);
  assert.deepEqual(slic(chip, { segments: 80, seed: 4 }).labels, slic(chip, { segments: 80, seed: 4 }).labels);
  // connectivity: a flood fill from any pixel of a label reaches all of that label's pixels
  const seen = new Set<number>();
  const { labels, width: w } = seg;
  for (let start = 0; start < labels.length; start++) {
    const l = labels[start]!;
    if (seen.has(l)) continue;
    seen.add(l);
    const stack = [start];
    const visited = new Set([start]);
    while (stack.length) {
      const p = stack.pop()!;
      for (const q of [p - 1, p + 1, p - w, p + w]) {
        if (q < 0 || q >= labels.length || visited.has(q) || labels[q] !== l) continue;
        if (Math.abs((q % w) - (p % w)) > 1) continue;
        visited.add(q);
        stack.push(q);
      }
    }
    assert.equal(visited.size, sizes[l], `label ${l} is not connected`);
  }
  // Lab of white and black
  const lab = rgbToLab({ data: new Uint8Array([255, 255, 255, 0, 0, 0]), width: 2, height: 1, channels: 3 });
  assert.ok(Math.abs(lab[0]! - 100) < 0.01 && Math.abs(lab[3]!) < 0.01);
});

test('weighted ridge regression matches the closed-form solution', () => {
  // y = 1 + 2·x0 − 3·x1 exactly: with λ = 0 the fit recovers it
  const x = [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
    [1, 0],
  ];
  const y = x.map(([a, b]) => 1 + 2 * a! - 3 * b!);
  const fit = weightedRidge(x, y, [1, 2, 1, 3, 1], 0);
  assert.ok(Math.abs(fit.coefficients[0]! - 2) < 1e-9 && Math.abs(fit.coefficients[1]! + 3) < 1e-9 && Math.abs(fit.intercept - 1) < 1e-9);
  assert.ok(Math.abs(fit.r2 - 1) < 1e-9);
  // one feature, λ = 1, unit weights, x = [1, 0], y = [3, 1]: centred x = ±0.5, Σx² = 0.5, Σxy = 1 → β = 1 / 1.5
  const ridge = weightedRidge([[1], [0]], [3, 1], [1, 1], 1);
  assert.ok(Math.abs(ridge.coefficients[0]! - 2 / 3) < 1e-12);
  assert.ok(Math.abs(ridge.intercept - (2 - (2 / 3) * 0.5)) < 1e-12);
});

test('LIME picks superpixels in the top-left quadrant for a model that only looks there', async () => {
  const chip = texturedChip();
  const model = quadrantModel();
  const ex = await lime(model, chip, { task: 'age', samples: 400, seed: 3, batchSize: 100 });
  assert.equal(model.calls, 1 + 4); // resolveTarget + 400 / 100 batches
  assert.equal(ex.top.length, 5);
  for (const s of ex.top) {
    const f = fractionInTopLeft(ex.segmentation.labels, s, 200);
    assert.ok(f > 0.9, `top superpixel ${s} is only ${(f * 100).toFixed(0)}% in the top-left quadrant`);
    assert.ok(ex.weights[s]! > 0, 'bright superpixels raise the output when shown');
  }
  assert.ok(ex.r2 > 0.9, `R² ${ex.r2}`);
  // superpixels outside the quadrant have (near) zero weight
  for (let s = 0; s < ex.segmentation.count; s++) {
    if (fractionInTopLeft(ex.segmentation.labels, s, 200) === 0) assert.ok(Math.abs(ex.weights[s]!) < 0.05, `weight ${ex.weights[s]} for ${s}`);
  }
});

test('LIME is seeded, stable across seeds, and explains the predicted gender label', async () => {
  const chip = texturedChip(2);
  const model = quadrantModel();
  const a = await lime(model, chip, { samples: 200, seed: 9 });
  const b = await lime(model, chip, { samples: 200, seed: 9 });
  assert.deepEqual(a.weights, b.weights);
  const stable = await limeStability(model, chip, [1, 2, 3], { samples: 300 });
  assert.ok(stable.agreement >= 0.8, `agreement ${stable.agreement}`);
  assert.equal(topKAgreement([[1, 2], [2, 1], [1, 3]]), 2 / 3);
  const g = await lime(model, chip, { task: 'gender', samples: 100 });
  assert.equal(g.target.output, 'male'); // female probability ≤ 0.2
  assert.ok(g.baseline > 0.8);
  await assert.rejects(lime(model, chip, { samples: 5 }), /Expected integer between 10 and 100000 for samples but received 5 of type number/);
  await assert.rejects(lime(model, chip, { task: 'race' as 'age' }), /Expected one of \[age, gender\] for task/);
});

test('blur fill and occlusion sensitivity agree with LIME on the quadrant model', async () => {
  const chip = texturedChip(3);
  const model = quadrantModel();
  const blur = fillImage(chip, 'blur');
  assert.equal(blur.length, chip.data.length);
  const occ = await occlusionSensitivity(model, chip, { task: 'age', patch: 40, stride: 20 });
  let inside = 0;
  let outside = 0;
  occ.map.forEach((v, p) => {
    const x = p % 200;
    const y = Math.floor(p / 200);
    // patches are 40 px: pixels 20+ px away from the quadrant share no patch with it
    if (x < 100 && y < 100) inside += v;
    else if (x >= 120 || y >= 120) outside += Math.abs(v);
  });
  assert.ok(inside > 0 && outside < 1e-6, `inside ${inside} outside ${outside}`);
  const ex = await lime(model, chip, { samples: 300, fill: 'blur' });
  const sp = await superpixelOcclusion(model, chip, ex.segmentation, { fill: 'blur' });
  assert.ok(topKAgreement([ex.top, sp.top]) >= 0.6);
});

test('bad inputs: non-image, 8×8, grayscale, PNG with alpha', async () => {
  await assert.rejects(prepareChip(Buffer.from('this is not an image'), 'notes.txt'), (error: unknown) => {
    assert.ok(error instanceof AgeGenderError);
    assert.equal(error.code, 'INVALID_IMAGE');
    assert.match(error.message, /^notes\.txt: /);
    return true;
  });
  const tiny = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer();
  await assert.rejects(prepareChip(tiny, 'tiny.png'), /tiny\.png: image is 8×8, too small to explain \(needs at least 32×32/);

  const grayPixels = Buffer.alloc(64 * 64, 0);
  for (let i = 0; i < grayPixels.length; i++) grayPixels[i] = i % 256;
  const gray = await sharp(grayPixels, { raw: { width: 64, height: 64, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  assert.equal((await sharp(gray).metadata()).channels, 1);
  const g = await prepareChip(gray, 'gray.png');
  assert.equal(g.channels, 3);
  assert.equal(g.width, 200);
  for (let p = 0; p < 200 * 200; p++) assert.ok(g.data[p * 3] === g.data[p * 3 + 1] && g.data[p * 3] === g.data[p * 3 + 2]);

  const rgba = Buffer.alloc(200 * 200 * 4);
  for (let p = 0; p < 200 * 200; p++) rgba.set(p < 100 * 200 ? [0, 0, 0, 0] : [0, 0, 0, 255], p * 4);
  const alpha = await sharp(rgba, { raw: { width: 200, height: 200, channels: 4 } }).png().toBuffer();
  const a = await prepareChip(alpha, 'alpha.png');
  assert.equal(a.channels, 3);
  assert.deepEqual([...a.data.subarray(0, 3)], [128, 128, 128]); // transparent → mid-grey
  assert.deepEqual([...a.data.subarray(a.data.length - 3)], [0, 0, 0]);

  // the whole pipeline handles gray and alpha inputs end to end
  const model = quadrantModel();
  const r = await explainImage(model, alpha, { samples: 50, stabilitySeeds: [1], subject: 'alpha.png' });
  assert.equal(r.stability, null);
  const meta = await sharp(r.png).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 200 * 3 + 8);
  assert.equal(meta.height, 200);
});

test('a non-square image becomes a chip padded to a square with black bars (as the network pads it), not a crop', async () => {
  // 400×200: a red strip on the left 50 columns, green elsewhere. A centre crop would lose the red strip.
  const w = 400;
  const h = 200;
  const px = Buffer.alloc(w * h * 3);
  for (let p = 0; p < w * h; p++) px.set(p % w < 50 ? [220, 0, 0] : [0, 200, 0], p * 3);
  const wide = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  const chip = await prepareChip(wide, 'wide.png');
  assert.deepEqual([chip.width, chip.height], [200, 200]);
  const at = (x: number, y: number): number[] => [...chip.data.subarray((y * 200 + x) * 3, (y * 200 + x) * 3 + 3)];
  assert.deepEqual(at(100, 5), [0, 0, 0], 'black bar above');
  assert.deepEqual(at(100, 194), [0, 0, 0], 'black bar below');
  const red = at(5, 100);
  assert.ok(red[0]! > 150 && red[1]! < 60, `the left strip is kept: ${red.join(',')}`);
  const green = at(150, 100);
  assert.ok(green[1]! > 150 && green[0]! < 60, `green: ${green.join(',')}`);
});

test('explainImage reports progress per scored batch, ending at the total it announced', async () => {
  const model = quadrantModel();
  const seen: Array<[number, number]> = [];
  const r = await explainImage(model, texturedChip(4), { samples: 60, stabilitySeeds: [1, 2], onProgress: (done, total) => seen.push([done, total]) });
  const total = 2 * (60 + 1) + (81 + 1) + (r.lime.segmentation.count + 1); // LIME × 2 seeds, 9×9 occluder positions, one per superpixel
  assert.ok(seen.length > 5);
  assert.ok(seen.every(([, t]) => t === total), `totals ${[...new Set(seen.map(([, t]) => t))].join(', ')} vs ${total}`);
  assert.ok(seen.every(([d], i) => i === 0 || d > seen[i - 1]![0]), 'done only rises');
  assert.deepEqual(seen.at(-1), [total, total]);
  const without: number[] = [];
  await explainImage(model, texturedChip(4), { samples: 60, stabilitySeeds: [1], occlusion: false, onProgress: (done, t) => without.push(done, t) });
  assert.deepEqual(without.slice(-2), [61, 61]);
});

test("LIME stops between batches once its signal aborts, and the server's explainer passes the request's signal", async () => {
  const chip = texturedChip(5);
  const model = quadrantModel();
  const controller = new AbortController();
  const scoreRaw = model.scoreRaw;
  // abort while the second batch is being scored (call 1 is the unperturbed image)
  model.scoreRaw = async (images) => {
    if (model.calls === 2) controller.abort();
    return scoreRaw(images);
  };
  await assert.rejects(lime(model, chip, { samples: 1000, batchSize: 50, signal: controller.signal }), (e: unknown) => e instanceof DOMException && e.name === 'AbortError');
  assert.equal(model.calls, 3, 'no batch scored after the abort');

  model.calls = 0;
  const explainer = limeExplainer({ samples: 1000 });
  const late = new AbortController();
  model.scoreRaw = async (images) => {
    if (model.calls === 2) late.abort();
    return scoreRaw(images);
  };
  await assert.rejects(explainer(model, chip, { target: 'age', signal: late.signal }), (e: unknown) => e instanceof DOMException && e.name === 'AbortError');
  assert.equal(model.calls, 3);
});

test('explainImage takes every seed LIME takes: the stability seeds after 2³² − 1 wrap round to 0 and 1', async () => {
  const model = quadrantModel();
  const r = await explainImage(model, texturedChip(6), { samples: 20, seed: 2 ** 32 - 1, occlusion: false });
  assert.equal(r.lime.seed, 2 ** 32 - 1);
  assert.equal(typeof r.stability, 'number');
  await assert.rejects(explainImage(model, texturedChip(6), { samples: 20, seed: 2 ** 32 }), /Expected integer between 0 and 4294967295 for seed but received 4294967296/);
});

test('explainImage and limeStability refuse an empty seed list with INVALID_ARGUMENT (not a TypeError)', async () => {
  const model = quadrantModel();
  const isEmptySeeds = (name: string) => (e: unknown): boolean =>
    e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.includes(`for ${name} but received an array of length 0`);
  await assert.rejects(explainImage(model, texturedChip(), { samples: 50, stabilitySeeds: [] }), isEmptySeeds('stabilitySeeds'));
  await assert.rejects(limeStability(model, texturedChip(), [], { samples: 50 }), isEmptySeeds('seeds'));
});

test('the LIME overlay tints a raising region blue and a lowering one orange (told apart with red–green colour blindness), outlines them in white and dims the rest', () => {
  // 12×4 grey image, three 4×4 superpixels: 0 raises the output, 1 lowers it, 2 is not among the top
  const w = 12;
  const h = 4;
  const image: RawImage = { data: new Uint8Array(w * h * 3).fill(100), width: w, height: h, channels: 3 };
  const labels = new Int32Array(w * h).map((_v, p) => Math.floor((p % w) / 4));
  const ex = { segmentation: { width: w, height: h, labels, count: 3 }, weights: Float64Array.from([0.5, -0.3, 0.01]), top: [0, 1] } as unknown as LimeExplanation;
  const out = limeOverlayPixels(image, ex);
  const at = (x: number, y: number): number[] => Array.from(out.data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3));
  const mix = (tint: readonly number[]): number[] => tint.map((c) => Math.round(0.5 * 100 + 0.5 * c));
  assert.deepEqual(at(1, 1), mix(LIME_TINTS.raises));
  assert.deepEqual(at(5, 1), mix(LIME_TINTS.lowers));
  assert.deepEqual(at(3, 1), [255, 255, 255], 'the edge of a top superpixel is white');
  assert.deepEqual(at(9, 1), [45, 45, 45], 'outside the top superpixels: dimmed grey');
  const [raises, lowers] = [at(1, 1), at(5, 1)];
  assert.ok(raises[2]! > raises[0]! && lowers[0]! > lowers[2]!, 'blue against orange: they differ on the blue–yellow axis that red–green colour blindness keeps');
});
