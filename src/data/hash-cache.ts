import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../core/atomic.js';
import { FINGERPRINT_VERSION, type Fingerprint } from './fingerprint.js';

interface CacheEntry extends Fingerprint {
  size: number;
  stamp: string;
}

interface CacheFile {
  version: string;
  entries: Record<string, CacheEntry>;
}

/**
 * Fingerprints keyed by source, valid while size and stamp (mtime, or zip CRC) are unchanged,
 * so re-running `prepare` on unchanged inputs does not decode anything.
 */
export class HashCache {
  private entries: Map<string, CacheEntry>;
  hits = 0;
  misses = 0;

  private constructor(entries: Map<string, CacheEntry>) {
    this.entries = entries;
  }

  static async load(path: string): Promise<HashCache> {
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as CacheFile;
      if (parsed.version !== FINGERPRINT_VERSION) return new HashCache(new Map());
      return new HashCache(new Map(Object.entries(parsed.entries)));
    } catch {
      return new HashCache(new Map()); // missing or corrupt cache: start over
    }
  }

  get(source: string, size: number, stamp: string): Fingerprint | null {
    const entry = this.entries.get(source);
    if (entry && entry.size === size && entry.stamp === stamp) {
      this.hits++;
      const { size: _size, stamp: _stamp, ...fingerprint } = entry;
      return fingerprint;
    }
    this.misses++;
    return null;
  }

  /** Entries set since the last {@link saveAll}. */
  unsaved = 0;

  /**
   * Is a mid-run save due? After `every` new entries, and then only when they are a quarter of those
   * saved already, so saving the whole file again and again stays linear in its size.
   */
  saveDue(every: number): boolean {
    return this.unsaved >= Math.max(every, (this.entries.size - this.unsaved) / 4);
  }

  set(source: string, size: number, stamp: string, fingerprint: Fingerprint): void {
    this.entries.set(source, { ...fingerprint, size, stamp });
    this.unsaved++;
  }

  /** Saves every entry, old and new: the mid-run save, so an interrupted run keeps what it hashed. */
  async saveAll(path: string): Promise<void> {
    this.unsaved = 0;
    await writeJsonAtomic(path, { version: FINGERPRINT_VERSION, entries: Object.fromEntries(this.entries) } satisfies CacheFile);
  }

  /** Saves only the entries seen in this run, so removed inputs do not linger. */
  async save(path: string, seen: ReadonlySet<string>): Promise<void> {
    const entries: Record<string, CacheEntry> = {};
    for (const [source, entry] of this.entries) if (seen.has(source)) entries[source] = entry;
    await writeJsonAtomic(path, { version: FINGERPRINT_VERSION, entries } satisfies CacheFile);
  }
}
