// Worker thread body: fingerprints files sent by FingerprintPool (decode + pHash are CPU-bound JS).
import { serveRequests } from '../core/worker.js';
import { fingerprint, type Fingerprint } from './fingerprint.js';

export interface FingerprintJob {
  bytes: Uint8Array;
  name: string;
  maxPixels: number;
}

serveRequests<FingerprintJob, Fingerprint>((job) =>
  fingerprint(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), job.name, job.maxPixels).catch((error: unknown) => ({
    sha256: null,
    phash: null,
    width: null,
    height: null,
    error: String(error),
  })),
);
