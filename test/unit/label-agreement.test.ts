import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { ManifestRow } from '../../src/core/types.js';
import { labelAgreement } from '../../src/data/label-agreement.js';

function row(sha: string, age: number | null, gender: 'male' | 'female', datetime: string, extra: Partial<ManifestRow> = {}): ManifestRow {
  return {
    source: `in/${age}_${datetime}.jpg`, name: `${age}_${datetime}.jpg`, size: 1, sha256: sha, phash: '0000000000000000', width: 200, height: 200,
    age, gender: age === null ? null : gender, ethnicity: age === null ? null : 'White', datetime, status: 'kept', reason: '', cluster: null, duplicateOf: null, split: null, ...extra,
  };
}

test('labelAgreement compares every pair of separate records of one image, and only those', () => {
  const rows = [
    // one image under three records: ages 53, 5 and 50 → pairs (53,5) (53,50) (5,50)
    row('a', 53, 'female', '1'), row('a', 5, 'female', '2'), row('a', 50, 'male', '3'),
    // the same record twice (a re-encoded copy keeps its datetime): not a second labelling
    row('b', 30, 'male', '4'), row('b', 30, 'male', '4', { source: 'crop/30_4.jpg' }),
    // a second image under two records that agree
    row('c', 20, 'male', '5'), row('c', 20, 'male', '6'),
    // unlabelled rows and singletons are ignored
    row('a', null, 'male', '7'), row('d', 40, 'male', '8'),
  ];
  const a = labelAgreement(rows);
  assert.equal(a.pairs, 4);
  assert.equal(a.images, 2);
  assert.deepEqual(a.byAbsAgeDifference, { '0': 1, '3': 1, '45': 1, '48': 1 });
  assert.equal(a.ageEqual, 1 / 4);
  assert.equal(a.meanAbsAgeDifference, (48 + 3 + 45 + 0) / 4);
  assert.equal(a.medianAbsAgeDifference, (3 + 45) / 2);
  assert.equal(a.ageDifferenceOver8, 2 / 4);
  assert.equal(a.ageDifferenceOver16, 2 / 4);
  assert.equal(a.genderDisagree, 2 / 4); // 53 F vs 50 M, 5 F vs 50 M
  assert.equal(a.ethnicityDisagree, 0);
  assert.deepEqual(a.examples[0], { a: 'in/53_1.jpg', b: 'in/5_2.jpg', ageA: 53, ageB: 5 });
});

test('labelAgreement groups by any image key (a duplicate cluster) and is all zeros without pairs', () => {
  const rows = [row('x', 30, 'male', '1', { cluster: 7 }), row('y', 40, 'male', '2', { cluster: 7 }), row('z', 41, 'male', '3', { cluster: null })];
  assert.equal(labelAgreement(rows).pairs, 0);
  assert.equal(labelAgreement(rows).ageDifferenceOver8, 0);
  const byCluster = labelAgreement(rows, { imageKey: (r) => (r.cluster === null ? null : String(r.cluster)) });
  assert.equal(byCluster.pairs, 1);
  assert.equal(byCluster.ageDifferenceOver8, 1);
  assert.equal(byCluster.ageDifferenceOver16, 0);
});
