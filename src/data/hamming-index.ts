/**
 * Near-duplicate search over 64-bit perceptual hashes: every pair within Hamming distance ≤ T,
 * without an all-pairs scan.
 *
 * Multi-index hashing (Norouzi et al., 2012): split the 64 bits into m blocks. If two hashes differ
 * in at most T bits, at least one block differs in at most r = floor(T / m) bits (pigeonhole). So we
 * index every hash by each block, and look, per block, for the keys within r bits of each other;
 * only those candidates get a full 64-bit comparison.
 *
 * How the search is kept fast (on the 2-core dev VM: ~7 ms for the 30,888 UTKFace pHashes, ~1 s for a
 * million random ones; the all-pairs scan takes ~1.5 s for the former):
 * - identical hashes (31% of the UTKFace list repeats an earlier hash) are searched once, then expanded;
 * - each block's index is a bitset of the keys present with a rank directory: a probe is one load
 *   (most miss), a hit gives its run of ids with one popcount; runs are visited in ascending key
 *   order, so the probes for each flipped bit sweep memory in order;
 * - each pair of keys is probed from the smaller key only (k ^ mask > k), which halves the probes;
 * - a pair is kept only in the first block where it collides, so it is found exactly once;
 * - pairs are gathered in typed arrays, put in (a, b) order by two counting sorts, and become
 *   NearPair objects only at the end;
 * - every hot loop sits in its own small function over typed arrays and numbers: these functions run
 *   a handful of times per search, so the JIT compiles them mid-loop, and code after a loop it has
 *   not yet seen run would otherwise deoptimise on every call.
 */

/** Hashes as two 32-bit halves: `hi` holds bits 63..32 (the first 8 hex digits). */
export interface HashTable64 {
  hi: Uint32Array;
  lo: Uint32Array;
}

export interface NearPair {
  /** Index of the first hash (a < b). */
  a: number;
  b: number;
  distance: number;
}

export interface NearPairSearchOptions {
  /** Number of blocks (3..64); default 3, more for thresholds above 8 so the per-block radius stays ≤ 2. */
  blocks?: number;
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Parses 16-hex-digit hashes into a HashTable64. Throws on a malformed hash (naming its index). */
export function hashTableFromHex(hexes: readonly string[]): HashTable64 {
  const hi = new Uint32Array(hexes.length);
  const lo = new Uint32Array(hexes.length);
  hexes.forEach((hex, i) => {
    if (!/^[0-9a-f]{16}$/i.test(hex)) throw new Error(`hash ${i} is not 16 hex digits: ${JSON.stringify(hex)}`);
    hi[i] = Number.parseInt(hex.slice(0, 8), 16);
    lo[i] = Number.parseInt(hex.slice(8), 16);
  });
  return { hi, lo };
}

export function hammingAt(table: HashTable64, a: number, b: number): number {
  return popcount32((table.hi[a]! ^ table.hi[b]!) >>> 0) + popcount32((table.lo[a]! ^ table.lo[b]!) >>> 0);
}

/** Bit b of a hash (bit 0 = most significant bit of `hi`). */
function bitAt(hi: number, lo: number, bit: number): number {
  return bit < 32 ? (hi >>> (31 - bit)) & 1 : (lo >>> (63 - bit)) & 1;
}

/** XOR masks of `width` bits with at most `radius` bits set (0 first): probing key ^ mask covers the ball. */
function ballMasks(width: number, radius: number): Int32Array {
  const masks: number[] = [0];
  const extend = (mask: number, from: number, left: number): void => {
    for (let bit = from; bit < width; bit++) {
      const next = mask | (1 << bit);
      masks.push(next);
      if (left > 1) extend(next, bit + 1, left - 1);
    }
  };
  if (radius > 0) extend(0, 0, radius);
  return Int32Array.from(masks);
}

/**
 * Assigns the 64 bit positions to m blocks. pHash bits are far from uniform (the DC bit is always 1,
 * low frequencies are correlated), so contiguous blocks give skewed buckets. We rank bits by how
 * balanced they are over the data (p(1) near 0.5 first) and deal them round-robin, so every block
 * gets an equal share of informative bits.
 */
function assignBitsToBlocks(table: HashTable64, m: number): number[][] {
  const n = table.hi.length;
  const ones = new Float64Array(64);
  const step = Math.max(1, Math.floor(n / 1024)); // a sample is enough to rank bits
  const sampled = Math.max(1, countOnes(table.hi, table.lo, step, ones));
  const order = [...Array(64).keys()].sort((a, b) => {
    const ba = Math.abs(ones[a]! / sampled - 0.5);
    const bb = Math.abs(ones[b]! / sampled - 0.5);
    return ba - bb || a - b;
  });
  const blocks: number[][] = Array.from({ length: m }, () => []);
  // Snake order (0..m-1, m-1..0, …) keeps the blocks' total balance even.
  order.forEach((bit, rank) => {
    const round = Math.floor(rank / m);
    const pos = rank % m;
    blocks[round % 2 === 0 ? pos : m - 1 - pos]!.push(bit);
  });
  return blocks;
}

/** Adds up each bit over every `step`-th hash into `ones`; returns how many hashes were sampled. */
function countOnes(his: Uint32Array, los: Uint32Array, step: number, ones: Float64Array): number {
  let sampled = 0;
  for (let i = 0; i < his.length; i += step, sampled++) {
    for (let bit = 0; bit < 64; bit++) ones[bit]! += bitAt(his[i]!, los[i]!, bit);
  }
  return sampled;
}

/**
 * Three blocks of ~21 bits keep buckets near-empty even for a million hashes; more blocks only when
 * the per-block radius would pass 2 (the probe ball grows as C(21, r)).
 */
function defaultBlockCount(maxDistance: number): number {
  return Math.max(3, Math.ceil((maxDistance + 1) / 3));
}

/**
 * Finds every pair (a < b) with Hamming distance ≤ maxDistance, each exactly once, sorted by (a, b).
 * @example findNearPairs(hashTableFromHex(['ff00ff00ff00ff00', 'ff00ff00ff00ff01']), 5) // [{ a: 0, b: 1, distance: 1 }]
 */
export function findNearPairs(table: HashTable64, maxDistance: number, options: NearPairSearchOptions = {}): NearPair[] {
  if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > 64) {
    throw new RangeError(`Expected integer between 0 and 64 for maxDistance but received ${maxDistance}`);
  }
  const n = table.hi.length;
  if (n >= 2 ** 29) throw new RangeError(`at most 2^29 hashes are supported (received ${n})`);
  const m = options.blocks ?? defaultBlockCount(maxDistance);
  if (!Number.isInteger(m) || m < 3 || m > 64) throw new RangeError(`Expected integer between 3 and 64 for blocks but received ${m}`);
  const blockBits = assignBitsToBlocks(table, m);
  const widths = blockBits.map((bits) => bits.length);
  if (Math.max(...widths) > 24) throw new RangeError(`blocks=${m} gives ${Math.max(...widths)}-bit blocks; use at least 3 blocks`);
  if (n < 2) return [];

  // Identical hashes (exact and re-encoded copies) are searched once, then expanded.
  const { distinct, first, next } = collapseIdentical(table);
  const k = distinct.hi.length;
  const found = new PairList();
  if (k >= 2) searchDistinct(distinct, blockBits, maxDistance, Math.floor(maxDistance / m), found);
  let pairs = found;
  if (k < n) {
    pairs = new PairList();
    pairsWithinGroups(first, next, k, pairs);
    expandPairs(found, first, next, pairs);
  }
  const order = orderByPair(pairs.a, pairs.b, pairs.size, n);
  return toNearPairs(order, pairs.a, pairs.b, table.hi, table.lo);
}

/** Multi-index search over hashes known to be pairwise distinct; pairs go to `found` (unordered). */
function searchDistinct(table: HashTable64, blockBits: number[][], maxDistance: number, radius: number, found: PairList): void {
  const n = table.hi.length;
  const keys = new Uint32Array(blockBits.length * n);
  blockBits.forEach((bits, b) => gatherKeys(table.hi, table.lo, byteTables(bits), keys, b * n));
  // Block-major order keeps one block's index hot in cache for the whole pass.
  blockBits.forEach((bits, b) => {
    const { masks, tops } = probeMasks(bits.length, radius);
    const index = buildBlockIndex(keys, b * n, n, bits.length, table.hi, table.lo);
    searchBlock(index, b, n, keys, maxDistance, radius, bits.length, masks, tops, found);
  });
}

/**
 * Gathering a block's scattered bits one by one is slow, so each block gets 8 lookup tables (one per
 * byte of the hash, 256 entries each, concatenated) mapping a byte to its bits' share of the key.
 */
function byteTables(bits: readonly number[]): Uint32Array {
  const t = new Uint32Array(8 * 256);
  bits.forEach((bit, position) => {
    const weight = 2 ** (bits.length - 1 - position);
    const base = (bit >> 3) * 256;
    const mask = 0x80 >> (bit & 7);
    for (let v = 0; v < 256; v++) if (v & mask) t[base + v]! += weight;
  });
  return t;
}

/** keys[out + i] = this block's key of hash i. */
function gatherKeys(his: Uint32Array, los: Uint32Array, t: Uint32Array, keys: Uint32Array, out: number): void {
  for (let i = 0; i < his.length; i++) {
    const hi = his[i]!;
    const lo = los[i]!;
    keys[out + i] =
      t[hi >>> 24]! + t[256 + ((hi >>> 16) & 255)]! + t[512 + ((hi >>> 8) & 255)]! + t[768 + (hi & 255)]! +
      t[1024 + (lo >>> 24)]! + t[1280 + ((lo >>> 16) & 255)]! + t[1536 + ((lo >>> 8) & 255)]! + t[1792 + (lo & 255)]!;
  }
}

/**
 * Probe masks for keys of `width` bits: every mask of 1..`radius` bits, with its highest set bit in
 * `tops`. A key k only takes the probes whose top bit is 0 in k, so that k ^ mask > k: each pair of
 * distinct keys within the radius is then visited once, from the smaller key.
 */
function probeMasks(width: number, radius: number): { masks: Int32Array; tops: Int32Array } {
  const masks: number[] = [];
  const tops: number[] = [];
  for (let p = 0; p < width && radius > 0; p++) {
    for (const low of ballMasks(p, radius - 1)) {
      masks.push((1 << p) | low);
      tops.push(1 << p);
    }
  }
  return { masks: Int32Array.from(masks), tops: Int32Array.from(tops) };
}

/**
 * One block's index. The block keys present in the data form a bitset, interleaved with a rank
 * directory: `rank[2w]` holds the presence bits of keys 32w .. 32w + 31 and `rank[2w + 1]` the number
 * of present keys below 32w, so a present key's run number is one popcount away (no hashing, no
 * probing sequence; a miss costs a single load). Run r holds the ids with key `runKey[r]`, in
 * ascending order, at `ids[runStart[r]] .. ids[runStart[r + 1] - 1]`; runs are in ascending key order.
 */
interface BlockIndex {
  rank: Int32Array;
  runKey: Int32Array;
  runStart: Int32Array;
  ids: Int32Array;
  /** The hashes of `ids`, in the same order, so that comparing two runs reads memory in order. */
  runHi: Int32Array;
  runLo: Int32Array;
}

function buildBlockIndex(keys: Uint32Array, offset: number, n: number, width: number, his: Uint32Array, los: Uint32Array): BlockIndex {
  const rank = new Int32Array(2 * ((2 ** width + 31) >>> 5));
  markPresent(keys, offset, n, rank);
  const runs = countRanks(rank);
  const runKey = new Int32Array(runs);
  const runStart = new Int32Array(runs + 1);
  const runOf = new Int32Array(n);
  findRuns(keys, offset, n, rank, runOf, runKey, runStart);
  prefixSum(runStart);
  const ids = new Int32Array(n);
  const runHi = new Int32Array(n);
  const runLo = new Int32Array(n);
  scatterByRun(runOf, runStart.slice(0, runs), his, los, ids, runHi, runLo);
  return { rank, runKey, runStart, ids, runHi, runLo };
}

function markPresent(keys: Uint32Array, offset: number, n: number, rank: Int32Array): void {
  for (let i = 0; i < n; i++) {
    const key = keys[offset + i]!;
    rank[(key >>> 5) << 1]! |= 1 << (key & 31);
  }
}

/** Fills in the rank directory; returns the number of distinct keys. */
function countRanks(rank: Int32Array): number {
  let runs = 0;
  for (let w = 0; w < rank.length; w += 2) {
    rank[w + 1] = runs;
    runs += popcount32(rank[w]!);
  }
  return runs;
}

/** The run of each id, the key of each run, and the run sizes (in runStart[r + 1], to be summed). */
function findRuns(keys: Uint32Array, offset: number, n: number, rank: Int32Array, runOf: Int32Array, runKey: Int32Array, runStart: Int32Array): void {
  for (let i = 0; i < n; i++) {
    const key = keys[offset + i]!;
    const w = (key >>> 5) << 1;
    const run = rank[w + 1]! + popcount32(rank[w]! & ~(-1 << (key & 31)));
    runOf[i] = run;
    runKey[run] = key;
    runStart[run + 1]!++;
  }
}

function prefixSum(values: Int32Array): void {
  for (let i = 1; i < values.length; i++) values[i]! += values[i - 1]!;
}

/** Counting-sort scatter: ids (ascending within each run) and their hashes, in run order. */
function scatterByRun(runOf: Int32Array, cursor: Int32Array, his: Uint32Array, los: Uint32Array, ids: Int32Array, runHi: Int32Array, runLo: Int32Array): void {
  for (let i = 0; i < runOf.length; i++) {
    const p = cursor[runOf[i]!]!++;
    ids[p] = i;
    runHi[p] = his[i]!;
    runLo[p] = los[i]!;
  }
}

/**
 * All pairs that collide in block b: ids within one run (same key), and runs whose keys are within
 * `radius` bits of each other (probed from the smaller key only). A pair is reported only from the
 * first block where it collides, so each appears once over all blocks.
 */
function searchBlock(
  index: BlockIndex,
  b: number,
  n: number,
  keys: Uint32Array,
  maxDistance: number,
  radius: number,
  width: number,
  masks: Int32Array,
  tops: Int32Array,
  found: PairList,
): void {
  const { rank, runKey, runStart, ids, runHi, runLo } = index;
  const runs = runKey.length;
  const probeCount = masks.length;
  const hits = new Int32Array(probeCount + 1);
  const keyMask = 2 ** width - 1;
  for (let r = 0; r < runs; r++) {
    const s = runStart[r]!;
    const e = runStart[r + 1]!;
    // Same key: ids ascend within the run, so i < j.
    for (let x = s; x + 1 < e; x++) {
      const hi = runHi[x]!;
      const lo = runLo[x]!;
      for (let y = x + 1; y < e; y++) {
        if (popcount32(hi ^ runHi[y]!) + popcount32(lo ^ runLo[y]!) > maxDistance) continue;
        const i = ids[x]!;
        const j = ids[y]!;
        if (!collidesEarlier(keys, n, b, i, j, radius)) found.push(i, j);
      }
    }
    if (radius === 0) continue;
    const key = runKey[r]!;
    // Most probes miss, so the hits are first collected without a branch per probe (it would
    // mispredict), then visited.
    let hitCount = 0;
    if (radius === 1) {
      for (let zeros = ~key & keyMask; zeros !== 0; zeros &= zeros - 1) {
        const probe = key | (zeros & -zeros);
        hits[hitCount] = probe;
        hitCount += (rank[(probe >>> 5) << 1]! >>> (probe & 31)) & 1;
      }
    } else {
      for (let q = 0; q < probeCount; q++) {
        const probe = key ^ masks[q]!;
        hits[hitCount] = probe;
        hitCount += ((rank[(probe >>> 5) << 1]! >>> (probe & 31)) & 1) & (((key & tops[q]!) - 1) >>> 31);
      }
    }
    for (let h = 0; h < hitCount; h++) {
      const probe = hits[h]!;
      const w = (probe >>> 5) << 1;
      const run = rank[w + 1]! + popcount32(rank[w]! & ~(-1 << (probe & 31)));
      const s2 = runStart[run]!;
      const e2 = runStart[run + 1]!;
      for (let x = s; x < e; x++) {
        const hi = runHi[x]!;
        const lo = runLo[x]!;
        for (let y = s2; y < e2; y++) {
          if (popcount32(hi ^ runHi[y]!) + popcount32(lo ^ runLo[y]!) > maxDistance) continue;
          const i = ids[x]!;
          const j = ids[y]!;
          if (collidesEarlier(keys, n, b, i, j, radius)) continue;
          if (i < j) found.push(i, j);
          else found.push(j, i);
        }
      }
    }
  }
}

/** Whether hashes i and j already collide (block keys within `radius` bits) in a block before b. */
function collidesEarlier(keys: Uint32Array, n: number, b: number, i: number, j: number, radius: number): boolean {
  for (let e = 0, off = 0; e < b; e++, off += n) if (popcount32(keys[off + i]! ^ keys[off + j]!) <= radius) return true;
  return false;
}

/** Growable list of index pairs, kept in typed arrays until the end. */
class PairList {
  a: Int32Array;
  b: Int32Array;
  size: number;

  constructor() {
    this.a = new Int32Array(4096);
    this.b = new Int32Array(4096);
    this.size = 0;
  }

  push(a: number, b: number): void {
    if (this.size === this.a.length) this.grow();
    this.a[this.size] = a;
    this.b[this.size] = b;
    this.size++;
  }

  private grow(): void {
    const a = new Int32Array(this.a.length * 2);
    const b = new Int32Array(this.b.length * 2);
    a.set(this.a);
    b.set(this.b);
    this.a = a;
    this.b = b;
  }
}

/**
 * Distinct hash values, each once in order of first occurrence: `distinct` holds them, `first[g]` is
 * the first original index of distinct hash g, and `next[i]` the next original index with the same
 * hash as i (-1 at the end), so each value's indices form an ascending chain.
 */
function collapseIdentical(table: HashTable64): { distinct: HashTable64; first: Int32Array; next: Int32Array } {
  const n = table.hi.length;
  let slotBits = 4;
  while (2 ** slotBits < 2 * n) slotBits++;
  const first = new Int32Array(n);
  const next = new Int32Array(n);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const k = groupIdentical(table.hi, table.lo, new Int32Array(2 ** slotBits), slotBits, first, new Int32Array(n), next, hi, lo);
  return { distinct: { hi: hi.subarray(0, k), lo: lo.subarray(0, k) }, first, next };
}

/** Open-addressing pass behind collapseIdentical (`slots` holds distinct index + 1, 0 = empty); returns the distinct count. */
function groupIdentical(
  his: Uint32Array,
  los: Uint32Array,
  slots: Int32Array,
  slotBits: number,
  first: Int32Array,
  last: Int32Array,
  next: Int32Array,
  hi: Uint32Array,
  lo: Uint32Array,
): number {
  const shift = 32 - slotBits;
  const mask = slots.length - 1;
  let k = 0;
  for (let i = 0; i < his.length; i++) {
    const h = his[i]!;
    const l = los[i]!;
    next[i] = -1;
    for (let slot = Math.imul(h ^ Math.imul(l, 0x85ebca6b), 0x9e3779b1) >>> shift; ; slot = (slot + 1) & mask) {
      const v = slots[slot]!;
      if (v === 0) {
        slots[slot] = k + 1;
        first[k] = i;
        last[k] = i;
        hi[k] = h;
        lo[k] = l;
        k++;
        break;
      }
      const g = v - 1;
      if (hi[g] === h && lo[g] === l) {
        next[last[g]!] = i;
        last[g] = i;
        break;
      }
    }
  }
  return k;
}

/** The pairs of identical hashes (distance 0), in original indices. */
function pairsWithinGroups(first: Int32Array, next: Int32Array, k: number, out: PairList): void {
  for (let g = 0; g < k; g++) {
    for (let a = first[g]!; a >= 0; a = next[a]!) for (let b = next[a]!; b >= 0; b = next[b]!) out.push(a, b);
  }
}

/** Maps pairs of distinct hashes back to every pair of their original indices (a < b). */
function expandPairs(found: PairList, first: Int32Array, next: Int32Array, out: PairList): void {
  for (let p = 0; p < found.size; p++) {
    for (let a = first[found.a[p]!]!; a >= 0; a = next[a]!) {
      for (let b = first[found.b[p]!]!; b >= 0; b = next[b]!) {
        if (a < b) out.push(a, b);
        else out.push(b, a);
      }
    }
  }
}

/** The permutation that sorts the pairs by (a, b): two stable counting sorts (by b, then by a); values are < n. */
function orderByPair(a: Int32Array, b: Int32Array, size: number, n: number): Int32Array {
  const count = new Int32Array(n + 1);
  const byB = new Int32Array(size);
  for (let p = 0; p < size; p++) count[b[p]! + 1]!++;
  prefixSum(count);
  for (let p = 0; p < size; p++) byB[count[b[p]!]!++] = p;
  count.fill(0);
  const order = new Int32Array(size);
  for (let p = 0; p < size; p++) count[a[p]! + 1]!++;
  prefixSum(count);
  for (let q = 0; q < size; q++) {
    const p = byB[q]!;
    order[count[a[p]!]!++] = p;
  }
  return order;
}

function toNearPairs(order: Int32Array, as: Int32Array, bs: Int32Array, his: Uint32Array, los: Uint32Array): NearPair[] {
  const pairs: NearPair[] = [];
  for (let q = 0; q < order.length; q++) {
    const p = order[q]!;
    const a = as[p]!;
    const b = bs[p]!;
    pairs.push({ a, b, distance: popcount32(his[a]! ^ his[b]!) + popcount32(los[a]! ^ los[b]!) });
  }
  return pairs;
}

/** The plain O(n²) scan: the reference the index is tested and benchmarked against. */
export function findNearPairsBruteForce(table: HashTable64, maxDistance: number): NearPair[] {
  const n = table.hi.length;
  const pairs: NearPair[] = [];
  for (let i = 0; i < n; i++) {
    const hi = table.hi[i]!;
    const lo = table.lo[i]!;
    for (let j = i + 1; j < n; j++) {
      const distance = popcount32((hi ^ table.hi[j]!) >>> 0) + popcount32((lo ^ table.lo[j]!) >>> 0);
      if (distance <= maxDistance) pairs.push({ a: i, b: j, distance });
    }
  }
  return pairs;
}
