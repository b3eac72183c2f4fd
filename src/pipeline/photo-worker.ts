/**
 * Worker thread body for {@link createPhotoPool}: loads the model (one onnxruntime thread) and the
 * face detector once, then answers each `{ image }` with the photo's size and face reports.
 */
import { workerData } from 'node:worker_threads';
import { serveRequests } from '../core/worker.js';
import type { RawImage } from '../io/types.js';
import type { InferenceChoice } from '../model/index.js';
import type { DetectorPreference } from './detect.js';
import type { PhotoReply } from './photo-pool.js';

const { modelDir, load, detector: which, maxFaces } = workerData as { modelDir: string | undefined; load: InferenceChoice; detector: DetectorPreference; maxFaces: number | undefined };
const [{ loadModel }, { loadFaceDetector }, { analyzeImage, photoReport }] = await Promise.all([import('../model/index.js'), import('./detect.js'), import('./analyze.js')]);
const model = await loadModel(modelDir, { ...load, threads: 1 });
const detector = await loadFaceDetector({ detector: which, ...(maxFaces === undefined ? {} : { maxFaces }) });
serveRequests<{ image: RawImage; subject?: string }, PhotoReply>(
  async ({ image, subject }) => {
    const res = await analyzeImage(model, detector, image, { detect: true, ...(subject === undefined ? {} : { subject }) });
    return photoReport(res);
  },
  {
    ready: `${model.runtime}; detector ${detector.name}`,
    onClose: () => {
      detector.dispose();
      model.dispose();
    },
  },
);
