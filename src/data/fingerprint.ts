import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { reasonOf } from '../core/errors.js';
import { decodeForHash, sniffImageType } from '../io/decode.js';
import { phashFromGray } from './phash.js';

/** Bumped whenever the hash computation changes, so cached fingerprints are recomputed. */
export const FINGERPRINT_VERSION = 'sha256+phash-pil-v1';

/** What `prepare` learns from one file's bytes. Either `error` is set, or the hashes are. */
export interface Fingerprint {
  sha256: string | null;
  phash: string | null;
  width: number | null;
  height: number | null;
  error: string | null;
}

const EXTENSION_FORMAT: Record<string, string> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.webp': 'webp' };

/**
 * Content hash (SHA-256) and perceptual hash (imagehash.phash-compatible) of one file's bytes.
 * Never throws: a bad file yields `error` with the reason.
 */
export async function fingerprint(bytes: Buffer, name: string, maxPixels: number): Promise<Fingerprint> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const failed = (error: string): Fingerprint => ({ sha256, phash: null, width: null, height: null, error });
  if (bytes.length === 0) return failed('file is empty (0 bytes)');
  const sniffed = sniffImageType(bytes);
  const expected = EXTENSION_FORMAT[extname(name).toLowerCase()];
  if (sniffed && expected && sniffed !== expected) {
    return failed(`content is ${sniffed.toUpperCase()}, but the name says ${extname(name)}`);
  }
  try {
    const gray = await decodeForHash(bytes, name, { maxPixels });
    return { sha256, phash: phashFromGray(gray.data, gray.width, gray.height), width: gray.width, height: gray.height, error: null };
  } catch (error) {
    return failed(reasonOf(error));
  }
}
