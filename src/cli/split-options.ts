/**
 * `--model`, `--workspace` and `--split`: which model is scored on which split of which prepared
 * workspace (`evaluate`, `report`).
 */
import type { Command } from 'commander';
import { DEFAULTS } from '../core/defaults.js';
import { SPLITS } from '../core/types.js';

/** Adds the three options to `command` and returns it (for chaining). */
export function addModelSplitOptions(command: Command): Command {
  return command
    .option('--model <dir>', 'model folder (default: the shipped model)')
    .option('--workspace <dir>', 'workspace written by `agegender prepare`', DEFAULTS.workspace)
    .option('--split <name>', `split to evaluate (${SPLITS.join(', ')})`, 'test');
}
