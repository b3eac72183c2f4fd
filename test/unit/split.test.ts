import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../src/core/random.js';
import { ETHNICITIES, GENDERS } from '../../src/core/types.js';
import { assignSplits, crossSplitNearPairs, stratumOf, type SplitItem } from '../../src/data/split.js';

function makeItems(n: number, seed: number): SplitItem[] {
  const random = mulberry32(seed);
  const items: SplitItem[] = [];
  for (let i = 0; i < n; i++) {
    let hex = '';
    for (let k = 0; k < 16; k++) hex += Math.floor(random() * 16).toString(16);
    items.push({
      phash: hex,
      labels: { age: 1 + Math.floor(random() * 90), gender: GENDERS[Math.floor(random() * 2)]!, ethnicity: ETHNICITIES[Math.floor(random() * 5)]! },
    });
  }
  return items;
}

test('split is deterministic for a seed and changes with it', () => {
  const items = makeItems(2000, 1);
  const options = { fractions: [0.7, 0.15, 0.15] as const, seed: 42, groupDistance: 8 };
  assert.deepEqual(assignSplits(items, options).splits, assignSplits(items, options).splits);
  assert.notDeepEqual(assignSplits(items, { ...options, seed: 43 }).splits, assignSplits(items, options).splits);
});

test('split hits the fractions overall and within each stratum', () => {
  const items = makeItems(6000, 2);
  const { splits } = assignSplits(items, { fractions: [0.7, 0.15, 0.15], seed: 1, groupDistance: 8 });
  const count = (s: string): number => splits.filter((x) => x === s).length;
  assert.ok(Math.abs(count('train') / items.length - 0.7) < 0.01);
  assert.ok(Math.abs(count('test') / items.length - 0.15) < 0.01);
  const strata = new Map<string, { total: number; test: number }>();
  items.forEach((item, i) => {
    const s = strata.get(stratumOf(item.labels)) ?? { total: 0, test: 0 };
    s.total++;
    if (splits[i] === 'test') s.test++;
    strata.set(stratumOf(item.labels), s);
  });
  for (const [key, s] of strata) if (s.total >= 40) assert.ok(Math.abs(s.test / s.total - 0.15) <= 1.5 / s.total + 0.01, key);
});

test('near-duplicate groups never straddle splits at the group distance', () => {
  const items = makeItems(1000, 3);
  // chain of near twins: each within 2 bits of the previous one
  let hex = 'aaaaaaaaaaaaaaaa';
  for (let k = 0; k < 30; k++) {
    const value = BigInt(`0x${hex}`) ^ (3n << BigInt(2 * k));
    hex = value.toString(16).padStart(16, '0');
    items.push({ phash: hex, labels: { age: 20 + k, gender: 'female', ethnicity: 'Black' } });
  }
  const result = assignSplits(items, { fractions: [0.7, 0.15, 0.15], seed: 5, groupDistance: 8 });
  const chainSplits = new Set(result.splits.slice(1000));
  assert.equal(chainSplits.size, 1);
  assert.equal(crossSplitNearPairs(items.map((i) => i.phash), result.splits, 8).length, 0);
});

test('groupDistance null splits image by image: identical copies can land on both sides', () => {
  const items = makeItems(600, 6);
  // 60 faces, each present 5 times with one pHash (byte-identical or re-encoded copies)
  for (let k = 0; k < 60; k++) for (let c = 0; c < 5; c++) items.push({ ...items[k]!, phash: `${k.toString(16).padStart(2, '0')}${'0'.repeat(14)}` });
  const grouped = assignSplits(items, { fractions: [0.7, 0.15, 0.15], seed: 5, groupDistance: 0 });
  const perImage = assignSplits(items, { fractions: [0.7, 0.15, 0.15], seed: 5, groupDistance: null });
  const phashes = items.map((i) => i.phash);
  assert.equal(crossSplitNearPairs(phashes, grouped.splits, 0).length, 0);
  assert.equal(perImage.groups, items.length);
  assert.ok(crossSplitNearPairs(phashes, perImage.splits, 0).length > 20, 'copies straddle the per-image split');
  const test = perImage.splits.filter((s) => s === 'test').length / items.length;
  assert.ok(Math.abs(test - 0.15) < 0.02, `test share ${test}`);
});

test('fractions that do not sum to 1 are rejected', () => {
  assert.throws(() => assignSplits(makeItems(10, 4), { fractions: [0.7, 0.2, 0.2], seed: 1, groupDistance: 8 }), /sum to 1/);
});

test('a small set of many tiny strata still fills val and test (the first group of a stratum goes to train)', () => {
  for (const n of [30, 60, 150]) {
    const items = makeItems(n, 11 + n);
    const { splits } = assignSplits(items, { fractions: [0.7, 0.15, 0.15], seed: 42, groupDistance: 6 });
    const count = (s: string): number => splits.filter((x) => x === s).length;
    for (const [s, share] of [['train', 0.7], ['val', 0.15], ['test', 0.15]] as const) {
      assert.ok(count(s) >= share * n - Math.max(1, 0.2 * share * n), `${n} items: ${s} has ${count(s)}, share ${share * n}`);
    }
    // deterministic, and near-duplicate groups still never straddle splits
    assert.deepEqual(assignSplits(items, { fractions: [0.7, 0.15, 0.15], seed: 42, groupDistance: 6 }).splits, splits);
    assert.equal(crossSplitNearPairs(items.map((i) => i.phash), splits, 6).length, 0);
  }
  // a share of 0 stays empty
  const none = assignSplits(makeItems(30, 5), { fractions: [0.8, 0.2, 0], seed: 1, groupDistance: 6 }).splits;
  assert.equal(none.filter((x) => x === 'test').length, 0);
});
