/**
 * What a resumable command says when it is cut short: on Ctrl-C or SIGTERM, or when it fails once it
 * has started writing `<file>.partial`, where the results so far are and how to continue. Shared by
 * `predict --out` and `evaluate --photos`.
 *
 * @example
 *   await withResumeHint({ partial, log, stop: () => bar.stop() }, (started) => predictToFile(inputs, { out, onProgress: () => started() }));
 */
import { existsSync } from 'node:fs';
import { exitBySignal } from './signal-exit.js';

export interface ResumeHintOptions {
  /** The file the results so far are in. */
  partial: string;
  log: (line: string) => void;
  /** Ends a progress bar before the hint is printed. */
  stop?: () => void;
}

/**
 * Runs `run`, which calls `started()` once it is writing the `.partial`. Ctrl-C or SIGTERM meanwhile:
 * the hint (when the `.partial` is there), then the process ends as the signal would have. An error
 * from `run`: the hint, then the error.
 */
export async function withResumeHint<T>(options: ResumeHintOptions, run: (started: () => void) => Promise<T>): Promise<T> {
  let started = false;
  const hint = (): void => {
    options.stop?.();
    if (started && existsSync(options.partial)) options.log(`results so far are in ${options.partial}: run the same command with --resume to continue`);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    hint();
    exitBySignal(signal);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    return await run(() => {
      started = true;
    });
  } catch (error) {
    hint();
    throw error;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}
