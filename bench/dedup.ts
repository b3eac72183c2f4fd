// npm run bench:dedup — near-duplicate search: the multi-index Hamming search against a plain
// all-pairs scan on the same ~30k real pHashes, then the index alone on 1,000,000 synthetic hashes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../src/core/random.js';
import { findNearPairs, findNearPairsBruteForce, hashTableFromHex, type HashTable64 } from '../src/data/hamming-index.js';

const threshold = 5;
const dataDir = process.env.AGEGENDER_UTKFACE_DIR ?? join(process.cwd(), '../shared/datasets/utkface');

function timeIt<T>(fn: () => T, repeats = 1): { result: T; ms: number } {
  let best = Infinity;
  let result: T | undefined;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    result = fn();
    best = Math.min(best, performance.now() - start);
  }
  return { result: result!, ms: best };
}

// 1. real hashes: the reference pHashes of every file shipped with the dataset (same values our pHash computes)
const hexes = readFileSync(join(dataDir, 'phash-reference.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t')[1]!);
const real = hashTableFromHex(hexes);
for (let warm = 0; warm < 10; warm++) findNearPairs(real, threshold); // let the JIT optimise it
const indexed = timeIt(() => findNearPairs(real, threshold), 30);
const brute = timeIt(() => findNearPairsBruteForce(real, threshold), 3);
if (indexed.result.length !== brute.result.length) throw new Error(`indexed found ${indexed.result.length} pairs, all-pairs ${brute.result.length}`);
console.log(`real pHashes        n=${hexes.length.toLocaleString('en-US')}  T=${threshold}  pairs=${indexed.result.length.toLocaleString('en-US')}`);
console.log(`  all-pairs scan    ${brute.ms.toFixed(0)} ms (best of 3)`);
console.log(`  multi-index       ${indexed.ms.toFixed(1)} ms (best of 30, after 10 warm-up runs)`);
console.log(`  speed-up          ${(brute.ms / indexed.ms).toFixed(0)}× (target ≥ 100×)`);

// 2. one million synthetic hashes: uniform random plus planted near twins
const n = 1_000_000;
const random = mulberry32(12345);
const table: HashTable64 = { hi: new Uint32Array(n), lo: new Uint32Array(n) };
for (let i = 0; i < n; i++) {
  if (i % 100 === 99) {
    // a near twin of the previous hash: flip up to T bits
    let hi = table.hi[i - 1]!;
    let lo = table.lo[i - 1]!;
    const flips = Math.floor(random() * (threshold + 1));
    for (let f = 0; f < flips; f++) {
      const bit = Math.floor(random() * 64);
      if (bit < 32) hi ^= 1 << bit;
      else lo ^= 1 << (bit - 32);
    }
    table.hi[i] = hi >>> 0;
    table.lo[i] = lo >>> 0;
  } else {
    table.hi[i] = Math.floor(random() * 2 ** 32);
    table.lo[i] = Math.floor(random() * 2 ** 32);
  }
}
const million = timeIt(() => findNearPairs(table, threshold));
console.log(`synthetic hashes    n=${n.toLocaleString('en-US')}  T=${threshold}  pairs=${million.result.length.toLocaleString('en-US')} (≥ ${Math.floor(n / 100).toLocaleString('en-US')} planted)`);
console.log(`  multi-index       ${(million.ms / 1000).toFixed(2)} s (target ≤ 30 s)`);
