/**
 * Checks where a command will write before it does the work, so a bad `--out` fails at once with a
 * coded error naming the user's path (not after minutes of work, naming a temp file): a folder
 * where a file is wanted, a file where a folder is wanted, or a parent that cannot be written.
 *
 * @example
 *   await checkOutputFolder('runs/aaf');          // before scoring the photos
 *   const out = await outputFileIn('reports/', 'report.html'); // an existing folder: report.html inside it
 */
import { randomBytes } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AgeGenderError, fsErrorReason } from './errors.js';

type Kind = 'file' | 'folder' | 'missing';

async function kindOf(path: string): Promise<Kind> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a file on the way; the walk up to the nearest existing path finds and names it
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw new AgeGenderError('INVALID_ARGUMENT', `cannot write here: ${fsErrorReason(error)}`, { subject: path });
  }
}

/**
 * The nearest existing folder at or above `dir` must be a folder and writable (a probe file is
 * created and removed). `subject`: the path the user gave, named in the error.
 */
async function checkWritableFolder(dir: string, subject: string): Promise<void> {
  let at = dir;
  let kind = await kindOf(at);
  while (kind === 'missing' && dirname(at) !== at) {
    at = dirname(at);
    kind = await kindOf(at);
  }
  if (kind === 'file') throw new AgeGenderError('INVALID_ARGUMENT', `cannot write here: ${at} is a file, not a folder`, { subject });
  const probe = join(at, `.agegender-write-probe.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } catch (error) {
    throw new AgeGenderError('INVALID_ARGUMENT', `cannot write in ${at}: ${fsErrorReason(error)}`, { subject, cause: error });
  }
  await rm(probe, { force: true });
}

/**
 * Checks that `path` can be written as a file: not an existing folder, its folder (or the nearest
 * existing one above it) writable. Returns the resolved path. Errors: INVALID_ARGUMENT naming `path`.
 */
export async function checkOutputFile(path: string): Promise<string> {
  const out = resolve(path);
  if ((await kindOf(out)) === 'folder') throw new AgeGenderError('INVALID_ARGUMENT', 'Expected a file to write but this is a folder', { subject: path });
  await checkWritableFolder(dirname(out), path);
  return out;
}

/**
 * Checks that `path` can be written as a folder (created when missing): not an existing file, and
 * writable (or the nearest existing folder above it). Returns the resolved path. Errors: INVALID_ARGUMENT naming `path`.
 */
export async function checkOutputFolder(path: string): Promise<string> {
  const out = resolve(path);
  if ((await kindOf(out)) === 'file') throw new AgeGenderError('INVALID_ARGUMENT', 'Expected a folder to write into but this is a file', { subject: path });
  await checkWritableFolder(out, path);
  return out;
}

/**
 * Where a command that writes one file puts it: `path` itself, or `name` inside it when `path` is a
 * folder (an existing one, or a path ending in a slash); checked with {@link checkOutputFile}.
 */
export async function outputFileIn(path: string, name: string): Promise<string> {
  const isFolder = /[/\\]$/.test(path) || (await kindOf(resolve(path))) === 'folder';
  return checkOutputFile(isFolder ? join(path, name) : path);
}

/**
 * Refuses to write `out` over `input` (the same file, also through a link): inputs are never modified.
 * `what` names the input in the error (default `input image`). Errors: INVALID_ARGUMENT naming `out`.
 */
export async function checkNotInput(out: string, input: string, what = 'input image'): Promise<void> {
  const [o, i] = await Promise.all([stat(out).catch(() => null), stat(input).catch(() => null)]);
  if (o && i && o.dev === i.dev && o.ino === i.ino) throw new AgeGenderError('INVALID_ARGUMENT', `cannot write here: this is the ${what} ${input}`, { subject: out });
}
