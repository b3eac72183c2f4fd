import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ageBucket, parseUtkName } from '../../src/data/labels.js';

test('parses the four UTKFace fields', () => {
  assert.deepEqual(parseUtkName('26_1_2_20170116174525125.jpg.chip.jpg'), {
    ok: true,
    labels: { age: 26, gender: 'female', ethnicity: 'Asian' },
    datetime: '20170116174525125',
  });
  // the real dataset has one name with the dot before "jpg" missing; its labels are intact
  assert.equal(parseUtkName('55_0_0_20170116232725357jpg.chip.jpg').ok, true);
});

test('reports malformed and out-of-range labels with a reason', () => {
  const reasonOf = (name: string): string => {
    const parsed = parseUtkName(name);
    assert.equal(parsed.ok, false, name);
    return parsed.ok ? '' : parsed.reason;
  };
  assert.match(reasonOf('39_1_20170116174525125.jpg.chip.jpg'), /found 3 of 4 fields/);
  assert.match(reasonOf('0_1_2_20170116174525125.jpg.chip.jpg'), /age 0 is outside 1–120/);
  assert.match(reasonOf('121_1_2_20170116174525125.jpg.chip.jpg'), /age 121 is outside/);
  assert.match(reasonOf('30_2_2_20170116174525125.jpg.chip.jpg'), /gender 2 is not 0 \(male\) or 1 \(female\)/);
  assert.match(reasonOf('30_1_7_20170116174525125.jpg.chip.jpg'), /race 7 is not one of 0–4/);
  assert.match(reasonOf('holiday.jpg'), /does not match/);
  // a malformed name says what is wrong with it, not only that it does not match
  const expected = 'name does not match <age>_<gender>_<race>_<datetime>.jpg.chip.jpg';
  assert.equal(reasonOf('26_1_2_20170116174525125.jpg'), `${expected} (it ends in ".jpg", not ".jpg.chip.jpg")`);
  assert.equal(reasonOf('26_1_2_20170116174525125'), `${expected} (no ".jpg.chip.jpg" ending)`);
  assert.equal(reasonOf('26_female_2_20170116174525125.jpg.chip.jpg'), `${expected} (gender "female" is not a whole number)`);
  assert.equal(reasonOf('26_1_2_x.jpg.chip.jpg'), `${expected} (datetime "x" is not a whole number)`);
  assert.equal(reasonOf('26_1_2_3_4.jpg.chip.jpg'), `${expected} (found 5 fields, not 4)`);
  assert.equal(reasonOf('holiday.jpg'), `${expected} (found 1 of 4 fields)`);
});

test('age buckets cover every age once', () => {
  assert.equal(ageBucket(1), '0-2');
  assert.equal(ageBucket(9), '3-9');
  assert.equal(ageBucket(29), '20-29');
  assert.equal(ageBucket(70), '70+');
  assert.equal(ageBucket(116), '70+');
});
