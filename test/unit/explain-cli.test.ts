import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { AgeGenderError } from '../../src/core/errors.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import type { RawImage } from '../../src/io/types.js';
import { explainLines, runExplain, type ExplainCommandOptions } from '../../src/cli/commands/explain.js';
import { explainFile, type ExplainFileOptions } from '../../src/workflow/explain.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';
import { predictFiles } from '../../src/pipeline/predict-files.js';
import { sampleChips } from '../helpers/data.js';

const PHOTOS = new URL('../fixtures/photos/', import.meta.url);

const model: AgeGenderModel = {
  runtime: 'test',
    genderThreshold: 0.5,
  metadata: { formatVersion: 1, name: 'mean', encoder: 'none', inputSize: 200, createdAt: 'x', command: '', datasetManifestHash: null, metrics: {} },
  predict: async () => {
    throw new Error('unused');
  },
  predictBatch: async () => {
    throw new Error('unused');
  },
  scoreRaw: async (images: readonly RawImage[]) =>
    images.map((img) => {
      let s = 0;
      for (let i = 0; i < img.data.length / 2; i++) s += img.data[i]!;
      return { age: s / (img.data.length / 2) / 3, femaleProbability: 0.7 };
    }),
  dispose: () => undefined,
};

const opts = (out: string, extra: Partial<ExplainCommandOptions> = {}): ExplainCommandOptions => ({ task: 'age', samples: '60', seed: '1', fill: 'mean', out, occlusion: true, detect: false, ...extra });
const libOpts = (out: string, extra: Partial<ExplainFileOptions> = {}): ExplainFileOptions => ({ task: 'age', samples: 60, seed: 1, fill: 'mean', out, occlusion: true, detect: false, ...extra });

test('explainFile writes the PNG; the CLI prints stability and the method comparison', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-explain-'));
  try {
    const image = join(dir, 'face.png');
    await sharp(sampleChips(1)[0]!).png().toFile(image); // a UTKFace chip: --no-detect's quality gate passes it
    const lines: string[] = [];
    const out = join(dir, 'out.png');
    const explained = await explainFile(image, libOpts(out, { task: 'gender', model }));
    const r = explained.result;
    assert.equal(r.lime.target.output, 'female');
    assert.equal(explained.out, out);
    lines.push(...explainLines(image, explained));
    assert.equal(lines[0], `${image}: explaining P(female) = 70%`, 'a probability is printed as predict prints it');
    assert.ok(lines.some((l) => /^stability: top-5 agreement across 3 seeds \d\.\d\d$/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('LIME vs occlusion: top-5 agreement')));
    assert.equal((await sharp(out).metadata()).width, 608);
    assert.deepEqual((await readdir(dir)).sort(), ['face.png', 'out.png']); // no temp files left
    // --out naming a folder (existing, or ending in a slash) writes the default name inside it.
    await mkdir(join(dir, 'pngs'));
    assert.equal((await explainFile(image, libOpts(join(dir, 'pngs'), { model, occlusion: false }))).out, join(dir, 'pngs', 'face.png.age.explain.png'));
    assert.equal((await explainFile(image, libOpts(join(dir, 'new') + '/', { model, occlusion: false }))).out, join(dir, 'new', 'face.png.age.explain.png'));
    assert.deepEqual(await readdir(join(dir, 'pngs')), ['face.png.age.explain.png']);
    assert.deepEqual(await readdir(join(dir, 'new')), ['face.png.age.explain.png']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('explain: bad images fail before a model is loaded, bad options before any work, with clear messages', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-explain-'));
  // a model folder that does not exist: loading it would fail with MODEL_INVALID, not the image's error
  const unloadable = { modelDir: join(dir, 'no-model') };
  try {
    const text = join(dir, 'notes.jpg');
    await writeFile(text, 'hello, not an image');
    await assert.rejects(explainFile(text, libOpts(join(dir, 'a.png'), unloadable)), /notes\.jpg: .*(not|unsupported|unknown).*/i);
    const tiny = join(dir, 'tiny.png');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777777' } }).png().toFile(tiny);
    await assert.rejects(explainFile(tiny, libOpts(join(dir, 'b.png'), unloadable)), /image is 8×8, too small to explain/);
    await assert.rejects(explainFile(join(dir, 'missing.png'), libOpts(join(dir, 'c.png'), unloadable)), /no such file/);
    await assert.rejects(runExplain(tiny, opts(join(dir, 'd.png'), { task: 'race' }), () => undefined), /Expected one of \[age, gender\] for --task but received "race"/);
    await assert.rejects(runExplain(tiny, opts(join(dir, 'e.png'), { samples: 'many' }), () => undefined), /Expected integer for --samples but received "many"/);
    // the library checks its settings before any work too (the model folder does not exist: it is not loaded)
    const invalidSetting = (message: string) => (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === message;
    await assert.rejects(explainFile(tiny, libOpts(join(dir, 'f.png'), { ...unloadable, workers: 0 })), invalidSetting('Expected integer between 1 and 64 for workers but received 0 of type number'));
    await assert.rejects(explainFile(tiny, libOpts(join(dir, 'f.png'), { ...unloadable, samples: 5 })), invalidSetting('Expected integer between 10 and 100000 for samples but received 5 of type number'));
    await assert.rejects(explainFile(tiny, libOpts(join(dir, 'f.png'), { ...unloadable, fill: 'noise' as never })), invalidSetting('Expected one of [mean, blur] for fill but received "noise" of type string'));
    // the destination is checked before the image is explained: a parent that is a file, an unwritable folder
    const chip = fileURLToPath(new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url));
    await assert.rejects(explainFile(chip, libOpts(join(text, 'x.png'), unloadable)), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${join(text, 'x.png')}: cannot write here: ${text} is a file, not a folder`);
    await assert.rejects(explainFile(chip, libOpts('/sys/x.png', unloadable)), /^AgeGenderError: \/sys\/x\.png: cannot write in \/sys: permission denied/);
    // --out naming the input image itself is refused, and the input is left as it was
    await assert.rejects(explainFile(tiny, libOpts(tiny, unloadable)), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${tiny}: cannot write here: this is the input image ${tiny}`);
    assert.equal((await sharp(tiny).metadata()).width, 8);
    assert.deepEqual((await readdir(dir)).sort(), ['notes.jpg', 'tiny.png'], 'nothing written');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('explain on a photo finds its faces as predict does and explains the one asked for; a photo without a face is NO_USABLE_FACE', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-explain-'));
  try {
    const photo = fileURLToPath(new URL('three-faces.jpg', PHOTOS));
    const photoOpts = (extra: Partial<ExplainFileOptions>): ExplainFileOptions => libOpts(join(dir, 'x.png'), { detect: true, occlusion: false, model: fakeModel(), ...extra });
    const second = await explainFile(photo, photoOpts({ face: 2 }));
    assert.deepEqual([second.face!.index, second.face!.of, second.face!.turned], [2, 3, 0]);
    const predicted = await predictFiles([photo], { model: fakeModel() });
    const box = predicted.results[0]!.faces[1]!.box;
    assert.ok(Math.abs(second.face!.box.x - box.x) < 1 && Math.abs(second.face!.box.width - box.width) < 1, 'the box predict gives that face');
    const first = await explainFile(photo, photoOpts({}));
    assert.equal(first.face!.index, 1);
    assert.notEqual(first.result.lime.baseline, second.result.lime.baseline, 'another face, another output');
    // --no-detect takes the whole photo as one chip and runs predict --no-detect's quality gate: no face
    // fills this one, so predict gives no answer and explain explains none (nothing written)
    const whole = await predictFiles([photo], { model: fakeModel(), detect: false });
    assert.equal((whole.results[0]!.error as AgeGenderError | null)?.code, 'NO_USABLE_FACE');
    await assert.rejects(explainFile(photo, photoOpts({ detect: false, out: join(dir, 'whole.png') })), (e: unknown) => e instanceof AgeGenderError && e.code === 'NO_USABLE_FACE' && e.message.startsWith(`${photo}: no usable face`));
    const flat = join(dir, 'flat.png');
    await sharp({ create: { width: 300, height: 300, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toFile(flat);
    await assert.rejects(explainFile(flat, photoOpts({ detect: false, out: join(dir, 'flat-x.png') })), (e: unknown) => e instanceof AgeGenderError && e.code === 'NO_USABLE_FACE');
    assert.equal(existsSync(join(dir, 'whole.png')) || existsSync(join(dir, 'flat-x.png')), false);
    const lines = explainLines(photo, second);
    assert.match(lines[0]!, /three-faces\.jpg: face 2 of 3 \(box \d+,\d+ \d+×\d+; --face picks another\): explaining age = /);
    assert.equal(second.note, undefined);
    assert.ok(!lines.some((l) => l.includes('note:')), 'a still photo has no note');
    // an animated GIF is explained at its first frame, and says so as predict does
    const gif = join(dir, 'anim.gif');
    const still = await sharp(photo).resize(400).raw().toBuffer({ resolveWithObject: true });
    const { width: w, height: h } = still.info;
    // (a second frame unlike the first: the GIF encoder merges identical ones)
    await sharp(Buffer.concat([still.data, Buffer.alloc(still.data.length, 128)]), { raw: { width: w, height: h * 2, channels: 3, pageHeight: h } }).gif().toFile(gif);
    const animated = await explainFile(gif, photoOpts({ out: join(dir, 'anim.png') }));
    assert.equal(animated.note, 'the GIF holds 2 frames: only the first was analysed');
    assert.ok(explainLines(gif, animated).includes(`${gif}: note: the GIF holds 2 frames: only the first was analysed`));
    // the default names keep each face's PNG: face 1 as <image>.<task>.explain.png, face N > 1 with .face<N>
    const pngs = join(dir, 'pngs') + '/';
    assert.equal((await explainFile(photo, photoOpts({ out: pngs, face: 2 }))).out, join(dir, 'pngs', 'three-faces.jpg.face2.age.explain.png'));
    assert.equal((await explainFile(photo, photoOpts({ out: pngs }))).out, join(dir, 'pngs', 'three-faces.jpg.age.explain.png'));
    assert.deepEqual((await readdir(join(dir, 'pngs'))).sort(), ['three-faces.jpg.age.explain.png', 'three-faces.jpg.face2.age.explain.png']);
    await assert.rejects(explainFile(photo, photoOpts({ face: 4 })), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /^.*three-faces\.jpg: face 4 was asked for \(--face\), but 3 faces were found$/.test(e.message));
    await assert.rejects(explainFile(photo, photoOpts({ face: 2, detect: false })), /needs detection/);
    await assert.rejects(explainFile(fileURLToPath(new URL('no-face.jpg', PHOTOS)), photoOpts({})), (e: unknown) => e instanceof AgeGenderError && e.code === 'NO_USABLE_FACE');
    // a strip too thin once shrunk to 4096 px: named by its own size, as predict names it
    const strip = join(dir, 'strip.png');
    await sharp({ create: { width: 30, height: 10000, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toFile(strip);
    await assert.rejects(explainFile(strip, photoOpts({ out: join(dir, 'strip-x.png') })), {
      message: `${strip}: no usable face: image is 30×10000 pixels (12×4096 once shrunk for analysis): too small to hold a face (at least 24×24)`,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
