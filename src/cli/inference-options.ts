/**
 * `--runtime`, `--no-tta` and `--gender-threshold`: how a command that loads a model runs it
 * (`predict`, `serve`).
 * Type-only imports, so registering the commands loads no TF.js.
 */
import type { Command } from 'commander';
import { parseNumberOption } from '../core/validate.js';
import type { InferenceChoice, RuntimePreference } from '../model/index.js';

export interface InferenceCliOptions {
  runtime?: string;
  tta: boolean;
  genderThreshold?: string;
}

/** The `--gender-threshold` option's text (shared with `evaluate`). */
export const GENDER_THRESHOLD_HELP =
  "gender threshold 0.5–1: a face whose more likely gender label has a lower probability is reported 'uncertain' (default: the model's, chosen on val; 0.5 answers every face)";

/** Parses `--gender-threshold` (0.5–1), or undefined when not given. */
export function parseGenderThreshold(raw: string | undefined): number | undefined {
  return raw === undefined ? undefined : parseNumberOption(raw, '--gender-threshold', 0.5, 1);
}

/** Adds the two options to `command` and returns it (for chaining). */
export function addInferenceOptions(command: Command): Command {
  return command
    .option('--runtime <name>', 'what runs the network: auto (onnxruntime-node when it loads, else TF.js), onnxruntime or tfjs (wasm); default $AGEGENDER_RUNTIME, else auto')
    .option('--no-tta', "turn off the model's flip test-time augmentation (half the compute, slightly less accurate)")
    .option('--gender-threshold <p>', GENDER_THRESHOLD_HELP);
}

/**
 * What the flags ask for: only what was given, so the model folder's recorded TTA and
 * `$AGEGENDER_RUNTIME` apply otherwise. The runtime name is validated by `loadModel`.
 */
export function inferenceChoice(opts: InferenceCliOptions): InferenceChoice {
  const genderThreshold = parseGenderThreshold(opts.genderThreshold);
  return {
    ...(opts.runtime === undefined ? {} : { runtime: opts.runtime as RuntimePreference }),
    ...(opts.tta ? {} : { flipTta: false }),
    ...(genderThreshold === undefined ? {} : { genderThreshold }),
  };
}
