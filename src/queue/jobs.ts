/**
 * Images → jobs. Each image has an identity (its absolute path with size and modification time,
 * or its URL) hashed to a 12-byte digest; a job's id is a hash of its images' identities, so the
 * same inputs give the same ids and a resubmit adds nothing twice. A job's image list is stored
 * compactly: the common prefix once and the rest of each name.
 *
 * @example
 *   const images = await identifyImages(['/data/a.jpg', 'https://example.org/b.jpg']);
 *   const jobs = planJobs(images, 64); // [{ id: 'c0ffee…', data: { d: '', n: ['/data/a.jpg', …] }, images }]
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { mapLimit } from '../core/limit.js';
import { isImageUrl } from '../pipeline/inputs.js';

/** One queued image: where workers read it and what identifies it. */
export interface QueuedImage {
  /** Absolute path (storage every worker can read) or http(s) URL. */
  source: string;
  /** 12-byte digest of the identity (path + size + mtime, or the URL). */
  digest: Buffer;
}

/** A job's data in BullMQ: `d` (common prefix) + `n` (the rest of each source), in input order. */
export interface PackedSources {
  d: string;
  n: string[];
}

export interface PlannedJob {
  id: string;
  data: PackedSources;
  images: QueuedImage[];
}

function digestOf(identity: string): Buffer {
  return createHash('sha256').update(identity).digest().subarray(0, 12);
}

/**
 * Identities of expanded inputs (paths or URLs), stat-ing files 16 at a time. A path that cannot be
 * stat-ed any more keeps its path as identity (the worker then records why it cannot be read).
 */
export async function identifyImages(sources: readonly string[]): Promise<QueuedImage[]> {
  return mapLimit(sources, 16, async (source) => {
    if (isImageUrl(source)) return { source, digest: digestOf(`url\0${source}`) };
    const path = resolve(source);
    const info = await stat(path).catch(() => null);
    return { source: path, digest: digestOf(info ? `file\0${path}\0${info.size}\0${info.mtimeMs}` : `file\0${path}`) };
  });
}

/** Longest common prefix of the sources, cut after its last `/` (so names stay whole). */
export function packSources(sources: readonly string[]): PackedSources {
  if (sources.length === 0) return { d: '', n: [] };
  let prefix = sources[0]!;
  for (const s of sources) {
    let i = 0;
    while (i < prefix.length && i < s.length && prefix[i] === s[i]) i++;
    prefix = prefix.slice(0, i);
  }
  const d = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  return { d, n: sources.map((s) => s.slice(d.length)) };
}

export function unpackSources(packed: PackedSources): string[] {
  return packed.n.map((name) => packed.d + name);
}

/** Cuts images (already without those queued before) into jobs of `batch`, ids from their digests. */
export function planJobs(images: readonly QueuedImage[], batch: number): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  for (let start = 0; start < images.length; start += batch) {
    const part = images.slice(start, start + batch);
    const hash = createHash('sha256');
    for (const image of part) hash.update(image.digest);
    jobs.push({ id: hash.digest('hex').slice(0, 32), data: packSources(part.map((i) => i.source)), images: part });
  }
  return jobs;
}
