import { availableParallelism } from 'node:os';
import { WorkerPool } from '../core/worker.js';
import type { Fingerprint } from './fingerprint.js';
import type { FingerprintJob } from './fingerprint-worker.js';

/**
 * Fingerprints on worker threads, so decoding and hashing use every core while the main thread
 * walks folders and reads files. Each job goes to the least busy worker. A worker that dies turns
 * only its own jobs into error fingerprints and is replaced (up to `size` times).
 */
export class FingerprintPool {
  readonly #pool: WorkerPool<FingerprintJob, Fingerprint>;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.#pool = new WorkerPool({ base: import.meta.url, name: 'fingerprint-worker', size, respawns: size });
  }

  /** Fingerprints one file's bytes on the least busy worker. The bytes are transferred, not copied. */
  run(bytes: Buffer, name: string, maxPixels: number): Promise<Fingerprint> {
    // Copy into a fresh ArrayBuffer: Buffers from readFile may share a pooled slab.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return this.#pool
      .request({ bytes: copy, name, maxPixels }, [copy.buffer])
      .catch((error: unknown) => ({ sha256: null, phash: null, width: null, height: null, error: `worker failed: ${error instanceof Error ? error.message : String(error)}` }));
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
