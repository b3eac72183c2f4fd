/**
 * Worker thread body for {@link createPredictPool}: loads the model from `workerData.modelDir`
 * once, then answers `{ id, images }` messages with `{ id, predictions }` or `{ id, error }`.
 * The tfjs wasm backend runs one thread per instance in Node, so one worker per core is how
 * chip prediction uses more than one core.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AgeGenderError } from '../core/errors.js';
import type { RawImage } from '../io/types.js';
import type { InferenceChoice } from '../model/index.js';

interface Request {
  id: number;
  images: RawImage[];
}

const port = parentPort;
if (!port) throw new Error('predict-worker must run in a worker thread');
const { modelDir, load } = workerData as { modelDir: string | undefined; load: InferenceChoice };
const { loadModel } = await import('../model/index.js');
// one onnxruntime thread per worker: the pool already spreads batches over the cores
const model = await loadModel(modelDir, { ...load, threads: 1 });
port.on('message', (msg: Request | 'close') => {
  if (msg === 'close') {
    model.dispose();
    port.close();
    return;
  }
  model.predictBatch(msg.images).then(
    (predictions) => port.postMessage({ id: msg.id, predictions }),
    (error: unknown) =>
      port.postMessage({
        id: msg.id,
        error: { code: error instanceof AgeGenderError ? error.code : 'INVALID_IMAGE', message: error instanceof Error ? error.message : String(error) },
      }),
  );
});
port.postMessage({ ready: true, runtime: model.runtime });
