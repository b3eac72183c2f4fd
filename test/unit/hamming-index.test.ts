import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../src/core/random.js';
import { findNearPairs, findNearPairsBruteForce, hashTableFromHex, popcount32 } from '../../src/data/hamming-index.js';

function randomHex(random: () => number): string {
  let hex = '';
  for (let i = 0; i < 16; i++) hex += Math.floor(random() * 16).toString(16);
  return hex;
}

/** Flips `bits` distinct random bits of a 16-hex-digit hash. */
function flipBits(hex: string, bits: number, random: () => number): string {
  let value = BigInt(`0x${hex}`);
  const chosen = new Set<number>();
  while (chosen.size < bits) chosen.add(Math.floor(random() * 64));
  for (const bit of chosen) value ^= 1n << BigInt(bit);
  return value.toString(16).padStart(16, '0');
}

test('popcount32 counts bits of unsigned 32-bit values', () => {
  assert.equal(popcount32(0), 0);
  assert.equal(popcount32(0xffffffff), 32);
  assert.equal(popcount32(0x80000001), 2);
  assert.equal(popcount32(0x0f0f0f0f), 16);
});

test('hashTableFromHex rejects malformed hashes, naming the index', () => {
  assert.throws(() => hashTableFromHex(['0123456789abcdef', 'xyz']), /hash 1 is not 16 hex digits/);
});

test('index finds exactly the pairs an all-pairs scan finds (planted near pairs + noise)', () => {
  const random = mulberry32(7);
  const hexes: string[] = [];
  for (let i = 0; i < 1500; i++) hexes.push(randomHex(random));
  // plant near twins at every distance 0..9, and a skewed cluster (pHash-like: many shared bits)
  for (let d = 0; d <= 9; d++) for (let k = 0; k < 20; k++) hexes.push(flipBits(hexes[k * 7]!, d, random));
  const base = 'f0f0f0f0f0f0f0f0';
  for (let k = 0; k < 200; k++) hexes.push(flipBits(base, 1 + (k % 8), random));
  const table = hashTableFromHex(hexes);
  for (const threshold of [0, 2, 5, 8]) {
    const expected = findNearPairsBruteForce(table, threshold);
    for (const blocks of [undefined, 3, 4, 6]) {
      const found = findNearPairs(table, threshold, blocks === undefined ? {} : { blocks });
      assert.deepEqual(found, expected, `threshold ${threshold}, blocks ${blocks ?? 'default'}`);
    }
    assert.ok(expected.length > 0, `the planted pairs give matches at threshold ${threshold}`);
  }
});

test('each pair is reported once, with a < b and the true distance', () => {
  const table = hashTableFromHex(['ffffffffffffffff', 'ffffffffffffffff', 'fffffffffffffffe', '0000000000000000']);
  assert.deepEqual(findNearPairs(table, 1), [
    { a: 0, b: 1, distance: 0 },
    { a: 0, b: 2, distance: 1 },
    { a: 1, b: 2, distance: 1 },
  ]);
});

test('invalid thresholds and block counts throw RangeError', () => {
  const table = hashTableFromHex(['ffffffffffffffff']);
  assert.throws(() => findNearPairs(table, -1), RangeError);
  assert.throws(() => findNearPairs(table, 2.5), RangeError);
  assert.throws(() => findNearPairs(table, 5, { blocks: 2 }), RangeError);
});
