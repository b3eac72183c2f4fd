import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { countBy } from '../../src/core/count.js';

test('countBy counts per key; integer-like keys come out ascending whatever the input order', () => {
  assert.deepEqual(countBy(['b', 'a', 'b'], (x) => x), { b: 2, a: 1 });
  const byDistance = countBy([{ d: 8 }, { d: 6 }, { d: 8 }], (p) => String(p.d));
  assert.deepEqual(Object.entries(byDistance), [['6', 1], ['8', 2]]);
  assert.deepEqual(countBy([], () => 'x'), {});
});
