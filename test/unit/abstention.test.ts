// Gender abstention: the answer below a threshold, accuracy–coverage, and the threshold chosen on val.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AgeGenderError } from '../../src/core/errors.js';
import { checkGenderThreshold, genderAnswer } from '../../src/core/gender.js';
import { abstentionSummary, chooseGenderThreshold, coverageAt, type AbstentionRecord } from '../../src/eval/abstention.js';
import { decodePrediction } from '../../src/model/index.js';

describe('genderAnswer', () => {
  it('answers the more likely label at or above the threshold, uncertain below; the probability always comes back', () => {
    assert.deepEqual(genderAnswer(0.97, 0.8), { gender: 'female', genderProbability: 0.97 });
    assert.deepEqual(genderAnswer(0.2, 0.8), { gender: 'male', genderProbability: 0.8 });
    assert.deepEqual(genderAnswer(0.7, 0.8), { gender: 'uncertain', genderProbability: 0.7 });
    assert.deepEqual(genderAnswer(0.35, 0.8), { gender: 'uncertain', genderProbability: 0.65 });
    assert.equal(genderAnswer(0.5, 0.5).gender, 'female', '0.5 answers every face');
  });

  it('decodePrediction applies the threshold it is given', () => {
    const probs = new Float32Array(101).fill(0);
    probs[30] = 1;
    assert.equal(decodePrediction(probs, 0.6).gender, 'female');
    const p = decodePrediction(probs, 0.6, 0.75);
    assert.equal(p.gender, 'uncertain');
    assert.ok(Math.abs(p.genderProbability - 0.6) < 1e-9);
    assert.equal(p.femaleProbability, 0.6);
  });

  it('decodePrediction refuses outputs that are not numbers (corrupt weights) with MODEL_INVALID, never an age of NaN', () => {
    const nan = new Float32Array(101).fill(Number.NaN);
    assert.throws(() => decodePrediction(nan, 0.6), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_INVALID' && /not numbers .*corrupt/.test(e.message));
    const probs = new Float32Array(101).fill(0);
    probs[30] = 1;
    assert.throws(() => decodePrediction(probs, Number.NaN), (e: unknown) => e instanceof AgeGenderError && e.code === 'MODEL_INVALID');
  });

  it('a threshold outside 0.5–1 is an INVALID_ARGUMENT naming it', () => {
    for (const bad of [0.4, 1.01, Number.NaN, '0.8']) {
      assert.throws(() => checkGenderThreshold(bad, '--gender-threshold'), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /--gender-threshold/.test(e.message));
    }
    assert.equal(checkGenderThreshold(0.5), 0.5);
  });
});

// 10 faces: confident and right, confident and wrong, and unsure ones (0.55–0.7) half right.
const records: AbstentionRecord[] = [
  { age: 30, gender: 'female', femaleProbability: 0.99 },
  { age: 30, gender: 'male', femaleProbability: 0.02 },
  { age: 40, gender: 'female', femaleProbability: 0.95 },
  { age: 50, gender: 'male', femaleProbability: 0.1 },
  { age: 25, gender: 'male', femaleProbability: 0.9 }, // confident, wrong
  { age: 1, gender: 'female', femaleProbability: 0.6 },
  { age: 1, gender: 'male', femaleProbability: 0.6 }, // wrong
  { age: 5, gender: 'male', femaleProbability: 0.3 },
  { age: 5, gender: 'female', femaleProbability: 0.35 }, // wrong
  { age: 8, gender: 'male', femaleProbability: 0.45 },
];

describe('accuracy–coverage', () => {
  it('coverage and answered accuracy at a threshold', () => {
    assert.deepEqual(coverageAt(records, 0.5), { threshold: 0.5, count: 10, answered: 10, coverage: 1, accuracy: 0.7 });
    assert.deepEqual(coverageAt(records, 0.8), { threshold: 0.8, count: 10, answered: 5, coverage: 0.5, accuracy: 0.8 });
    assert.deepEqual(coverageAt([], 0.8), { threshold: 0.8, count: 0, answered: 0, coverage: null, accuracy: null });
  });

  it('chooses the lowest threshold that reaches the target (the most faces answered)', () => {
    assert.equal(chooseGenderThreshold(records, 0.6).threshold, 0.5);
    // answered accuracy: 0.7 at 0.5, 0.67 above 0.55, 0.71 above 0.6, 0.83 above 0.65
    const t = chooseGenderThreshold(records, 0.75);
    assert.equal(t.threshold, 0.651);
    assert.ok(t.accuracy !== null && t.accuracy >= 0.75);
    assert.ok(coverageAt(records, t.threshold - 0.001).accuracy! < 0.75, 'one step lower misses the target');
    assert.equal(chooseGenderThreshold(records, 0.99).threshold, 0.901, 'only the three most confident (all right) remain');
    const hopeless: AbstentionRecord[] = [{ age: 30, gender: 'male', femaleProbability: 0.9995 }];
    assert.equal(chooseGenderThreshold(hopeless, 0.97).threshold, 0.999, 'unreachable target: 0.999');
  });

  it('refuses a threshold or target accuracy outside its range (a percentage such as 97 gave 0.999 silently)', () => {
    const refused = (name: string) => (e: unknown): boolean => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message.includes(` for ${name} but received`);
    for (const target of [97, -0.1, Number.NaN]) assert.throws(() => chooseGenderThreshold(records, target), refused('targetAccuracy'), String(target));
    for (const t of [78.1, -1, Number.NaN]) assert.throws(() => coverageAt(records, t), refused('threshold'), String(t));
    for (const t of [78.1, 0.4, Number.NaN]) {
      assert.throws(() => abstentionSummary(records, t), refused('threshold'), String(t));
      assert.throws(() => genderAnswer(0.9, t), refused('threshold'), String(t));
    }
    assert.equal(coverageAt(records, 0).answered, 10);
    assert.equal(chooseGenderThreshold(records, 1).threshold, 0.901, 'a target of 1 is accepted: every answered face right');
  });

  it('summary: overall, ages 0–9, by bucket, curves', () => {
    const s = abstentionSummary(records, 0.8);
    assert.equal(s.overall.coverage, 0.5);
    assert.equal(s.overall.accuracyAll, 0.7);
    assert.equal(s.children.count, 5);
    assert.equal(s.children.answered, 0, 'no child is answered at 0.8');
    assert.equal(s.byAgeBucket.find((b) => b.group === '0-2')?.count, 2);
    assert.equal(s.curves[0]?.group, 'all');
    const at = s.curves[0]!.points.find((p) => p.threshold === 0.8);
    assert.equal(at?.answered, 5);
    assert.ok(s.curves[0]!.points.every((p, i, a) => i === 0 || p.answered <= a[i - 1]!.answered), 'coverage never rises with the threshold');
  });
});
