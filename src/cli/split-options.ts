/**
 * `--model`, `--workspace` and `--split`: which model is scored on which split of which prepared
 * workspace (`evaluate`, `report`); and `prepare --split`, the train/val/test shares.
 */
import type { Command } from 'commander';
import { DEFAULTS } from '../core/defaults.js';
import { AgeGenderError } from '../core/errors.js';
import { parseNumberOption } from '../core/validate.js';
import { SPLITS } from '../core/types.js';

/** Adds the three options to `command` and returns it (for chaining). */
export function addModelSplitOptions(command: Command): Command {
  return command
    .option('--model <dir>', 'model folder (default: the shipped model)')
    .option('--workspace <dir>', 'workspace written by `agegender prepare`', DEFAULTS.workspace)
    .option('--split <name>', `split to evaluate (${SPLITS.join(', ')})`, 'test');
}

/**
 * `prepare --split train,val,test`: percentages that sum to 100 (`80,10,10`) or fractions that sum
 * to 1 (`0.8,0.1,0.1`), as fractions of 1. Train and val must each get a share (test may be 0).
 * Errors: INVALID_ARGUMENT naming --split.
 *
 * @example
 *   parseSplitFractions('70,15,15'); // [0.7, 0.15, 0.15]
 */
export function parseSplitFractions(raw: string): [number, number, number] {
  const parts = raw.split(/[,/]/).map((p) => parseNumberOption(p, '--split', 0, 100));
  const refuse = (reason: string, detail = ''): AgeGenderError =>
    new AgeGenderError('INVALID_ARGUMENT', `expected ${reason} (train,val,test) but received "${raw}"${detail}`, { subject: '--split' });
  if (parts.length !== 3) throw refuse('three numbers');
  const total = parts.reduce((a, b) => a + b, 0);
  const scale = Math.abs(total - 100) < 1e-6 ? 100 : Math.abs(total - 1) < 1e-9 ? 1 : 0;
  if (scale === 0) throw refuse('percentages that sum to 100 or fractions that sum to 1', ` (sum ${total})`);
  if (parts[0] === 0 || parts[1] === 0) throw refuse('a share above 0 for train and for val');
  const fractions = parts.map((p) => p / scale) as [number, number, number];
  fractions[2] = Math.max(0, 1 - fractions[0] - fractions[1]); // exactly 1 in all, as the split requires
  return fractions;
}
