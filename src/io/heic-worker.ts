/**
 * Worker thread body for HEIC decoding ({@link ./heic.ts}): keeps libheif's synchronous work off the
 * main thread. Answers `{ op: 'size' }` with the primary image's size and `{ op: 'decode' }` with its
 * RGBA pixels (moved, not copied).
 */
import { serveRequests } from '../core/worker.js';
import { decodeHeicHere, heicSizeHere, type HeicPixels, type HeicRequest, type HeicSize } from './heic.js';

serveRequests<HeicRequest, HeicSize | HeicPixels>((request) => (request.op === 'size' ? heicSizeHere(request.bytes) : decodeHeicHere(request.bytes)), {
  // the pixels sit in a fresh ArrayBuffer of their own (decodeHeicHere allocates it per image)
  transfer: (response) => ('data' in response ? [response.data.buffer as ArrayBuffer] : []),
});
