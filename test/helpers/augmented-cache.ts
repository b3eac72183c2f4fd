// The cache-entry check shared by the jitter and photo-augment tests: an augmented variant set
// writes two copies per chip in its own folder, differs from the mirror set, and is the same in
// any batch order (its copies depend on the image bytes alone).
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FaceRecEncoder } from '../../src/model/encoder.js';
import { cacheRoot, ensureFeatures, entryPath, readEntry, type VariantSet } from '../../src/train/featureCache.js';
import { pickChips } from './train-fixtures.js';

export async function assertAugmentedCache(encoder: FaceRecEncoder, dir: string, set: Exclude<VariantSet, 'mirror'>): Promise<void> {
  const cut = 'conv256_down';
  const items = pickChips(3).map((c) => ({ source: c.source }));
  const a = join(dir, 'a');
  const hashes = await ensureFeatures(encoder, items, a, { variants: set });
  assert.ok(cacheRoot(a, cut, set).endsWith(`__${cut}__${set}-v1`));
  for (const h of hashes) {
    assert.ok(existsSync(entryPath(a, h, cut, set)));
    assert.ok(!existsSync(entryPath(a, h, cut)), `the mirror set is not made by a ${set} run`);
  }
  await ensureFeatures(encoder, items, a); // the mirror set
  const x = (await readEntry(a, hashes[0]!, cut, set))!.bits;
  const m = (await readEntry(a, hashes[0]!, cut))!.bits;
  assert.equal(x.length, m.length);
  let differ = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== m[i]) differ++;
  assert.ok(differ > x.length / 2, `${set} copies differ from the original and its mirror (${differ} of ${x.length} halfs)`);
  // another folder, another batch order: the same bytes
  const b = join(dir, 'b');
  await ensureFeatures(encoder, [...items].reverse(), b, { variants: set, batchSize: 2 });
  for (const h of hashes) assert.deepEqual(await readFile(entryPath(b, h, cut, set)), await readFile(entryPath(a, h, cut, set)));
}
