// Worker thread body: fingerprints files sent by FingerprintPool (decode + pHash are CPU-bound JS).
import { parentPort } from 'node:worker_threads';
import { fingerprint } from './fingerprint.js';

interface Job {
  id: number;
  bytes: Uint8Array;
  name: string;
  maxPixels: number;
}

parentPort!.on('message', (job: Job) => {
  fingerprint(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), job.name, job.maxPixels).then(
    (result) => parentPort!.postMessage({ id: job.id, result }),
    (error: unknown) => parentPort!.postMessage({ id: job.id, result: { sha256: null, phash: null, width: null, height: null, error: String(error) } }),
  );
});
