import cliProgress from 'cli-progress';
import type { PrepareProgress } from '../data/prepare.js';
import { exitBySignal } from './signal-exit.js';

/** True when a live progress bar makes sense: a terminal on stderr, and not CI. */
export function wantsProgressBar(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !process.env.CI;
}

/** A progress bar on a TTY; a no-op elsewhere so logs in CI stay quiet. */
export interface ProgressBar {
  update(value: number, total?: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

export function createProgressBar(label: string, format = '{bar} {percentage}% | {value}/{total} | {eta_formatted} left'): ProgressBar {
  if (!wantsProgressBar()) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(10)} ${format}`, stream: process.stderr, hideCursor: true, etaBuffer: 200 },
    cliProgress.Presets.shades_classic,
  );
  let unhook: (() => void) | null = null;
  return {
    update(value, total, payload) {
      if (!unhook) {
        bar.start(total ?? 0, value, payload);
        unhook = stopOnSignal(() => bar.stop());
      } else {
        if (total !== undefined) bar.setTotal(total);
        bar.update(value, payload);
      }
    },
    stop() {
      if (!unhook) return;
      unhook();
      unhook = null;
      bar.stop();
    },
  };
}

type SignalProcess = Pick<NodeJS.Process, 'on' | 'off' | 'listenerCount' | 'removeAllListeners' | 'kill' | 'pid' | 'exit'>;

/**
 * While a bar is shown: on Ctrl-C (SIGINT) or SIGTERM, `stop` it first (a bar hides the cursor and
 * turns line wrap off, and a process killed under it left the terminal so), then, when no other
 * handler is there to end the process (train and predict have their own), end it by the signal.
 * Returns the function that removes the handlers.
 */
export function stopOnSignal(stop: () => void, proc: SignalProcess = process): () => void {
  const on = (signal: NodeJS.Signals): void => {
    off();
    stop();
    if (proc.listenerCount(signal) === 0) exitBySignal(signal, proc);
  };
  const onInt = (): void => on('SIGINT');
  const onTerm = (): void => on('SIGTERM');
  const off = (): void => {
    proc.off('SIGINT', onInt);
    proc.off('SIGTERM', onTerm);
  };
  proc.on('SIGINT', onInt);
  proc.on('SIGTERM', onTerm);
  return off;
}

/**
 * A progress callback: a bar on a terminal, a log line every 500 images elsewhere (CI, pipes, tests).
 * Its `stop()` ends the bar early (before a message is printed on Ctrl-C); at `done === total` it ends by itself.
 */
export function progressReporter(label: string, log: (line: string) => void): ((done: number, total: number) => void) & { stop: () => void } {
  const bar = wantsProgressBar() ? createProgressBar(label) : null;
  let lastShown = 0;
  const report = (done: number, total: number): void => {
    if (bar) {
      bar.update(done, total);
      if (done === total) bar.stop();
    } else if (done - lastShown >= 500 || done === total) {
      lastShown = done;
      log(`evaluated ${done}/${total}`);
    }
  };
  return Object.assign(report, { stop: () => bar?.stop() });
}

/**
 * `prepare`'s progress: a bar while files are hashed on a terminal (its total is the files found so
 * far: folders are walked while hashing runs); elsewhere (CI, pipes, nohup logs) a line on stderr every
 * 2,000 files and at each later step. `stop()` ends the bar before the summary is printed.
 */
export function prepareProgress(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): { onProgress: (event: PrepareProgress) => void; stop: () => void } {
  const bar = wantsProgressBar() ? createProgressBar('hashing', '{bar} {value}/{total} files found | {eta_formatted} left') : null;
  let lastShown = 0;
  let phase = '';
  const steps: Record<PrepareProgress['phase'], string> = { hash: 'hashing', dedup: 'finding duplicates', split: 'splitting', write: 'writing the workspace', materialize: 'materializing splits' };
  return {
    onProgress(e) {
      if (e.phase === 'hash') {
        if (bar) bar.update(e.done, e.discovered);
        else if (e.done - lastShown >= 2000) {
          lastShown = e.done;
          write(`hashed ${e.done} of ${e.discovered} files found (${e.cached} from the cache)`);
        }
        return;
      }
      bar?.stop();
      if (!bar && e.phase !== phase) write(`${steps[e.phase]}…`);
      phase = e.phase;
    },
    stop: () => bar?.stop(),
  };
}
