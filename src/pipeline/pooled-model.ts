import type { AgeGenderPrediction } from '../core/types.js';
import { loadImageInput } from '../io/decode.js';
import type { ImageInput, RawImage } from '../io/types.js';
import type { AgeGenderModel } from '../model/api.js';
import type { PredictPool } from './predict-pool.js';

/**
 * Wraps a model so its batch calls (predictBatch, scoreRaw — LIME's perturbations) are split across
 * a worker pool, one share per worker, run in parallel. Single predictions stay in-process.
 * The wasm backend is single-threaded in Node, so this is how a batch uses every core.
 *
 * @example
 *   const pool = await createPredictPool({ modelDir: undefined, workers: 2 });
 *   const fast = pooledModel(await loadModel(), pool);
 *   await lime(fast, chip, { samples: 1000 });
 */
export function pooledModel(model: AgeGenderModel, pool: PredictPool): AgeGenderModel {
  const split = async (images: readonly RawImage[]): Promise<AgeGenderPrediction[]> => {
    const share = Math.ceil(images.length / pool.size);
    const parts: Array<Promise<AgeGenderPrediction[]>> = [];
    for (let start = 0; start < images.length; start += share) parts.push(pool.predictBatch(images.slice(start, start + share)));
    return (await Promise.all(parts)).flat();
  };
  return {
    metadata: model.metadata,
    runtime: `${pool.runtime}, batches on ${pool.size} worker threads`,
    genderThreshold: model.genderThreshold,
    ...(model.fingerprint ? { fingerprint: model.fingerprint } : {}),
    predict: (image: ImageInput) => model.predict(image),
    predictBatch: async (inputs: readonly ImageInput[]) => split(await Promise.all(inputs.map((input) => loadImageInput(input)))),
    scoreRaw: async (images: readonly RawImage[]) => (await split(images)).map((p) => ({ age: p.age, femaleProbability: p.femaleProbability })),
    dispose: () => model.dispose(),
  };
}
