// Pins the cleaning figures on the shared UTKFace copy against the independent reference in its
// README (imagehash.phash, exact duplicates collapsed first, pairs ≤ 5 flagged, drop-all policy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { prepare } from '../../src/data/prepare.js';
import { utkfaceDir } from '../helpers/data.js';
import { tempDir } from '../helpers/tmp.js';

const within1Percent = (actual: number, expected: number, what: string): void => {
  assert.ok(Math.abs(actual - expected) <= expected * 0.01, `${what}: ${actual} is not within ±1% of ${expected}`);
};

test('UTKFace/ alone, T=5, drop-all matches the reference figures', async (t) => {
  const workspace = tempDir(t, 'agegender-utk-');
  const s = await prepare({ inputs: [join(utkfaceDir(), 'UTKFace')], workspace, policy: 'drop-all', threshold: 5 });
  assert.equal(s.files, 21865);
  within1Percent(s.exactUnique, 21509, 'exact-unique');
  within1Percent(s.nearPairs, 663, 'near pairs');
  within1Percent(s.flagged, 1204, 'flagged');
  within1Percent(s.unflagged, 20305, 'kept (before label checks)');
  within1Percent(s.kept, 20305, 'kept');
  const malformed = s.invalidLabels.map((r) => r.source.split('/').pop()).sort();
  assert.deepEqual(malformed, ['39_1_20170116174525125.jpg.chip.jpg', '61_1_20170109142408075.jpg.chip.jpg', '61_1_20170109150557335.jpg.chip.jpg']);
  assert.equal(s.unreadable.length, 0);
  assert.equal(s.crossSplitNearPairs.withinGroupDistance, 0);

  // keep-one on the same inputs reuses every cached hash. On UTKFace/ alone it keeps slightly
  // fewer than drop-all: drop-all keeps the first of byte-identical copies whatever their labels,
  // keep-one drops a cluster whose copies disagree (e.g. the same bytes labelled 100 and 86).
  const keepOne = await prepare({ inputs: [join(utkfaceDir(), 'UTKFace')], workspace, policy: 'keep-one' });
  assert.equal(keepOne.timings.cacheMisses, 0);
  assert.ok(keepOne.droppedClusters.length > 0);
  assert.ok(keepOne.droppedClusters.every((c) => c.outcome === 'dropped-conflict' && /conflicting labels \(.+×\d/.test(c.reason)));
  assert.equal(keepOne.crossSplitNearPairs.withinGroupDistance, 0);
  // label noise seen without a model: byte-identical images filed under two records (collection
  // datetimes) carry ages more than 8 years apart in about one pair in six
  const same = keepOne.labelAgreement.identicalBytes;
  assert.equal(same.pairs, 371);
  assert.ok(same.ageDifferenceOver8 > 0.17 && same.ageDifferenceOver8 < 0.19, `ages differ by > 8 in ${same.ageDifferenceOver8}`);
  assert.ok(same.genderDisagree > 0.1 && same.genderDisagree < 0.12, `genders differ in ${same.genderDisagree}`);
});

test('UTKFace/ + crop_part1/: drop-all matches the reference, keep-one keeps far more', async (t) => {
  const workspace = tempDir(t, 'agegender-utk-both-');
  const inputs = [join(utkfaceDir(), 'UTKFace'), join(utkfaceDir(), 'crop_part1')];
  const dropAll = await prepare({ inputs, workspace, policy: 'drop-all' });
  assert.equal(dropAll.files, 30888);
  within1Percent(dropAll.exactUnique, 30397, 'exact-unique');
  within1Percent(dropAll.nearPairs, 10289, 'near pairs');
  within1Percent(dropAll.flagged, 18493, 'flagged');
  within1Percent(dropAll.unflagged, 11904, 'kept (before label checks)');
  const keepOne = await prepare({ inputs, workspace, policy: 'keep-one' });
  assert.ok(keepOne.kept > dropAll.kept * 1.5, `keep-one kept ${keepOne.kept}, drop-all ${dropAll.kept}`);
  assert.equal(keepOne.crossSplitNearPairs.withinGroupDistance, 0);
  for (const c of keepOne.droppedClusters) assert.match(c.reason, /conflicting labels \(.+×\d|no member has valid labels/);
  // grouping at distance 8 chained 7,611 stranger pairs into one group of 4,181 files, all in train
  // (a 76/12/12 split); at 6 the groups stay small and the split hits its fractions
  assert.ok(keepOne.split.largestGroup < 100, `largest group ${keepOne.split.largestGroup}`);
  const share = (split: 'train' | 'val' | 'test'): number => keepOne.split.counts[split] / keepOne.kept;
  assert.ok(Math.abs(share('train') - 0.7) < 0.01 && Math.abs(share('test') - 0.15) < 0.01, JSON.stringify(keepOne.split.counts));
  assert.ok(keepOne.crossSplitNearPairs.count > 0 && keepOne.crossSplitNearPairs.byDistance['8']! > 0, 'the audit still counts the pairs at 7–8');
});
