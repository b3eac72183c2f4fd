// The shipped model (models/default) reproduces its recorded predictions on fixed chips.
// Regenerate after retraining: node --conditions=agegender-source --import tsx scripts/model-golden.ts
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AgeGenderPrediction } from '../../src/core/types.js';
import { loadModel } from '../../src/model/index.js';
import { utkfaceChipDir } from '../helpers/data.js';

interface Golden {
  model: string;
  createdAt: string;
  /** The model's gender threshold when recorded: below it `gender` is 'uncertain'. */
  genderThreshold: number;
  predictions: Array<{ id: string; prediction: AgeGenderPrediction }>;
}

describe('shipped model', () => {
  // Both inference runtimes must reproduce the recorded predictions (they were recorded on tfjs wasm).
  for (const runtime of ['onnxruntime', 'tfjs'] as const) it(`reproduces test/golden/model-predictions.json on ${runtime}`, async () => {
    const golden = JSON.parse(readFileSync('test/golden/model-predictions.json', 'utf8')) as Golden;
    const model = await loadModel(undefined, { runtime });
    try {
      assert.ok(model.runtime.startsWith(runtime), `runs on ${model.runtime}`);
      assert.equal(model.metadata.createdAt, golden.createdAt, 'golden file recorded from this model');
      assert.equal(model.genderThreshold, golden.genderThreshold, "the folder's recorded gender threshold");
      assert.ok(golden.predictions.some((g) => g.prediction.gender === 'uncertain'), 'the golden chips include an abstention (the 1-year-old)');
      for (const g of golden.predictions) {
        const path = g.id.startsWith('fixture:') ? join('test/fixtures/photos', g.id.slice(8)) : join(utkfaceChipDir(), g.id.slice(8));
        const p = await model.predict(path);
        assert.ok(Math.abs(p.age - g.prediction.age) < 0.05, `${g.id}: age ${p.age} vs ${g.prediction.age}`);
        assert.ok(Math.abs(p.femaleProbability - g.prediction.femaleProbability) < 1e-3, `${g.id}: female ${p.femaleProbability} vs ${g.prediction.femaleProbability}`);
        assert.equal(p.gender, g.prediction.gender);
        assert.ok(Math.abs(p.ageInterval[0] - g.prediction.ageInterval[0]) < 0.1 && Math.abs(p.ageInterval[1] - g.prediction.ageInterval[1]) < 0.1);
      }
      // batch and single give the same answer
      const ids = golden.predictions.filter((g) => g.id.startsWith('utkface:')).map((g) => join(utkfaceChipDir(), g.id.slice(8)));
      const batch = await model.predictBatch(ids);
      for (let i = 0; i < ids.length; i++) assert.ok(Math.abs(batch[i]!.age - golden.predictions[i + 1]!.prediction.age) < 0.05);
    } finally {
      model.dispose();
    }
  });
});
