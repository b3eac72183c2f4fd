// pipeline(): load once, one call per image, the same answers as `predict` (predictFiles).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AgeGenderError, loadImageInput, pipeline, predictFiles, type AgeGenderPipeline } from '../../src/index.js';
import { sampleChips } from '../helpers/data.js';

const photo = (name: string) => fileURLToPath(new URL(`../fixtures/photos/${name}`, import.meta.url));
const isError = (code: string, subject: string) => (e: unknown) => e instanceof AgeGenderError && e.code === code && e.message.startsWith(`${subject}: `);

/** predictFiles' result for one file, without the fields a pipeline result does not have. */
async function predicted(file: string, detect: boolean): Promise<object> {
  const { results } = await predictFiles([file], { detect });
  const { file: _f, error, ...rest } = results[0]!;
  assert.equal(error, null, file);
  return rest;
}

test('pipeline(): a path, its bytes and its decoded pixels give predict\'s answer; EXIF-turned HEIC boxes in upright pixels', async () => {
  const estimate = await pipeline();
  try {
    for (const name of ['three-faces.jpg', 'three-faces-irot.heic']) {
      const fromPath = await estimate(photo(name));
      assert.equal(fromPath.faces.length, 3, name);
      assert.deepEqual(fromPath, await predicted(photo(name), true), `${name}: the same as predict`);
      assert.deepEqual(await estimate(await readFile(photo(name))), fromPath, `${name}: bytes`);
    }
    const pixels = await loadImageInput(photo('three-faces.jpg'));
    assert.deepEqual(await estimate(pixels), await estimate(photo('three-faces.jpg')), 'raw pixels');
    const names = ['three-faces.jpg', 'three-faces-irot.heic', 'many-faces.jpg', 'chip-35-male.jpg'];
    const oneByOne = [];
    for (const name of names) oneByOne.push(await estimate(photo(name)));
    assert.deepEqual(await Promise.all(names.map((name) => estimate(photo(name)))), oneByOne, 'calls made at once answer as calls made one by one');
  } finally {
    estimate.dispose();
  }
});

test('pipeline(): errors name the input; no usable face is an error, not an answer; disposed is refused', async () => {
  const estimate = await pipeline();
  try {
    await assert.rejects(estimate('no/such/photo.jpg'), isError('UNREADABLE_FILE', 'no/such/photo.jpg'));
    await assert.rejects(estimate(photo('no-face.jpg')), isError('NO_USABLE_FACE', photo('no-face.jpg')));
    await assert.rejects(estimate({ data: new Uint8Array([128, 128, 128]), width: 1, height: 1, channels: 3 }), isError('NO_USABLE_FACE', 'raw image'));
    await assert.rejects(estimate(Buffer.from('not an image'), { subject: 'upload 7' }), isError('INVALID_IMAGE', 'upload 7'));
  } finally {
    estimate.dispose();
  }
  await assert.rejects(estimate(photo('three-faces.jpg')), isError('INVALID_ARGUMENT', photo('three-faces.jpg')));
});

test('pipeline(): dispose() during a call rejects it as disposed, naming the input; a second dispose() does nothing', async () => {
  const estimate = await pipeline();
  const running = estimate(photo('three-faces.jpg'));
  estimate.dispose();
  await assert.rejects(running, isError('INVALID_ARGUMENT', photo('three-faces.jpg')));
  assert.doesNotThrow(() => estimate.dispose());
});

test('pipeline({ detect: false, genderThreshold }): chips as `predict --no-detect`, the threshold applied', async () => {
  let estimate: AgeGenderPipeline | null = null;
  try {
    estimate = await pipeline({ detect: false });
    for (const chip of sampleChips(3)) assert.deepEqual(await estimate(chip), await predicted(chip, false), chip);
    estimate.dispose();
    estimate = await pipeline({ detect: false, genderThreshold: 0.5 });
    assert.equal(estimate.model.genderThreshold, 0.5);
    for (const chip of sampleChips(8)) assert.notEqual((await estimate(chip)).faces[0]!.gender, 'uncertain');
  } finally {
    estimate?.dispose();
  }
});

test('pipeline(options): a bad option is an INVALID_ARGUMENT naming it, thrown before the model is loaded', async () => {
  // a missing model folder would be MODEL_INVALID: the option is checked first
  const missing = fileURLToPath(new URL('../fixtures/no-such-model', import.meta.url));
  const bad: [string, unknown][] = [
    ['detector', { detector: 'bogus' }],
    ['maxFaces', { maxFaces: 0 }],
    ['maxFaces', { maxFaces: 1.5 }],
    ['genderThreshold', { genderThreshold: 2 }],
    ['detect', { detect: 'no' }],
    ['flipTta', { flipTta: 1 }],
    ['runtime', { runtime: 'bogus' }],
  ];
  for (const [name, options] of bad) {
    await assert.rejects(pipeline({ modelDir: missing, ...(options as object) }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.includes(name), name);
  }
  await assert.rejects(pipeline({ modelDir: '' }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.includes('modelDir'));
  await assert.rejects(pipeline(null as never), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.includes('pipeline options'));
});
