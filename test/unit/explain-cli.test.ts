import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { AgeGenderError } from '../../src/core/errors.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import type { RawImage } from '../../src/io/types.js';
import { explainLines, runExplain, type ExplainCommandOptions } from '../../src/cli/commands/explain.js';
import { explainFile, type ExplainFileOptions } from '../../src/workflow/explain.js';

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

const opts = (out: string, extra: Partial<ExplainCommandOptions> = {}): ExplainCommandOptions => ({ task: 'age', samples: '60', seed: '1', fill: 'mean', out, occlusion: true, ...extra });
const libOpts = (out: string, extra: Partial<ExplainFileOptions> = {}): ExplainFileOptions => ({ task: 'age', samples: 60, seed: 1, fill: 'mean', out, occlusion: true, ...extra });

test('explainFile writes the PNG; the CLI prints stability and the method comparison', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-explain-'));
  try {
    const noise = Buffer.from(Array.from({ length: 50 * 50 * 3 }, (_, i) => (i * 7919) % 256));
    const image = join(dir, 'face.png');
    await sharp(noise, { raw: { width: 50, height: 50, channels: 3 } }).resize(200, 200).png().toFile(image);
    const lines: string[] = [];
    const out = join(dir, 'out.png');
    const explained = await explainFile(image, libOpts(out, { task: 'gender', model }));
    const r = explained.result;
    assert.equal(r.lime.target.output, 'female');
    assert.equal(explained.out, out);
    lines.push(...explainLines(image, explained));
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
    // the destination is checked before the image is explained: a parent that is a file, an unwritable folder
    const chip = fileURLToPath(new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url));
    await assert.rejects(explainFile(chip, libOpts(join(text, 'x.png'), unloadable)), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === `${join(text, 'x.png')}: cannot write here: ${text} is a file, not a folder`);
    await assert.rejects(explainFile(chip, libOpts('/sys/x.png', unloadable)), /^AgeGenderError: \/sys\/x\.png: cannot write in \/sys: EACCES/);
    assert.deepEqual((await readdir(dir)).sort(), ['notes.jpg', 'tiny.png'], 'nothing written');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
