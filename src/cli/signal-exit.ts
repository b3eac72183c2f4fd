/**
 * Ending the process on a signal the way the signal itself would have.
 *
 * @example
 *   process.once('SIGINT', () => { say('results so far are in …'); exitBySignal('SIGINT'); });
 */
import { constants } from 'node:os';

/** How long to wait for the re-raised signal before falling back to `process.exit`, ms. */
const FALLBACK_MS = 2000;

/**
 * Ends the process by `signal`'s default action (the shell sees 128 + its number, 130 for Ctrl-C):
 * its listeners are removed and the signal is sent again. Not `process.exit`: that tears down
 * worker threads while an onnxruntime-node run is in flight in them, and the native addon then
 * aborts the whole process (`terminate called after throwing an instance of 'Napi::Error'`, SIGABRT,
 * exit status 134) — what `predict --workers 2` did on every Ctrl-C. Should the signal not end the
 * process, `process.exit(128 + n)` does after {@link FALLBACK_MS}.
 */
export function exitBySignal(signal: NodeJS.Signals, proc: Pick<NodeJS.Process, 'removeAllListeners' | 'kill' | 'pid' | 'exit'> = process): void {
  const code = 128 + (constants.signals[signal] ?? 0);
  setTimeout(() => proc.exit(code), FALLBACK_MS).unref();
  proc.removeAllListeners(signal);
  proc.kill(proc.pid, signal);
}
