import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectedComponents, UnionFind } from '../../src/data/clusters.js';

test('connected components follow chains and keep singletons', () => {
  const components = connectedComponents(7, [{ a: 0, b: 3 }, { a: 3, b: 5 }, { a: 1, b: 2 }]);
  assert.deepEqual(components, [[0, 3, 5], [1, 2], [4], [6]]);
});

test('union-find is idempotent and transitive', () => {
  const sets = new UnionFind(4);
  sets.union(0, 1);
  sets.union(1, 0);
  sets.union(2, 3);
  assert.equal(sets.find(0), sets.find(1));
  assert.notEqual(sets.find(0), sets.find(2));
  sets.union(1, 3);
  assert.equal(sets.find(0), sets.find(2));
});
