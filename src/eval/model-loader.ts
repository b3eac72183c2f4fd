import type { AgeGenderModel } from '../model/api.js';
import type { LoadModelOptions } from '../model/index.js';

/**
 * Loads a model folder through `src/model`'s public `loadModel` (default: the shipped model).
 * Imported lazily so commands that fail early (bad arguments, missing workspace) never pay for
 * TensorFlow.js start-up.
 */
export async function loadModelFrom(dir: string | undefined, options: LoadModelOptions = {}): Promise<AgeGenderModel> {
  const { loadModel } = await import('../model/index.js');
  return loadModel(dir, options);
}

/** The default model folder (`models/default` in the package), for reports that read its files. */
export async function defaultModelDir(): Promise<string> {
  const mod = await import('../model/index.js');
  return mod.defaultModelDir();
}
