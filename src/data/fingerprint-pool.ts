import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../core/worker.js';
import type { Fingerprint } from './fingerprint.js';

/**
 * Fingerprints on worker threads, so decoding and hashing use every core while the main thread
 * walks folders and reads files. Each worker takes the next job as soon as it is free.
 */
export class FingerprintPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, (f: Fingerprint) => void>();
  private readonly load: number[];
  private nextId = 0;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.workers = Array.from({ length: size }, () => spawnModuleWorker(import.meta.url, 'fingerprint-worker', null));
    this.load = this.workers.map(() => 0);
    this.workers.forEach((worker, w) => {
      worker.on('message', (msg: { id: number; result: Fingerprint }) => {
        this.load[w]!--;
        const resolve = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        resolve?.(msg.result);
      });
      worker.on('error', (error) => {
        for (const resolve of this.pending.values()) resolve({ sha256: null, phash: null, width: null, height: null, error: `worker failed: ${error.message}` });
        this.pending.clear();
      });
    });
  }

  /** Fingerprints one file's bytes on the least busy worker. The bytes are transferred, not copied. */
  run(bytes: Buffer, name: string, maxPixels: number): Promise<Fingerprint> {
    const id = this.nextId++;
    let w = 0;
    for (let k = 1; k < this.workers.length; k++) if (this.load[k]! < this.load[w]!) w = k;
    this.load[w]!++;
    // Copy into a fresh ArrayBuffer: Buffers from readFile may share a pooled slab.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.workers[w]!.postMessage({ id, bytes: copy, name, maxPixels }, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
