// The pieces the workflows share: withModel (a given model is the caller's, a loaded one is disposed
// after use) and trainedOnManifest (whether the pipeline may skip training).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgeGenderError } from '../../src/core/errors.js';
import type { AgeGenderModel } from '../../src/model/api.js';
import { trainedOnManifest } from '../../src/model/folder.js';
import { withModel } from '../../src/model/load.js';

test('withModel: a given model is used and left alone; a loaded one is disposed after use', async () => {
  let disposed = 0;
  const given = { runtime: 'test', dispose: () => void disposed++ } as unknown as AgeGenderModel;
  assert.equal(await withModel({ model: given, modelDir: '/no/such/folder' }, async (m) => m.runtime), 'test');
  assert.equal(disposed, 0);
  const loaded = await withModel({}, async (m) => {
    assert.ok((await m.predictBatch([])).length === 0);
    return m;
  });
  await assert.rejects(loaded.predict(new Uint8Array(3)), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_NOT_LOADED');
  await assert.rejects(withModel({ modelDir: '/no/such/folder' }, async () => 1), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_INVALID');
});

test('trainedOnManifest: only a folder whose metadata records that manifest hash', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-folder-'));
  try {
    assert.equal(trainedOnManifest(dir, 'abc'), false, 'no metadata.json');
    await writeFile(join(dir, 'metadata.json'), JSON.stringify({ datasetManifestHash: 'abc' }));
    assert.equal(trainedOnManifest(dir, 'abc'), true);
    assert.equal(trainedOnManifest(dir, 'abd'), false);
    assert.equal(trainedOnManifest(dir, undefined), false, 'a summary without a manifest hash');
    await writeFile(join(dir, 'metadata.json'), '{ torn');
    assert.equal(trainedOnManifest(dir, 'abc'), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
