/**
 * Near-duplicate search over 64-bit perceptual hashes: every pair within Hamming distance ≤ T,
 * without an all-pairs scan.
 *
 * Multi-index hashing (Norouzi et al., 2012): split the 64 bits into m contiguous blocks. If two
 * hashes differ in at most T bits, at least one block differs in at most r = floor(T / m) bits
 * (pigeonhole). So we index every hash by each block, and for each hash probe, per block, every key
 * within r bits of its own; only those candidates get a full 64-bit comparison.
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
  /** Number of blocks; default chosen from the number of hashes (about 64 / log2 n, at least 3). */
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
  let sampled = 0;
  for (let i = 0; i < n; i += step, sampled++) {
    for (let bit = 0; bit < 64; bit++) ones[bit]! += bitAt(table.hi[i]!, table.lo[i]!, bit);
  }
  const order = [...Array(64).keys()].sort((a, b) => {
    const ba = Math.abs(ones[a]! / Math.max(sampled, 1) - 0.5);
    const bb = Math.abs(ones[b]! / Math.max(sampled, 1) - 0.5);
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

/**
 * Three blocks of ~21 bits keep buckets near-empty even for a million hashes; more blocks only when
 * the per-block radius would pass 2 (the probe ball grows as C(21, r)).
 */
function defaultBlockCount(maxDistance: number): number {
  return Math.max(3, Math.ceil((maxDistance + 1) / 3));
}

/** Open-addressing table from block key to a run [start, start + count) of a sorted id array. */
class BucketTable {
  private readonly mask: number;
  private readonly slotKey: Int32Array;
  private readonly slotStart: Int32Array;
  private readonly slotCount: Int32Array;
  readonly ids: Int32Array;

  /** One bit per possible key: most probes miss, and a bit test is far cheaper than a hash lookup. */
  readonly present: Uint32Array;

  constructor(keys: Uint32Array, offset: number, n: number, width: number) {
    // Ids sorted by (key, id): a stable LSD radix sort on 11-bit digits (ids start ascending).
    let order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    let scratch = new Int32Array(n);
    const counts = new Int32Array(2048);
    for (let shift = 0; shift < width; shift += 11) {
      counts.fill(0);
      for (let p = 0; p < n; p++) counts[(keys[offset + order[p]!]! >>> shift) & 2047]!++;
      for (let d = 0, sum = 0; d < 2048; d++) {
        const c = counts[d]!;
        counts[d] = sum;
        sum += c;
      }
      for (let p = 0; p < n; p++) {
        const id = order[p]!;
        scratch[counts[(keys[offset + id]! >>> shift) & 2047]!++] = id;
      }
      [order, scratch] = [scratch, order];
    }
    this.ids = order;
    this.present = new Uint32Array(Math.ceil(2 ** width / 32));
    for (let i = 0; i < n; i++) {
      const key = keys[offset + i]!;
      this.present[key >>> 5]! |= 1 << (key & 31);
    }
    let capacity = 16;
    while (capacity < n * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slotKey = new Int32Array(capacity).fill(-1);
    this.slotStart = new Int32Array(capacity);
    this.slotCount = new Int32Array(capacity);
    for (let p = 0; p < n; ) {
      const key = keys[offset + order[p]!]!;
      let q = p + 1;
      while (q < n && keys[offset + order[q]!] === key) q++;
      let slot = this.slotOf(key);
      while (this.slotKey[slot] !== -1) slot = (slot + 1) & this.mask;
      this.slotKey[slot] = key;
      this.slotStart[slot] = p;
      this.slotCount[slot] = q - p;
      p = q;
    }
  }

  private slotOf(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 8) & this.mask;
  }

  /** Start of the run for `key` in `ids`, with its length in `this.lastCount` (0 when absent; check `present` first, it is cheaper). */
  lastCount = 0;
  find(key: number): number {
    let slot = this.slotOf(key);
    for (;;) {
      const k = this.slotKey[slot]!;
      if (k === key) {
        this.lastCount = this.slotCount[slot]!;
        return this.slotStart[slot]!;
      }
      if (k === -1) {
        this.lastCount = 0;
        return 0;
      }
      slot = (slot + 1) & this.mask;
    }
  }
}

/**
 * Finds every pair (a < b) with Hamming distance ≤ maxDistance, each exactly once, sorted by (a, b).
 * @example findNearPairs(hashTableFromHex(['ff00ff00ff00ff00', 'ff00ff00ff00ff01']), 5) // [{ a: 0, b: 1, distance: 1 }]
 */
export function findNearPairs(table: HashTable64, maxDistance: number, options: NearPairSearchOptions = {}): NearPair[] {
  if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > 64) {
    throw new RangeError(`Expected integer between 0 and 64 for maxDistance but received ${maxDistance}`);
  }
  // Identical hashes (exact and re-encoded copies) are searched once, then expanded.
  const { distinct, groupOf, members } = collapseIdentical(table);
  const pairs: NearPair[] = [];
  for (const group of members.values()) {
    for (let x = 0; x < group.length; x++) for (let y = x + 1; y < group.length; y++) pairs.push({ a: group[x]!, b: group[y]!, distance: 0 });
  }
  for (const p of searchDistinct(distinct, maxDistance, options)) {
    const left = members.get(p.a) ?? [groupOf[p.a]!];
    const right = members.get(p.b) ?? [groupOf[p.b]!];
    for (const a of left) for (const b of right) pairs.push(a < b ? { a, b, distance: p.distance } : { a: b, b: a, distance: p.distance });
  }
  pairs.sort((x, y) => x.a - y.a || x.b - y.b);
  return pairs;
}

/**
 * Distinct hash values: `distinct` holds each once (in order of first occurrence), `groupOf[k]` is
 * the original index of distinct hash k, and `members.get(k)` lists all original indices when there
 * is more than one (singletons are left out).
 */
function collapseIdentical(table: HashTable64): { distinct: HashTable64; groupOf: Int32Array; members: Map<number, number[]> } {
  const n = table.hi.length;
  let capacity = 16;
  while (capacity < n * 2) capacity *= 2;
  const mask = capacity - 1;
  const slots = new Int32Array(capacity).fill(-1);
  const firstIndex: number[] = [];
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const hi = table.hi[i]!;
    const lo = table.lo[i]!;
    let slot = (Math.imul(hi ^ Math.imul(lo, 0x85ebca6b), 0x9e3779b1) >>> 7) & mask;
    for (;;) {
      const k = slots[slot]!;
      if (k === -1) {
        slots[slot] = firstIndex.length;
        firstIndex.push(i);
        break;
      }
      const f = firstIndex[k]!;
      if (table.hi[f] === hi && table.lo[f] === lo) {
        const group = members.get(k);
        if (group) group.push(i);
        else members.set(k, [f, i]);
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  const groupOf = Int32Array.from(firstIndex);
  const distinct: HashTable64 = { hi: new Uint32Array(groupOf.length), lo: new Uint32Array(groupOf.length) };
  groupOf.forEach((i, k) => {
    distinct.hi[k] = table.hi[i]!;
    distinct.lo[k] = table.lo[i]!;
  });
  return { distinct, groupOf, members };
}

/** Multi-index search over hashes known to be pairwise distinct. */
function searchDistinct(table: HashTable64, maxDistance: number, options: NearPairSearchOptions): NearPair[] {
  const n = table.hi.length;
  if (n >= 2 ** 29) throw new RangeError(`at most 2^29 hashes are supported (received ${n})`);
  const m = options.blocks ?? defaultBlockCount(maxDistance);
  if (!Number.isInteger(m) || m < 3 || m > 64) throw new RangeError(`Expected integer between 3 and 64 for blocks but received ${m}`);
  const radius = Math.floor(maxDistance / m);
  const blockBits = assignBitsToBlocks(table, m);
  const widths = blockBits.map((bits) => bits.length);
  if (Math.max(...widths) > 24) throw new RangeError(`blocks=${m} gives ${Math.max(...widths)}-bit blocks; use at least 3 blocks`);

  // keys[b * n + i] = value of block b of hash i. Gathering scattered bits one by one is slow, so
  // each block gets 8 lookup tables (one per byte of the hash) mapping a byte to its bits' share.
  const byteTables = blockBits.map((bits) => {
    const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
    bits.forEach((bit, position) => {
      const weight = 2 ** (bits.length - 1 - position);
      const byte = bit >> 3;
      const mask = 0x80 >> (bit & 7);
      for (let v = 0; v < 256; v++) if (v & mask) tables[byte]![v]! += weight;
    });
    return tables;
  });
  const keys = new Uint32Array(m * n);
  for (let i = 0; i < n; i++) {
    const hi = table.hi[i]!;
    const lo = table.lo[i]!;
    for (let b = 0; b < m; b++) {
      const t = byteTables[b]!;
      keys[b * n + i] =
        t[0]![hi >>> 24]! + t[1]![(hi >>> 16) & 255]! + t[2]![(hi >>> 8) & 255]! + t[3]![hi & 255]! +
        t[4]![lo >>> 24]! + t[5]![(lo >>> 16) & 255]! + t[6]![(lo >>> 8) & 255]! + t[7]![lo & 255]!;
    }
  }
  const tables = Array.from({ length: m }, (_, b) => new BucketTable(keys, b * n, n, widths[b]!));
  const masks = widths.map((w) => ballMasks(w, radius));
  const his = table.hi;
  const los = table.lo;
  const pairs: NearPair[] = [];
  // Block-major order keeps one block's presence bitset hot in cache for the whole pass.
  for (let b = 0; b < m; b++) {
    const buckets = tables[b]!;
    const present = buckets.present;
    const bucket = buckets.ids;
    const blockMasks = masks[b]!;
    const base = b * n;
    for (let i = 0; i < n; i++) {
      const key = keys[base + i]!;
      for (let q = 0; q < blockMasks.length; q++) {
        const probe = key ^ blockMasks[q]!;
        if ((present[probe >>> 5]! & (1 << (probe & 31))) === 0) continue;
        const start = buckets.find(probe);
        const hi = his[i]!;
        const lo = los[i]!;
        // Runs are sorted by id, so walk down from the end and stop at the first id ≤ i.
        for (let p = start + buckets.lastCount - 1; p >= start; p--) {
          const j = bucket[p]!;
          if (j <= i) break;
          const distance = popcount32((hi ^ his[j]!) >>> 0) + popcount32((lo ^ los[j]!) >>> 0);
          if (distance > maxDistance) continue;
          // Report the pair only from the first block where it collides, so each pair appears once.
          let seenEarlier = false;
          for (let e = 0; e < b && !seenEarlier; e++) seenEarlier = popcount32((keys[e * n + i]! ^ keys[e * n + j]!) >>> 0) <= radius;
          if (!seenEarlier) pairs.push({ a: i, b: j, distance });
        }
      }
    }
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
