// The README's library example, run as written against the package entry point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { analyzeImage, loadFaceDetector, loadImageInput, loadModel, AgeGenderError } from '../../src/index.js';
import { sampleChips } from '../helpers/data.js';

test('loadModel() → predict / predictBatch on chips, analyzeImage on a photo', async () => {
  const model = await loadModel();
  const detector = await loadFaceDetector();
  try {
    const [chip] = sampleChips(1);
    const p = await model.predict(chip!);
    assert.ok(p.age > 0 && p.age < 120, `age ${p.age}`);
    assert.ok(p.ageInterval[0] <= p.age && p.age <= p.ageInterval[1]);
    assert.ok(p.genderProbability >= 0.5 && p.genderProbability <= 1);
    const many = await model.predictBatch(sampleChips(3));
    assert.equal(many.length, 3);
    assert.deepEqual(many[0], p, 'one and many give the same answer for the same chip');
    const photo = await loadImageInput(fileURLToPath(new URL('../fixtures/photos/three-faces.heic', import.meta.url))); // as the README: an iPhone photo
    const { faces } = await analyzeImage(model, detector, photo, { detect: true });
    assert.equal(faces.length, 3);
    await assert.rejects(model.predictBatch([chip!, 'no/such/file.jpg']), (e: unknown) => e instanceof AgeGenderError && e.code === 'UNREADABLE_FILE' && e.message.startsWith('no/such/file.jpg: '));
    await assert.rejects(model.predict('no/such/file.jpg'), (e: unknown) => e instanceof AgeGenderError && e.code === 'UNREADABLE_FILE' && e.message.startsWith('no/such/file.jpg: '));
  } finally {
    model.dispose();
    detector.dispose();
  }
});

test("the README's gender threshold: the shipped model's is 0.781; loadModel(undefined, { genderThreshold: 0.5 }) answers every face", async () => {
  const shipped = await loadModel();
  const all = await loadModel(undefined, { genderThreshold: 0.5 });
  try {
    assert.equal(shipped.genderThreshold, 0.781);
    assert.equal(all.genderThreshold, 0.5);
    for (const p of await all.predictBatch(sampleChips(8))) assert.notEqual(p.gender, 'uncertain');
  } finally {
    shipped.dispose();
    all.dispose();
  }
});
