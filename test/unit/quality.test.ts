// The face-quality gate with the real face detector: blank, flat, noise, 1×1 and a non-face photo
// are refused as NO_USABLE_FACE in the library, the CLI (an error row) and HTTP (422), with
// detection on and off; real chips pass and every face carries a quality score.
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { runPredict } from '../../src/cli/commands/predict.js';
import { AgeGenderError } from '../../src/core/errors.js';
import { decodeImage } from '../../src/io/decode.js';
import { analyzeImage } from '../../src/pipeline/analyze.js';
import { loadFaceDetector, type FaceDetector } from '../../src/pipeline/detect.js';
import { faceQuality, gateChip, imageStats, landmarkFit, unusableReason } from '../../src/pipeline/quality.js';
import { buildServer } from '../../src/server/app.js';
import { ErrorResponse, PredictResponse } from '../../src/server/schemas.js';
import { badInputs, type BadInput } from '../fixtures/bad-inputs.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';
import { sampleChips } from '../helpers/data.js';

describe('quality gate', () => {
  let detector: FaceDetector;
  let bad: BadInput[];
  let app: FastifyInstance;
  before(async () => {
    detector = await loadFaceDetector();
    bad = await badInputs();
    app = await buildServer({ model: fakeModel(), detector });
  });
  after(async () => {
    await app.close();
    detector.dispose();
  });

  it('statistics alone refuse tiny, blank and flat images, and pass a real chip', async () => {
    assert.match(unusableReason({ width: 1, height: 1 }, null)!, /1×1 pixels: too small/);
    const stats = async (b: BadInput) => imageStats(await decodeImage(b.bytes, b.name));
    assert.match(unusableReason({ width: 200, height: 200 }, await stats(bad[0]!))!, /blank \(almost black/);
    assert.match(unusableReason({ width: 200, height: 200 }, await stats(bad[1]!))!, /one flat colour/);
    assert.match(unusableReason({ width: 200, height: 200 }, await stats(bad[2]!))!, /looks like noise/);
    const chip = await decodeImage(await readFile(sampleChips(1)[0]!), 'chip');
    assert.equal(unusableReason(chip, await imageStats(chip)), null);
  });

  it('a contrast just under the minimum is not printed as the minimum itself', () => {
    const reason = unusableReason({ width: 200, height: 200 }, { mean: 128, std: 5.97, laplacianVariance: 1 })!;
    assert.match(reason, /one flat colour \(contrast 5\.9, a face needs at least 6\)/);
  });

  it('library: every bad input is NO_USABLE_FACE with detection on and off, naming the input; never a prediction', async () => {
    const model = fakeModel();
    for (const b of bad) {
      const image = await decodeImage(b.bytes, b.name);
      for (const detect of [true, false]) {
        await assert.rejects(analyzeImage(model, detector, image, { detect, subject: b.name }), (e: unknown) => {
          assert.ok(e instanceof AgeGenderError, String(e));
          assert.equal(e.code, 'NO_USABLE_FACE', `${b.name}, detect ${detect}: ${e.message}`);
          assert.ok(e.message.startsWith(`${b.name}: no usable face: `), e.message);
          return true;
        });
      }
    }
    assert.equal(model.seen.length, 0, 'the model never saw a bad input');
  });

  it('library: real chips pass the gate with detection off, each with a quality score and its parts', async () => {
    for (const file of sampleChips(6)) {
      const image = await decodeImage(await readFile(file), file);
      const { faces } = await analyzeImage(fakeModel(), detector, image, { detect: false });
      const q = faces[0]!.quality;
      assert.ok(q.detector !== null && q.detector > 0.5, `${file}: detector confirms the face (${q.detector})`);
      assert.ok(q.score > 0.2 && q.score <= 1, `${file}: quality ${q.score}`);
      assert.ok(q.sharpness > 0 && q.exposure > 0);
      assert.ok(q.landmarkFit !== null && q.landmarkFit > 0.5, `${file}: five landmarks fit the chip template (${q.landmarkFit})`);
    }
  });

  it('quality parts: a sharper, well-exposed chip scores higher; landmarks far from a face shape fit badly', async () => {
    const chip = await decodeImage(await readFile(sampleChips(1)[0]!), 'chip');
    const { detection } = await gateChip(chip, detector);
    assert.ok(detection);
    const dark = { ...chip, data: chip.data.map((v) => Math.round(v * 0.15)) };
    assert.ok(faceQuality(detection, await imageStats(chip)).exposure > faceQuality(detection, await imageStats(dark)).exposure);
    const scrambled = { ...detection, landmarks: [detection.landmarks![3]!, detection.landmarks![0]!, detection.landmarks![4]!, detection.landmarks![1]!, detection.landmarks![2]!] };
    assert.ok(landmarkFit(scrambled)! < landmarkFit(detection)! - 0.3, `${landmarkFit(scrambled)} vs ${landmarkFit(detection)}`);
  });

  it('CLI: predict (and predict --no-detect) prints a NO_USABLE_FACE error row for each bad input and goes on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agegender-quality-'));
    try {
      for (const b of bad) await writeFile(join(dir, b.name), b.bytes);
      const chip = sampleChips(1)[0]!;
      await writeFile(join(dir, 'zz-chip.jpg'), await readFile(chip));
      for (const detect of [true, false]) {
        const lines: string[] = [];
        const summary = await runPredict([dir], { format: 'csv', detect, model: fakeModel(), detector, out: (t) => lines.push(t), log: () => undefined });
        assert.equal(summary.failed, bad.length, `detect ${detect}: ${lines.join('\n')}`);
        for (const b of bad) {
          const row = lines.find((l) => l.includes(b.name))!;
          assert.match(row, /,"?NO_USABLE_FACE: no usable face: /, `detect ${detect}: ${row}`);
          assert.doesNotMatch(row, /,(male|female|uncertain),/);
        }
        if (!detect) assert.match(lines.find((l) => l.includes('zz-chip.jpg'))!, /,(male|female|uncertain),/, 'the real chip is predicted');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('HTTP: each bad input answers 422 NO_USABLE_FACE in the documented error shape, with ?detect=true and false', async () => {
    for (const b of bad) {
      for (const detect of ['true', 'false']) {
        const res = await app.inject({ method: 'POST', url: `/v1/predict?detect=${detect}`, payload: b.bytes });
        assert.equal(res.statusCode, 422, `${b.name}, detect=${detect}: ${res.body}`);
        const body = ErrorResponse.parse(res.json());
        assert.equal(body.error.code, 'NO_USABLE_FACE');
        assert.match(body.error.message, /no usable face: /);
        assert.deepEqual(Object.keys(res.json() as object), ['error']);
      }
    }
    const ok = await app.inject({ method: 'POST', url: '/v1/predict?detect=false', payload: await readFile(sampleChips(1)[0]!) });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.ok(PredictResponse.parse(ok.json()).faces[0]!.quality.score > 0);
  });
});
