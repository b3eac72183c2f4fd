/**
 * `loadModel` behind a dynamic import. Workflows and commands import this instead of `./index.js`,
 * so a run that fails before it needs a model (bad arguments, no workspace) never starts
 * TensorFlow.js, and registering a command loads none of it.
 *
 * @example const model = await loadModelFrom(opts.modelDir, { flipTta: false }); // undefined: the shipped model
 */
import type { AgeGenderModel } from './api.js';
import type { InferenceChoice, LoadModelOptions } from './index.js';

/** Loads a model folder (default: the shipped model) through `loadModel`; the caller disposes it. */
export async function loadModelFrom(dir: string | undefined, options: LoadModelOptions = {}): Promise<AgeGenderModel> {
  const { loadModel } = await import('./index.js');
  return loadModel(dir, options);
}

/** Where a workflow gets its model: one the caller passes, else a folder it loads. */
export interface ModelSource {
  /** A loaded model: used as is; the caller disposes it. */
  model?: AgeGenderModel;
  /** Model folder to load when no `model` is given (default: the shipped model); disposed after use. */
  modelDir?: string;
  /** Runtime and flip test-time augmentation for the model loaded from `modelDir`. */
  load?: InferenceChoice;
}

/**
 * Runs `use` with the source's model, disposing it afterwards only when it was loaded here.
 * @example const result = await withModel({ modelDir }, (model) => evaluate({ model, rows, split: 'test' }));
 */
export async function withModel<T>(source: ModelSource, use: (model: AgeGenderModel) => Promise<T>): Promise<T> {
  if (source.model) return use(source.model);
  const model = await loadModelFrom(source.modelDir, source.load ?? {});
  try {
    return await use(model);
  } finally {
    model.dispose();
  }
}
