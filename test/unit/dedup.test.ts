import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaceLabels } from '../../src/core/types.js';
import { deduplicate, type DedupItem } from '../../src/data/dedup.js';

const L = (age: number, gender: 'male' | 'female' = 'male'): FaceLabels => ({ age, gender, ethnicity: 'White' });
const item = (source: string, sha256: string, phash: string, labels: FaceLabels | null): DedupItem => ({ source, sha256, phash, labels });

// a: exact copies (a1 = a2 bytes) plus a near twin a3 with the same labels
// b: near twins with conflicting ages; c: a loner; d: a loner with no labels
const items: DedupItem[] = [
  item('a1', 's-a', 'ffff0000ffff0000', L(30)),
  item('a2', 's-a', 'ffff0000ffff0000', L(30)),
  item('a3', 's-a3', 'ffff0000ffff0003', L(30)),
  item('b1', 's-b1', '00ff00ff00ff00ff', L(25, 'female')),
  item('b2', 's-b2', '00ff00ff00ff00fe', L(26, 'female')),
  item('c', 's-c', '0f0f0f0f0f0f0f0f', L(40)),
  item('d', 's-d', 'f0f0f0f0f0f0f0f0', null),
];

test('drop-all collapses exact copies and drops every image with a near twin (reference policy)', () => {
  const r = deduplicate(items, 5, 'drop-all');
  assert.equal(r.exactUnique, 6);
  assert.equal(r.nearPairs, 2);
  assert.equal(r.flagged, 4);
  assert.deepEqual(r.decisions.map((d) => d.status), ['flagged-near', 'duplicate-exact', 'flagged-near', 'flagged-near', 'flagged-near', 'kept', 'invalid-label']);
  assert.equal(r.decisions[1]!.duplicateOf, 'a1');
});

test('keep-one keeps one image of an agreeing cluster and drops a conflicting one whole, saying why', () => {
  const r = deduplicate(items, 5, 'keep-one');
  assert.deepEqual(r.decisions.map((d) => d.status), ['kept', 'duplicate-exact', 'duplicate-near', 'conflict', 'conflict', 'kept', 'invalid-label']);
  assert.equal(r.decisions[2]!.duplicateOf, 'a1');
  const conflict = r.clusters.find((c) => c.outcome === 'dropped-conflict');
  assert.ok(conflict);
  assert.deepEqual(conflict.members, ['b1', 'b2']);
  assert.match(conflict.reason, /conflicting labels \(25\/female\/White ×1, 26\/female\/White ×1\)/);
  assert.deepEqual(conflict.example, { a: 'b1', b: 'b2', distance: 1 });
});

test('threshold 0 only merges identical perceptual hashes', () => {
  const r = deduplicate(items, 0, 'keep-one');
  assert.equal(r.nearPairs, 0);
  assert.deepEqual(r.decisions.map((d) => d.status), ['kept', 'duplicate-exact', 'kept', 'kept', 'kept', 'kept', 'invalid-label']);
});
