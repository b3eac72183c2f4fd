/**
 * One run at a time per output folder. `lockFolder(folder)` creates `<folder>.lock` beside it (beside,
 * not inside: `train` swaps its whole folder in when the model is ready) holding the pid, host and
 * start of the run; a second run on the same folder fails at once (OUTPUT_IN_USE, naming the folder
 * and the holder's pid) instead of interleaving its files with the first's. A lock whose process no
 * longer runs on this host (killed with -9, a crash, a reboot, or a signal that ends the process
 * before any cleanup) is stale and taken over. `release()` removes the lock if it is still this
 * run's; so does the process's `exit` (a command that ends with `process.exit` on Ctrl-C).
 *
 * The lock file appears whole (written beside, then hard-linked into place, which fails when one is
 * there), so a reader never sees it half-written.
 *
 * @example
 *   await withFolderLock(out, 'agegender train', async () => { … write into out … });
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isRunning } from './atomic.js';
import { AgeGenderError, fsErrorReason } from './errors.js';

/** What a lock file holds: the run that holds it. */
export interface FolderLockHolder {
  pid: number;
  hostname: string;
  command: string;
  startedAt: string;
  /** Tells this run's lock from another's with the same pid (a lock taken over after a pid was reused). */
  token: string;
}

export interface FolderLock {
  /** The lock file. */
  readonly path: string;
  /** Set when a lock left by a process that no longer runs was taken over: that holder. */
  readonly tookOver: Readonly<FolderLockHolder> | null;
  /** Removes the lock file if it is still this run's; never throws. */
  release(): Promise<void>;
}

/** The lock file of `folder`. */
export function lockPathOf(folder: string): string {
  return `${resolve(folder)}.lock`;
}

const errnoOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;

/** The holder recorded in `path`; 'gone' when there is no file, null when it is not a lock's. */
async function readHolder(path: string): Promise<FolderLockHolder | 'gone' | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const h = JSON.parse(text) as Partial<FolderLockHolder> | null;
    return h && Number.isInteger(h.pid) && typeof h.hostname === 'string' && typeof h.token === 'string' ? (h as FolderLockHolder) : null;
  } catch {
    return null;
  }
}

/** Creates `path` holding `text` unless it exists: false when it does. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(temp, text);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'].includes(errnoOf(error) ?? '')) throw error;
  } finally {
    await rm(temp, { force: true });
  }
  // a file system without hard links: created exclusively, then written (a reader may see it empty for a moment)
  try {
    await writeFile(path, text, { flag: 'wx' });
    return true;
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Moves a stale lock out of the way: renamed to a name of this run's (only one of several runs
 * taking it over at once gets it), then removed; put back if it turns out to be another's fresh lock.
 */
async function removeStale(path: string, stale: FolderLockHolder): Promise<void> {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return; // another run took it over first
    throw error;
  }
  const moved = await readHolder(aside);
  if (moved !== 'gone' && moved !== null && moved.token !== stale.token) await link(aside, path).catch(() => undefined);
  await rm(aside, { force: true });
}

function heldError(folder: string, path: string, h: FolderLockHolder, here: boolean): AgeGenderError {
  const where = here ? '' : ` on host ${h.hostname} (whether it still runs cannot be told from this host)`;
  return new AgeGenderError('OUTPUT_IN_USE', `another run is writing here: process ${h.pid} (${h.command}, started ${h.startedAt})${where} holds ${path}; wait for it to end, or delete that file if no such process runs`, { subject: folder });
}

/**
 * Takes the lock of `folder` (see the module comment). `command` says who holds it, in words.
 * Errors naming `folder`: OUTPUT_IN_USE when another run holds it (its pid in the message),
 * INVALID_ARGUMENT when the lock file cannot be written or is not a lock's.
 */
export async function lockFolder(folder: string, command: string): Promise<FolderLock> {
  const path = lockPathOf(folder);
  const me: FolderLockHolder = { pid: process.pid, hostname: hostname(), command, startedAt: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  let tookOver: FolderLockHolder | null = null;
  try {
    await mkdir(dirname(path), { recursive: true });
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await createExclusive(path, `${JSON.stringify(me)}\n`)) return held(path, me.token, tookOver);
      // a lock not (yet) readable as one: on a file system without hard links, one being written
      const holder = (await readHolder(path)) ?? (await delay(200).then(() => readHolder(path)));
      if (holder === 'gone') continue; // released meanwhile
      if (holder === null) throw new AgeGenderError('INVALID_ARGUMENT', `${path} is in the way: it is not a lock file of agegender; delete it if no run is writing here`, { subject: folder });
      const here = holder.hostname === me.hostname;
      if (!here || isRunning(holder.pid)) throw heldError(folder, path, holder, here);
      await removeStale(path, holder);
      tookOver = holder;
    }
  } catch (error) {
    if (error instanceof AgeGenderError) throw error;
    throw new AgeGenderError('INVALID_ARGUMENT', `cannot create the lock file ${path}: ${fsErrorReason(error)}`, { subject: folder, cause: error });
  }
  throw new AgeGenderError('OUTPUT_IN_USE', `cannot take ${path}: other runs keep taking it`, { subject: folder });
}

/** Whether `path` holds the lock with `token`, read synchronously (for the process's `exit` event). */
function holdsSync(path: string, token: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as Partial<FolderLockHolder>).token === token;
  } catch {
    return false;
  }
}

/** The lock just taken: released by `release()`, or when the process exits first (`process.exit` on Ctrl-C). */
function held(path: string, token: string, tookOver: FolderLockHolder | null): FolderLock {
  const onExit = (): void => {
    if (holdsSync(path, token)) rmSync(path, { force: true });
  };
  process.once('exit', onExit);
  return {
    path,
    tookOver,
    async release() {
      process.off('exit', onExit);
      const holder = await readHolder(path).catch(() => null);
      if (holder !== 'gone' && holder !== null && holder.token === token) await rm(path, { force: true }).catch(() => undefined);
    },
  };
}

/** Runs `work` holding the lock of `folder`, released when it ends, normally or with an error. */
export async function withFolderLock<T>(folder: string, command: string, work: (lock: FolderLock) => Promise<T>): Promise<T> {
  const lock = await lockFolder(folder, command);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}
