/**
 * Expands CLI image arguments — files, folders (recursive) and globs (`*`, `**`, `?`, `[...]`,
 * `{a,b}`) — into a sorted, de-duplicated list of image paths. Arguments that match nothing are
 * returned as `missing` so the caller can report them and go on.
 *
 * @example
 *   const { files, missing } = await expandImageArgs(['photos/', 'chips/*.jpg']);
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

/** File name endings taken when walking folders or matching `*`. */
export const IMAGE_EXTENSIONS = Object.freeze(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff'] as const);

export interface ExpandedInputs {
  files: string[];
  /** Arguments that are neither a file, a folder, nor a glob matching an image. */
  missing: string[];
}

const GLOB_CHARS = /[*?[\]{}]/;

function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await walk(path, out);
    else if (e.isFile() && isImageName(e.name)) out.push(path);
  }
}

/** Glob (POSIX separators) → anchored RegExp over a path relative to the glob's base folder. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${glob.slice(i + 1, end).split(',').map((s) => s.replace(/[.+^$()|\\]/g, '\\$&')).join('|')})`;
        i = end;
      }
    } else if (c === '[') {
      const end = glob.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function expandGlob(pattern: string): Promise<string[]> {
  const parts = pattern.split(/[\\/]/);
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  const baseParts = parts.slice(0, firstGlob);
  const base = baseParts.length === 0 ? '.' : baseParts.join('/') || '/';
  const rest = parts.slice(firstGlob).join('/');
  const re = globToRegExp(rest);
  const all: string[] = [];
  try {
    await walk(base, all);
  } catch {
    return [];
  }
  const prefix = resolve(base) + sep;
  return all.filter((f) => re.test(resolve(f).slice(prefix.length).split(sep).join('/')));
}

/** Expands files, folders and globs; keeps argument order, sorted within each folder or glob. */
export async function expandImageArgs(args: readonly string[]): Promise<ExpandedInputs> {
  const files: string[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  const add = (f: string): void => {
    const key = resolve(f);
    if (!seen.has(key)) {
      seen.add(key);
      files.push(f);
    }
  };
  for (const arg of args) {
    const info = await stat(arg).catch(() => null);
    if (info?.isDirectory()) {
      const found: string[] = [];
      await walk(arg, found);
      if (found.length === 0) missing.push(arg);
      found.forEach(add);
    } else if (info) {
      add(arg); // an explicit file is taken whatever its name; decoding decides
    } else if (GLOB_CHARS.test(arg)) {
      const found = await expandGlob(arg);
      if (found.length === 0) missing.push(arg);
      found.forEach(add);
    } else {
      missing.push(arg);
    }
  }
  return { files, missing };
}
