import cliProgress from 'cli-progress';

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
  let started = false;
  return {
    update(value, total, payload) {
      if (!started) {
        bar.start(total ?? 0, value, payload);
        started = true;
      } else {
        if (total !== undefined) bar.setTotal(total);
        bar.update(value, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** A progress callback: a bar on a terminal, a log line every 500 images elsewhere (CI, pipes, tests). */
export function progressReporter(label: string, log: (line: string) => void): (done: number, total: number) => void {
  const bar = wantsProgressBar() ? createProgressBar(label) : null;
  let lastShown = 0;
  return (done, total) => {
    if (bar) {
      bar.update(done, total);
      if (done === total) bar.stop();
    } else if (done - lastShown >= 500 || done === total) {
      lastShown = done;
      log(`evaluated ${done}/${total}`);
    }
  };
}
