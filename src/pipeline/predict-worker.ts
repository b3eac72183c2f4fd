/**
 * Worker thread body for {@link createPredictPool}: loads the model from `workerData.modelDir`
 * once, then answers each chip batch (`{ images }`) with its predictions (the protocol is
 * core/worker.ts's `serveRequests`). The tfjs wasm backend runs one thread per instance in Node,
 * so one worker per core is how chip prediction uses more than one core.
 */
import { workerData } from 'node:worker_threads';
import type { AgeGenderPrediction } from '../core/types.js';
import { serveRequests } from '../core/worker.js';
import type { InferenceChoice } from '../model/index.js';
import type { PredictRequest } from './predict-pool.js';

const { modelDir, load } = workerData as { modelDir: string | undefined; load: InferenceChoice };
const { loadModel } = await import('../model/index.js');
// one onnxruntime thread per worker: the pool already spreads batches over the cores
const model = await loadModel(modelDir, { ...load, threads: 1 });
serveRequests<PredictRequest, AgeGenderPrediction[]>((msg) => model.predictBatch(msg.images), { ready: model.runtime, onClose: () => model.dispose() });
