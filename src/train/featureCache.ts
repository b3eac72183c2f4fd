/**
 * On-disk cache of what enters the trainable part of the network: the activation at the cut point
 * and the pooled multi-stage features, for the image and its horizontal mirror (augmentation).
 * Keyed by image content hash (sha256 of the file bytes) + encoder id + cut point, so a renamed or
 * re-split dataset reuses it and a different encoder never does.
 *
 * Layout: `<cacheDir>/<encoderId>__<cut>/<sha[0:2]>/<sha>.f16`, float16, in this order:
 * cut (orig), cut (flip), pooled (orig), pooled (flip) — or, for entries made with `mirror: false`
 * (half the extraction time), cut (orig), pooled (orig) only.
 *
 * The `jitter` variant set (jitter.ts: rotated, zoomed, shifted, relit copies; the second one
 * mirrored) lives beside it in `<encoderId>__<cut>__jitter-v<version>/`, and the `photo` set
 * (photo-augment.ts: photo-like degradations and the aligner's geometric error; the second one
 * mirrored) in `<encoderId>__<cut>__photo-v<version>/`: same layout, with the two copies in place of
 * the original and its mirror. Only training chips need them.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../core/atomic.js';
import { readSourceBytes } from '../data/sources.js';
import { decodeImage } from '../io/decode.js';
import { CUT_POINT, cutLayout, ENCODER_ID, type FaceRecEncoder } from '../model/encoder.js';
import { decodeHalfInto, encodeHalf } from '../model/half.js';
import type { RawImage } from '../io/types.js';
import { JITTER_COPIES, JITTER_VERSION, jitterChips, jitterFor } from './jitter.js';
import { degradeChip, PHOTO_AUGMENT_COPIES, PHOTO_AUGMENT_VERSION, photoAugmentFor } from './photo-augment.js';

/** Which copies of an image an entry holds: the original and its mirror, two jittered copies, or two photo-like copies. */
export type VariantSet = 'mirror' | 'jitter' | 'photo';

/** Sizes (in halfs) of a cache entry at a cut point. */
export interface EntrySizes {
  /** Elements of the cut activation. */
  cut: number;
  /** Width of the pooled features. */
  pooled: number;
  /** An entry with the mirror variant (or two jittered copies). */
  entry: number;
  /** An entry without it. */
  single: number;
}

/** Entry sizes at `cutPoint` (4×4×256 + 480 pooled at the conv256 cuts; 8×8×128 + 224 at conv128_2). */
export function entrySizes(cutPoint: string = CUT_POINT): EntrySizes {
  const l = cutLayout(cutPoint);
  return { cut: l.cutSize, pooled: l.pooledDim, entry: 2 * l.cutSize + 2 * l.pooledDim, single: l.cutSize + l.pooledDim };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function cacheRoot(cacheDir: string, cutPoint: string = CUT_POINT, set: VariantSet = 'mirror'): string {
  const base = `${ENCODER_ID.replace(/[^A-Za-z0-9._-]/g, '_')}__${cutPoint}`;
  if (set === 'jitter') return join(cacheDir, `${base}__jitter-v${JITTER_VERSION}`);
  if (set === 'photo') return join(cacheDir, `${base}__photo-v${PHOTO_AUGMENT_VERSION}`);
  return join(cacheDir, base);
}

export function entryPath(cacheDir: string, hash: string, cutPoint: string = CUT_POINT, set: VariantSet = 'mirror'): string {
  return join(cacheRoot(cacheDir, cutPoint, set), hash.slice(0, 2), `${hash}.f16`);
}

/** One cached entry decoded to float32. */
export interface CachedFeatures {
  cut: [Float32Array, Float32Array];
  pooled: [Float32Array, Float32Array];
}

/**
 * Reads an entry as float16 bits, always in the two-variant layout: an entry stored without the
 * mirror gets its original repeated in the mirror slots (so it trains unaugmented).
 */
export async function readEntry(cacheDir: string, hash: string, cutPoint: string = CUT_POINT, set: VariantSet = 'mirror'): Promise<{ bits: Uint16Array; mirrored: boolean } | null> {
  const p = entryPath(cacheDir, hash, cutPoint, set);
  if (!existsSync(p)) return null;
  const { cut, pooled, entry, single: singleSize } = entrySizes(cutPoint);
  const buf = await readFile(p);
  if (buf.byteLength === entry * 2) return { bits: new Uint16Array(buf.buffer, buf.byteOffset, entry).slice(), mirrored: true };
  if (set !== 'mirror' || buf.byteLength !== singleSize * 2) return null; // stale or torn: recompute
  const single = new Uint16Array(buf.buffer, buf.byteOffset, singleSize);
  const bits = new Uint16Array(entry);
  bits.set(single.subarray(0, cut), 0);
  bits.set(single.subarray(0, cut), cut);
  bits.set(single.subarray(cut), 2 * cut);
  bits.set(single.subarray(cut), 2 * cut + pooled);
  return { bits, mirrored: false };
}

/** Decodes an entry read at `cutPoint` into its four parts. */
export function splitEntry(bits: Uint16Array, cutPoint: string = CUT_POINT): CachedFeatures {
  const { cut, pooled, entry } = entrySizes(cutPoint);
  const f = new Float32Array(entry);
  decodeHalfInto(bits, f);
  return {
    cut: [f.subarray(0, cut), f.subarray(cut, 2 * cut)],
    pooled: [f.subarray(2 * cut, 2 * cut + pooled), f.subarray(2 * cut + pooled)],
  };
}

export interface ExtractItem {
  /** File path of the chip. */
  source: string;
  /** sha256 of the file bytes; computed when absent. */
  hash?: string;
}

export interface ExtractProgress {
  done: number;
  total: number;
  computed: number;
}

/** A chip waiting for the stem: the decoded image and, for the `photo` set, its degraded copies. */
interface Pending {
  hash: string;
  img: tf.Tensor4D;
  degraded?: tf.Tensor4D[];
}

function tensorOf(raw: RawImage): tf.Tensor4D {
  return tf.tensor4d(raw.data, [1, raw.height, raw.width, 3], 'int32');
}

/** The chips of `set` for a batch, preprocessed, copy-major ([copy 0 of all; copy 1 of all]: the order of [originals; mirrors]). */
function variantBatch(encoder: FaceRecEncoder, pending: readonly Pending[], set: VariantSet, mirror: boolean): tf.Tensor4D {
  if (set === 'jitter' || set === 'photo') {
    const copies = Array.from({ length: set === 'jitter' ? JITTER_COPIES : PHOTO_AUGMENT_COPIES }, (_, k) =>
      tf.concat(
        pending.map((p) =>
          set === 'jitter'
            ? encoder.preprocess(jitterChips(tf.cast(p.img, 'float32'), [jitterFor(p.hash, k)]))
            : encoder.preprocess(jitterChips(tf.cast(p.degraded![k]!, 'float32'), [photoAugmentFor(p.hash, k).geometry])),
        ),
      ),
    );
    return tf.concat(copies, 0);
  }
  const x = tf.concat(pending.map((p) => encoder.preprocess(p.img)), 0);
  // mirror of the normalised input = preprocessing of the mirrored chip
  return mirror ? tf.concat([x, tf.reverse(x, 2)], 0) : x;
}

/**
 * Makes sure every item has a cache entry; computes missing ones in batches. Returns the hashes
 * in item order. Entries go under the encoder's cut point and the variant set (`mirror`, the
 * default: the original and, unless `mirror: false`, its mirror; `jitter`: two jittered copies;
 * `photo`: two photo-like copies). Unreadable images throw (the manifest should have excluded them).
 */
export async function ensureFeatures(
  encoder: FaceRecEncoder,
  items: readonly ExtractItem[],
  cacheDir: string,
  options: { batchSize?: number; mirror?: boolean; variants?: VariantSet; onProgress?: (p: ExtractProgress) => void } = {},
): Promise<string[]> {
  const batchSize = options.batchSize ?? 16;
  const set = options.variants ?? 'mirror';
  const mirror = set !== 'mirror' || (options.mirror ?? true); // the augmented layouts hold two copies
  const cutPoint = encoder.layout.cutPoint;
  const hashes: string[] = new Array<string>(items.length);
  let computed = 0;
  let pending: Pending[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const n = pending.length;
    const [cut, pooled] = tf.tidy(() => {
      const s = encoder.stem(variantBatch(encoder, pending, set, mirror));
      return [tf.reshape(s.cut, [2 * n, -1]), s.pooled];
    });
    const cutData = (await cut.data()) as Float32Array;
    const pooledData = (await pooled.data()) as Float32Array;
    cut.dispose();
    pooled.dispose();
    const { cut: C, pooled: P, entry, single } = entrySizes(cutPoint);
    for (let i = 0; i < n && !mirror; i++) {
      const out = new Uint16Array(single);
      encodeHalf(cutData.subarray(i * C, (i + 1) * C), out, 0);
      encodeHalf(pooledData.subarray(i * P, (i + 1) * P), out, C);
      await writeFileAtomic(entryPath(cacheDir, pending[i]!.hash, cutPoint), new Uint8Array(out.buffer));
    }
    for (let i = 0; i < n && mirror; i++) {
      const out = new Uint16Array(entry);
      encodeHalf(cutData.subarray(i * C, (i + 1) * C), out, 0);
      encodeHalf(cutData.subarray((n + i) * C, (n + i + 1) * C), out, C);
      encodeHalf(pooledData.subarray(i * P, (i + 1) * P), out, 2 * C);
      encodeHalf(pooledData.subarray((n + i) * P, (n + i + 1) * P), out, 2 * C + P);
      await writeFileAtomic(entryPath(cacheDir, pending[i]!.hash, cutPoint, set), new Uint8Array(out.buffer));
    }
    for (const p of pending) {
      p.img.dispose();
      for (const d of p.degraded ?? []) d.dispose();
    }
    computed += n;
    pending = [];
  };
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    let bytes: Buffer | null = null;
    let hash = item.hash;
    if (!hash) {
      bytes = await readSourceBytes(item.source); // a file path or an `archive.zip!/entry` from the manifest
      hash = sha256(bytes);
    }
    hashes[i] = hash;
    if (!existsSync(entryPath(cacheDir, hash, cutPoint, set)) && !pending.some((p) => p.hash === hash)) {
      bytes ??= await readSourceBytes(item.source);
      const raw = await decodeImage(bytes, item.source);
      const degraded = set === 'photo' ? await Promise.all(Array.from({ length: PHOTO_AUGMENT_COPIES }, (_, k) => degradeChip(raw, photoAugmentFor(hash!, k)))) : undefined;
      pending.push({ hash, img: tensorOf(raw), ...(degraded ? { degraded: degraded.map(tensorOf) } : {}) });
      if (pending.length >= batchSize) await flush();
    }
    options.onProgress?.({ done: i + 1, total: items.length, computed });
  }
  await flush();
  options.onProgress?.({ done: items.length, total: items.length, computed });
  return hashes;
}
