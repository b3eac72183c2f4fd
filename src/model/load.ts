/**
 * `loadModel` behind a dynamic import. Workflows and commands import this instead of `./index.js`,
 * so a run that fails before it needs a model (bad arguments, no workspace) never starts
 * TensorFlow.js, and registering a command loads none of it.
 *
 * @example const model = await loadModelFrom(opts.modelDir, { flipTta: false }); // undefined: the shipped model
 */
import type { AgeGenderModel } from './api.js';
import type { LoadModelOptions } from './index.js';

/** Loads a model folder (default: the shipped model) through `loadModel`; the caller disposes it. */
export async function loadModelFrom(dir: string | undefined, options: LoadModelOptions = {}): Promise<AgeGenderModel> {
  const { loadModel } = await import('./index.js');
  return loadModel(dir, options);
}
