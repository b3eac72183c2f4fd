/**
 * Expands CLI image arguments — files, folders (recursive), globs (`*`, `**`, `?`, `[...]`,
 * `{a,b}`, through `tinyglobby`) and http(s) URLs (kept as they are) — into an ordered,
 * de-duplicated list of image paths. Symbolic links to files and folders are followed; a link loop
 * is walked at most once (tinyglobby's crawler stops at a folder it is already inside) and the same
 * file reached twice is listed once. Arguments that give no image come back in `missing` with the
 * reason, and so does every entry a walk meets but cannot reach (a broken or looping link with an
 * image name, a folder it may not read), so the caller can report them and go on.
 *
 * @example
 *   const { files, missing } = await expandImageArgs(['photos/', 'chips/*.jpg']);
 */
import { lstat as lstatCb, readdir as readdirCb, realpath as realpathCb, stat as statCb, type Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { glob, type FileSystemAdapter } from 'tinyglobby';
import { fsErrorReason } from '../core/errors.js';
import { linkFailureReason } from '../core/link-reason.js';

/** File name endings taken when walking folders or matching a glob. */
export const IMAGE_EXTENSIONS = Object.freeze(['.jpg', '.jpeg', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif'] as const);

/** An argument that gave no image, or an entry met on a walk that cannot be reached, and why. */
export interface MissingInput {
  /** The argument, or the entry's path as the walk names it (the argument joined with its path inside). */
  input: string;
  reason: string;
  /** Its place among the results: the number of files that come from the arguments before it. */
  at: number;
}

export interface ExpandedInputs {
  files: string[];
  /**
   * Arguments that are neither a file, a folder holding images, nor a glob matching an image; and
   * entries a walk met but could not reach: an image-named link that is broken or loops, a folder
   * it may not read. In argument order, an entry among its folder's files in walk order.
   */
  missing: MissingInput[];
}

const GLOB_CHARS = /[*?[\]{}]/;

/** The reason given for a folder with no image in it (or under it). */
export const NO_IMAGES_REASON = `no images (${IMAGE_EXTENSIONS.join(', ')}) found`;

/** True for an http:// or https:// URL (downloaded, not looked up on disk). */
export function isImageUrl(arg: string): boolean {
  return /^https?:\/\/\S+$/i.test(arg);
}

/** True when `name` ends with one of the {@link IMAGE_EXTENSIONS}, in any case. */
export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Orders paths as a depth-first walk with each folder's entries sorted by name would. */
function byWalkOrder(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** What a walk met: an image file (`reason` null), or an entry it could not reach and why. */
interface WalkEntry {
  path: string;
  reason: string | null;
}

/**
 * A file system for tinyglobby that records what its walk cannot reach instead of passing over it:
 * folders it may not read (`folders`, by the route the walk took to them) and links that do not
 * resolve (`links`: broken, looping). Such a link is handed back as itself (its own `lstat`, not a
 * folder), so the glob's matcher still decides whether it is wanted.
 */
function recordingFs(): { fs: FileSystemAdapter; folders: Map<string, unknown>; links: Map<string, unknown> } {
  const folders = new Map<string, unknown>();
  const links = new Map<string, unknown>();
  // the walk reads a linked folder by its real path: the link that led there names it
  const linkTo = new Map<string, string>();
  type Done<T> = (error: NodeJS.ErrnoException | null, value?: T) => void;
  const readdir = (path: string, options: { withFileTypes: true }, done: Done<unknown>): void =>
    readdirCb(path, options, (error, entries) => {
      if (error) {
        const folder = path.replace(/\/+$/, '') || '/';
        folders.set(linkTo.get(folder) ?? folder, error);
      }
      done(error, entries);
    });
  const realpath = (path: string, done: Done<string>): void =>
    realpathCb(path, (error, real) => {
      if (!error) {
        linkTo.set(real, path);
        done(null, real);
        return;
      }
      links.set(path, error);
      done(null, path);
    });
  const stat = (path: string, done: Done<Stats>): void => (links.has(path) ? lstatCb(path, done) : statCb(path, done));
  return { fs: { readdir, realpath, stat } as unknown as FileSystemAdapter, folders, links };
}

/**
 * Image files matching `pattern` under `cwd` (symlinks followed), as `join(cwd, relative)`, each real
 * file once, with the entries the walk could not reach (image-named links that do not resolve,
 * folders it may not read), all in walk order.
 */
async function imagesUnder(cwd: string, pattern: string): Promise<WalkEntry[]> {
  const recorder = recordingFs();
  let found: string[];
  try {
    found = await glob([pattern], { cwd, followSymbolicLinks: true, onlyFiles: true, dot: true, expandDirectories: false, fs: recorder.fs });
  } catch {
    return [];
  }
  const root = resolve(cwd);
  const entries: WalkEntry[] = [...recorder.folders].map(([folder, error]) => ({ path: join(cwd, relative(root, folder)), reason: `cannot read folder: ${fsErrorReason(error)}` }));
  // A file reached along several routes (a symlink loop, two links to one folder) is kept once, by its shortest route.
  const byReal = new Map<string, string>();
  for (const f of found.filter(isImageName).sort(byWalkOrder)) {
    const path = join(cwd, f);
    const unresolved = recorder.links.get(resolve(path));
    if (unresolved !== undefined) {
      entries.push({ path, reason: await linkFailureReason(path, unresolved) });
      continue;
    }
    const key = await realpath(path).catch(() => resolve(path));
    const kept = byReal.get(key);
    if (kept === undefined || path.split('/').length < kept.split('/').length) byReal.set(key, path);
  }
  for (const path of byReal.values()) entries.push({ path, reason: null });
  return entries.sort((a, b) => byWalkOrder(a.path, b.path));
}

/** Why an argument that `stat` refused gives nothing: a link that does not resolve, or an error other than "no such entry"; null when it simply does not exist. */
async function argProblem(arg: string, error: unknown): Promise<string | null> {
  const entry = await lstat(arg).catch(() => null);
  if (entry?.isSymbolicLink()) return linkFailureReason(arg, error);
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' ? null : fsErrorReason(error);
}

/** Splits a glob at its first segment with glob characters: the folder to search and the pattern under it. */
function splitGlob(pattern: string): { base: string; rest: string } {
  const parts = pattern.split(/[\\/]/);
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  const baseParts = parts.slice(0, firstGlob);
  const base = baseParts.length === 0 ? '.' : baseParts.join('/') || '/';
  return { base, rest: parts.slice(firstGlob).join('/') };
}

/** Expands files, folders, globs and URLs; keeps argument order, sorted within each folder or glob. */
export async function expandImageArgs(args: readonly string[]): Promise<ExpandedInputs> {
  const files: string[] = [];
  const missing: MissingInput[] = [];
  const seen = new Set<string>();
  const take = async (entries: readonly WalkEntry[]): Promise<void> => {
    for (const { path, reason } of entries) {
      const key = reason === null ? await realpath(path).catch(() => resolve(path)) : resolve(path);
      if (seen.has(key)) continue;
      seen.add(key);
      if (reason === null) files.push(path);
      else missing.push({ input: path, reason, at: files.length });
    }
  };
  for (const arg of args) {
    if (isImageUrl(arg)) {
      if (!seen.has(arg)) {
        seen.add(arg);
        files.push(arg);
      }
      continue;
    }
    let info: Stats | null = null;
    let statError: unknown = null;
    try {
      info = await stat(arg);
    } catch (error) {
      statError = error;
    }
    const problem = info ? null : await argProblem(arg, statError);
    if (info?.isDirectory()) {
      const found = await imagesUnder(arg, '**/*');
      if (found.length === 0) missing.push({ input: arg, reason: NO_IMAGES_REASON, at: files.length });
      await take(found);
    } else if (info) {
      await take([{ path: arg, reason: null }]); // an explicit file is taken whatever its name; decoding decides
    } else if (problem !== null) {
      await take([{ path: arg, reason: problem }]);
    } else if (GLOB_CHARS.test(arg)) {
      const { base, rest } = splitGlob(arg);
      const found = await imagesUnder(base, rest);
      if (found.length === 0) missing.push({ input: arg, reason: 'the glob matches no image', at: files.length });
      await take(found);
    } else {
      missing.push({ input: arg, reason: 'no such file or folder', at: files.length });
    }
  }
  return { files, missing };
}
