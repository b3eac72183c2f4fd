import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HashCache } from '../../src/data/hash-cache.js';
import { tempDir } from '../helpers/tmp.js';

test('mid-run saves of the hash cache come after `every` new entries, then as it grows by a quarter: linear in all', async (t) => {
  const path = join(tempDir(t, 'agegender-hash-cache-'), 'hashes.json');
  const cache = await HashCache.load(path);
  const fingerprint = { sha256: 'ab', phash: '00', width: 1, height: 1, error: null };
  const saves: number[] = [];
  for (let i = 1; i <= 4000; i++) {
    cache.set(`/in/${i}.jpg`, 1, '1', fingerprint);
    if (cache.saveDue(100)) {
      await cache.saveAll(path);
      saves.push(i);
    }
  }
  assert.deepEqual(saves.slice(0, 3), [100, 200, 300]);
  assert.ok(saves.length <= 20, `${saves.length} saves`);
  const written = saves.reduce((a, b) => a + b, 0);
  assert.ok(written <= 5 * 4000, `${written} entries written for 4000`);
  assert.ok(4000 - saves.at(-1)! <= 4000 / 4 + 100, `at most a fifth lost: last save at ${saves.at(-1)}`);
  assert.equal((await HashCache.load(path)).get(`/in/${saves.at(-1)}.jpg`, 1, '1')?.sha256, 'ab', 'a saved entry reads back');
});
