import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitRidge, predictRidge } from '../../src/core/ridge.js';
import { mulberry32 } from '../../src/core/random.js';

describe('fitRidge', () => {
  it('recovers an exact linear map with its intercept when lambda is 0', () => {
    const rand = mulberry32(3);
    const x = Array.from({ length: 50 }, () => [rand() * 4 - 2, rand() * 4 - 2, rand()]);
    const y = x.map(([a, b, c]) => [2 * a! - b! + 0.5, 3 * c! - 1]);
    const w = fitRidge(x, y, 0);
    assert.deepEqual(w.map((r) => r.map((v) => Math.round(v * 1e6) / 1e6 + 0)), [[2, 0], [-1, 0], [0, 3], [0.5, -1]]);
    assert.ok(Math.abs(predictRidge(w, [1, 1, 1])[0]! - 1.5) < 1e-9);
  });
  it('shrinks the slopes but not the intercept as lambda grows', () => {
    const x = [[-1], [0], [1]];
    const y = [[9], [10], [11]];
    const w = fitRidge(x, y, 1); // slope 2/(2+3) of 1
    assert.ok(Math.abs(w[0]![0]! - 0.4) < 1e-12);
    assert.ok(Math.abs(w[1]![0]! - 10) < 1e-12);
  });
  it('refuses dependent features without shrinkage, and mismatched rows', () => {
    assert.throws(() => fitRidge([[1, 2], [2, 4], [3, 6]], [[1], [2], [3]], 0), /linearly dependent/);
    assert.throws(() => fitRidge([[1]], [[1], [2]], 0), /matching/);
    assert.throws(() => predictRidge([[1], [0]], [1, 2]), /Expected 1 features/);
  });
});
