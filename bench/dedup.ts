// npm run bench:dedup — near-duplicate search: the multi-index Hamming search against a plain
// all-pairs scan on the same ~30k real pHashes, then the index alone on 1,000,000 synthetic hashes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mulberry32 } from 'agegender/core';
import { findNearPairs, findNearPairsBruteForce, hashTableFromHex, type HashTable64, type NearPair } from 'agegender/data';
import { benchOptions, existingPath } from './args.js';

const threshold = 5;
const usage = `Usage: npm run bench:dedup   (no options; -h, --help: this text)

Environment: AGEGENDER_UTKFACE_DIR (dataset with phash-reference.tsv, default ../shared/datasets/utkface).`;
const referenceFile = benchOptions('bench:dedup', usage, process.argv.slice(2), () => {
  parseArgs({ options: {} });
  const dataDir = process.env.AGEGENDER_UTKFACE_DIR ?? join(process.cwd(), '../shared/datasets/utkface');
  return existingPath(join(dataDir, 'phash-reference.tsv'), "UTKFace reference pHashes (AGEGENDER_UTKFACE_DIR)", 'file');
});

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

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function samePairs(x: readonly NearPair[], y: readonly NearPair[]): boolean {
  return x.length === y.length && x.every((p, i) => p.a === y[i]!.a && p.b === y[i]!.b && p.distance === y[i]!.distance);
}

// 1. real hashes: the reference pHashes of every file shipped with the dataset (same values our pHash computes)
const hexes = readFileSync(referenceFile, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t')[1]!);
const real = hashTableFromHex(hexes);
// Warm both up so the JIT has optimised them (the all-pairs scan on a slice: the full scan takes seconds).
for (let warm = 0; warm < 10; warm++) findNearPairs(real, threshold);
findNearPairsBruteForce({ hi: real.hi.subarray(0, 4000), lo: real.lo.subarray(0, 4000) }, threshold);
// Interleaved rounds: each all-pairs run sits between 5 indexed runs before and 5 after, so a load
// change on this (shared) machine hits both sides of a round's ratio alike.
const rounds = 5;
const perRound = 10;
const bruteMs: number[] = [];
const indexedMs: number[] = [];
const roundRatios: number[] = [];
let pairs: NearPair[] = [];
for (let round = 0; round < rounds; round++) {
  const around: number[] = [];
  for (let r = 0; r < perRound / 2; r++) around.push(timeIt(() => findNearPairs(real, threshold)).ms);
  const brute = timeIt(() => findNearPairsBruteForce(real, threshold));
  for (let r = 0; r < perRound / 2; r++) {
    const indexed = timeIt(() => findNearPairs(real, threshold));
    around.push(indexed.ms);
    if (round === 0 && r === 0) {
      if (!samePairs(indexed.result, brute.result)) throw new Error(`indexed found ${indexed.result.length} pairs, all-pairs ${brute.result.length}, or they differ`);
      pairs = indexed.result;
    }
  }
  bruteMs.push(brute.ms);
  indexedMs.push(...around);
  roundRatios.push(brute.ms / median(around));
}
const bestRatio = Math.min(...bruteMs) / Math.min(...indexedMs);
console.log(`real pHashes        n=${hexes.length.toLocaleString('en-US')}  T=${threshold}  pairs=${pairs.length.toLocaleString('en-US')} (identical to the all-pairs scan)`);
console.log(`  all-pairs scan    ${Math.min(...bruteMs).toFixed(0)} ms best, ${median(bruteMs).toFixed(0)} ms median (${rounds} runs)`);
console.log(`  multi-index       ${Math.min(...indexedMs).toFixed(1)} ms best, ${median(indexedMs).toFixed(1)} ms median (${indexedMs.length} runs, after 10 warm-up runs)`);
console.log(`  speed-up          ${bestRatio.toFixed(0)}× best vs best; ${median(roundRatios).toFixed(0)}× median of ${rounds} interleaved rounds (range ${Math.min(...roundRatios).toFixed(0)}–${Math.max(...roundRatios).toFixed(0)}×) (target ≥ 100×)`);

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
