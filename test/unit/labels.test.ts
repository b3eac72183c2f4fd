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
});

test('age buckets cover every age once', () => {
  assert.equal(ageBucket(1), '0-2');
  assert.equal(ageBucket(9), '3-9');
  assert.equal(ageBucket(29), '20-29');
  assert.equal(ageBucket(70), '70+');
  assert.equal(ageBucket(116), '70+');
});
