/**
 * Results written as they come to `<file>.partial`, so that a long run cut short (Ctrl-C, kill -9, a
 * reboot) can be continued: the mechanism `predict --out --resume` and `evaluate --photos --resume`
 * share. A run first rewrites the `.partial` whole (atomically) with the lines it keeps from the
 * earlier run, then appends each result's lines in one write as soon as the result is done; when
 * every result is in, the caller turns the `.partial` into its finished output. Without `resume` an
 * existing `.partial` is refused rather than written over: it may hold hours of work.
 *
 * @example
 *   refuseUnfinishedRun(partialPathOf(out), resume);
 *   const writer = await startPartial(partialPathOf(out), [header, ...kept]);
 *   try {
 *     for await (const r of results) await writer.append(`${JSON.stringify(r)}\n`);
 *     await writer.finish();
 *   } finally {
 *     await writer.close();
 *   }
 */
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { writeLinesAtomic } from './atomic.js';
import { AgeGenderError, fsErrorReason } from './errors.js';

/** The path results are written to until the run is complete. */
export function partialPathOf(path: string): string {
  return `${path}.partial`;
}

/** Throws INVALID_ARGUMENT naming `partial` when it exists and `resume` is not set: it is never written over silently. */
export function refuseUnfinishedRun(partial: string, resume: boolean): void {
  if (!resume && existsSync(partial)) {
    throw new AgeGenderError('INVALID_ARGUMENT', 'results of a run that did not finish: pass --resume to continue it, or delete this file to start over', { subject: partial });
  }
}

/** The text of an earlier run's results; UNREADABLE_FILE naming `path` when it cannot be read. */
export async function readEarlierResults(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new AgeGenderError('UNREADABLE_FILE', `cannot read the earlier run's results: ${fsErrorReason(error)}`, { subject: path, cause: error });
  }
}

/** Appends to a `.partial` in order; see {@link startPartial}. */
export interface PartialWriter {
  /**
   * Queues `text` (whole lines, each ending in `\n`) to be appended in one write, after those queued
   * before. The promise settles when it is written; a caller producing results one at a time awaits
   * it (so the file keeps up with the work), one producing them concurrently may leave it to `finish()`.
   */
  append(text: string): Promise<void>;
  /** Waits for every queued write and flushes the file to disk; throws the first write's error. */
  finish(): Promise<void>;
  /** Waits for the queued writes (their errors aside) and closes the file; call it in a `finally`. */
  close(): Promise<void>;
}

/** Writes `lines` (each gets a `\n`) to `partial` atomically, then opens it to append the results to come. */
export async function startPartial(partial: string, lines: Iterable<string>): Promise<PartialWriter> {
  await writeLinesAtomic(partial, lines);
  const handle = await open(partial, 'a');
  let writing: Promise<void> = Promise.resolve();
  return {
    append(text) {
      writing = writing.then(async () => void (await handle.write(text)));
      writing.catch(() => undefined); // a failed write is thrown by finish() (or to whoever awaits it), never left unhandled
      return writing;
    },
    async finish() {
      await writing;
      await handle.sync();
    },
    async close() {
      await writing.catch(() => undefined);
      await handle.close();
    },
  };
}
