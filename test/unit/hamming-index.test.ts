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

/** Clustered pHash-like data: near and exact copies around a few centres, with some bits nearly fixed. */
function clusteredHexes(random: () => number, count: number): string[] {
  const hexes: string[] = [];
  const centres: string[] = [];
  for (let c = 0; c < 12; c++) {
    // the top bit always set and a few low-frequency bits mostly shared, as in real pHashes
    let centre = randomHex(random);
    centre = (BigInt(`0x${centre}`) | (1n << 63n)).toString(16).padStart(16, '0');
    if (c % 3 === 0) centre = `${'f'.repeat(4)}${centre.slice(4)}`;
    centres.push(centre);
  }
  while (hexes.length < count) {
    const roll = random();
    if (roll < 0.15 && hexes.length > 0) {
      hexes.push(hexes[Math.floor(random() * hexes.length)]!); // exact copy of an earlier hash
    } else if (roll < 0.75) {
      const centre = centres[Math.floor(random() * centres.length)]!;
      hexes.push(flipBits(centre, Math.floor(random() * 11), random)); // 0..10 bits from a centre
    } else if (roll < 0.9 && hexes.length > 0) {
      hexes.push(flipBits(hexes[Math.floor(random() * hexes.length)]!, 1 + Math.floor(random() * 3), random));
    } else {
      hexes.push(randomHex(random));
    }
  }
  return hexes;
}

test('index matches the all-pairs scan on clustered data with many identical and near hashes, T = 0..8', () => {
  for (const seed of [1, 2, 3]) {
    const table = hashTableFromHex(clusteredHexes(mulberry32(seed), 1200));
    for (let threshold = 0; threshold <= 8; threshold++) {
      const expected = findNearPairsBruteForce(table, threshold);
      for (const blocks of [undefined, 3, 4, 5, 6, 9]) {
        const found = findNearPairs(table, threshold, blocks === undefined ? {} : { blocks });
        assert.deepEqual(found, expected, `seed ${seed}, threshold ${threshold}, blocks ${blocks ?? 'default'}`);
      }
    }
  }
});

test('index matches the all-pairs scan for large thresholds and radii (probe balls of up to 4 bits)', () => {
  const table = hashTableFromHex(clusteredHexes(mulberry32(11), 400));
  for (const [threshold, blocks] of [[12, 3], [11, undefined], [16, 4], [20, undefined], [64, undefined], [64, 8]] as const) {
    const found = findNearPairs(table, threshold, blocks === undefined ? {} : { blocks });
    assert.deepEqual(found, findNearPairsBruteForce(table, threshold), `threshold ${threshold}, blocks ${blocks ?? 'default'}`);
  }
});

test('large groups of identical hashes expand to every pair (beyond the initial pair buffer)', () => {
  const random = mulberry32(5);
  const hexes: string[] = [];
  const a = randomHex(random);
  const b = flipBits(a, 3, random);
  for (let i = 0; i < 150; i++) hexes.push(i % 3 === 0 ? b : a); // 100 copies of a, 50 of b, interleaved
  for (let i = 0; i < 50; i++) hexes.push(randomHex(random));
  const table = hashTableFromHex(hexes);
  const found = findNearPairs(table, 5);
  assert.deepEqual(found, findNearPairsBruteForce(table, 5));
  assert.ok(found.length >= (150 * 149) / 2, 'every pair among the 150 near copies');
  assert.deepEqual(findNearPairs(table, 0), findNearPairsBruteForce(table, 0));
});

test('tiny and degenerate inputs', () => {
  assert.deepEqual(findNearPairs(hashTableFromHex([]), 5), []);
  assert.deepEqual(findNearPairs(hashTableFromHex(['0123456789abcdef']), 5), []);
  const same = hashTableFromHex(['8000000000000001', '8000000000000001']);
  assert.deepEqual(findNearPairs(same, 0), [{ a: 0, b: 1, distance: 0 }]);
  // hashes differing only in the top bit of each half (sign bits of the 32-bit halves)
  const signs = hashTableFromHex(['0000000000000000', '8000000000000000', '0000000080000000', '8000000080000000']);
  assert.deepEqual(findNearPairs(signs, 1), findNearPairsBruteForce(signs, 1));
  assert.deepEqual(findNearPairs(signs, 2), findNearPairsBruteForce(signs, 2));
});
