// prepare --split: percentages summing to 100 or fractions summing to 1; anything else is a usage
// error (INVALID_ARGUMENT naming --split), never silently rescaled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgeGenderError } from '../../src/core/errors.js';
import { parseSplitFractions } from '../../src/cli/split-options.js';

const refused = (text: RegExp) => (e: unknown) => {
  assert.ok(e instanceof AgeGenderError, String(e));
  assert.equal(e.code, 'INVALID_ARGUMENT');
  assert.match(e.message, /--split/);
  assert.match(e.message, text);
  return true;
};

test('parseSplitFractions accepts percentages and fractions', () => {
  const close = (got: readonly number[], want: readonly number[]) => got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-12, `${got.join(',')} vs ${want.join(',')}`));
  close(parseSplitFractions('70,15,15'), [0.7, 0.15, 0.15]);
  close(parseSplitFractions('80/10/10'), [0.8, 0.1, 0.1]);
  close(parseSplitFractions('0.8,0.2,0'), [0.8, 0.2, 0]);
  close(parseSplitFractions('70.00000000000001,15,15'), [0.7, 0.15, 0.15]);
  const f = parseSplitFractions('33.3,33.3,33.4');
  assert.equal(f[0] + f[1] + f[2], 1);
});

test('parseSplitFractions refuses sums other than 100 or 1, a zero train or val share, and the wrong count', () => {
  assert.throws(() => parseSplitFractions('80,15,15'), refused(/^--split: .*sum to 100.*\(sum 110\)/));
  assert.throws(() => parseSplitFractions('40,20,20'), refused(/sum to 100/));
  assert.throws(() => parseSplitFractions('0,50,50'), refused(/train and for val/));
  assert.throws(() => parseSplitFractions('90,0,10'), refused(/train and for val/));
  assert.throws(() => parseSplitFractions('50,50'), refused(/three numbers/));
  assert.throws(() => parseSplitFractions('a,b,c'), refused(/number/));
  assert.throws(() => parseSplitFractions('-10,60,50'), refused(/between 0 and 100/));
});
