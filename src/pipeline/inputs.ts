/**
 * Expands CLI image arguments — files, folders (recursive), globs (`*`, `**`, `?`, `[...]`,
 * `{a,b}`, through `tinyglobby`) and http(s) URLs (kept as they are) — into an ordered,
 * de-duplicated list of image paths. Symbolic links to files and folders are followed; a link loop is walked at most once (tinyglobby's crawler
 * stops at a folder it is already inside) and the same file reached twice is listed once. Arguments
 * that give no image come back in `missing` with the reason, so the caller can report them and go on.
 *
 * @example
 *   const { files, missing } = await expandImageArgs(['photos/', 'chips/*.jpg']);
 */
import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { glob } from 'tinyglobby';

/** File name endings taken when walking folders or matching a glob. */
export const IMAGE_EXTENSIONS = Object.freeze(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif'] as const);

/** An argument that gave no image, and why. */
export interface MissingInput {
  input: string;
  reason: string;
  /** Its place among the results: the number of files that come from the arguments before it. */
  at: number;
}

export interface ExpandedInputs {
  files: string[];
  /** Arguments that are neither a file, a folder holding images, nor a glob matching an image. */
  missing: MissingInput[];
}

const GLOB_CHARS = /[*?[\]{}]/;

/** The reason given for a folder with no image in it (or under it). */
export const NO_IMAGES_REASON = `no images (${IMAGE_EXTENSIONS.join(', ')}) found`;

/** True for an http:// or https:// URL (downloaded, not looked up on disk). */
export function isImageUrl(arg: string): boolean {
  return /^https?:\/\/\S+$/i.test(arg);
}

function isImageName(name: string): boolean {
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

/** Image files matching `pattern` under `cwd` (symlinks followed), as `join(cwd, relative)`, in walk order, each real file once. */
async function imagesUnder(cwd: string, pattern: string): Promise<string[]> {
  let found: string[];
  try {
    found = await glob([pattern], { cwd, followSymbolicLinks: true, onlyFiles: true, dot: true, expandDirectories: false });
  } catch {
    return [];
  }
  // A file reached along several routes (a symlink loop, two links to one folder) is kept once, by its shortest route.
  const byReal = new Map<string, string>();
  for (const f of found.filter(isImageName).sort(byWalkOrder)) {
    const path = join(cwd, f);
    const key = await realpath(path).catch(() => resolve(path));
    const kept = byReal.get(key);
    if (kept === undefined || path.split('/').length < kept.split('/').length) byReal.set(key, path);
  }
  return [...byReal.values()].sort(byWalkOrder);
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
  const add = async (f: string): Promise<void> => {
    const key = await realpath(f).catch(() => resolve(f));
    if (!seen.has(key)) {
      seen.add(key);
      files.push(f);
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
    const info = await stat(arg).catch(() => null);
    let found: string[];
    if (info?.isDirectory()) {
      found = await imagesUnder(arg, '**/*');
      if (found.length === 0) missing.push({ input: arg, reason: NO_IMAGES_REASON, at: files.length });
    } else if (info) {
      found = [arg]; // an explicit file is taken whatever its name; decoding decides
    } else if (GLOB_CHARS.test(arg)) {
      const { base, rest } = splitGlob(arg);
      found = await imagesUnder(base, rest);
      if (found.length === 0) missing.push({ input: arg, reason: 'the glob matches no image', at: files.length });
    } else {
      found = [];
      missing.push({ input: arg, reason: 'no such file or folder', at: files.length });
    }
    for (const f of found) await add(f);
  }
  return { files, missing };
}
