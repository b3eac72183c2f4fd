/**
 * Worker thread body for {@link createPredictPool}: loads the model from `workerData.modelDir`
 * once (and the face detector `workerData.detector`, when named), then answers each chip batch
 * (`{ images }`) with its predictions, or (`{ images, subjects }`) with each chip's quality-gated
 * outcome (gated-chips.ts, as in-process). The protocol is core/worker.ts's `serveRequests`. The
 * tfjs wasm backend runs one thread per instance in Node, so one worker per core is how chip
 * prediction uses more than one core.
 */
import { workerData } from 'node:worker_threads';
import { AgeGenderError, reasonOf } from '../core/errors.js';
import type { AgeGenderPrediction } from '../core/types.js';
import { serveRequests } from '../core/worker.js';
import type { InferenceChoice } from '../model/index.js';
import type { DetectorPreference, FaceDetector } from './detect.js';
import { gateAndPredict } from './gated-chips.js';
import type { PredictRequest, WorkerChipOutcome } from './predict-pool.js';

const { modelDir, load, detector: which } = workerData as { modelDir: string | undefined; load: InferenceChoice; detector: DetectorPreference | null };
const { loadModel } = await import('../model/index.js');
// one onnxruntime thread per worker: the pool already spreads batches over the cores
const model = await loadModel(modelDir, { ...load, threads: 1 });
let detector: FaceDetector | null = null;
try {
  detector = which === null ? null : await (await import('./detect.js')).loadFaceDetector({ detector: which });
} catch (error) {
  model.dispose();
  throw error;
}

async function answer(msg: PredictRequest): Promise<AgeGenderPrediction[] | WorkerChipOutcome[]> {
  if (!msg.subjects) return model.predictBatch(msg.images);
  const outcomes = await gateAndPredict((images) => model.predictBatch(images), detector, msg.images.map((image, i) => ({ image, subject: msg.subjects![i] ?? '' })));
  // the reason without the subject: the caller names the file in its own row
  return outcomes.map((o) => ('error' in o ? { error: { ...(o.error instanceof AgeGenderError ? { code: o.error.code } : {}), message: reasonOf(o.error) } } : o));
}

serveRequests<PredictRequest, AgeGenderPrediction[] | WorkerChipOutcome[]>(answer, {
  ready: model.runtime,
  onClose: () => {
    detector?.dispose();
    model.dispose();
  },
});
