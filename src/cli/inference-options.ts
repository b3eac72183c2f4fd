/**
 * `--runtime` and `--no-tta`: how a command that loads a model runs it (`predict`, `serve`).
 * Type-only imports, so registering the commands loads no TF.js.
 */
import type { Command } from 'commander';
import type { InferenceChoice, RuntimePreference } from '../model/index.js';

export interface InferenceCliOptions {
  runtime?: string;
  tta: boolean;
}

/** Adds the two options to `command` and returns it (for chaining). */
export function addInferenceOptions(command: Command): Command {
  return command
    .option('--runtime <name>', 'what runs the network: auto (onnxruntime-node when it loads, else TF.js), onnxruntime or tfjs (wasm); default $AGEGENDER_RUNTIME, else auto')
    .option('--no-tta', "turn off the model's flip test-time augmentation (half the compute, slightly less accurate)");
}

/**
 * What the flags ask for: only what was given, so the model folder's recorded TTA and
 * `$AGEGENDER_RUNTIME` apply otherwise. The runtime name is validated by `loadModel`.
 */
export function inferenceChoice(opts: InferenceCliOptions): InferenceChoice {
  return { ...(opts.runtime === undefined ? {} : { runtime: opts.runtime as RuntimePreference }), ...(opts.tta ? {} : { flipTta: false }) };
}
