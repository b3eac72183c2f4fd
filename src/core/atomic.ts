import { mkdir, readdir, realpath, rename, rm, writeFile, copyFile, link, open } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes a file so readers see the old or the new content, never a torn one (temp file + rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Hard-links `source` to `target` when they share a file system, else copies; atomic either way. A
 * symbolic link is followed (the file it points to is linked or copied), so `target` is never a
 * link whose relative path would point elsewhere from its new folder.
 */
export async function linkOrCopyAtomic(source: string, target: string, mode: 'link' | 'copy'): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  try {
    if (mode === 'link') {
      try {
        await link(await realpath(source), temp);
      } catch {
        await copyFile(source, temp);
      }
    } else {
      await copyFile(source, temp);
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Replaces a whole directory atomically: build in `<dir>.tmp-*`, then swap it in. */
export async function replaceDirAtomic(dir: string, build: (tempDir: string) => Promise<void>): Promise<void> {
  const temp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const old = `${dir}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(temp, { recursive: true });
  try {
    await build(temp);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  let moved = false;
  try {
    await rename(dir, old);
    moved = true;
  } catch {
    // no previous directory
  }
  await rename(temp, dir);
  if (moved) await rm(old, { recursive: true, force: true });
}

/** True while process `pid` runs (signal 0 probes it; EPERM: it runs as another user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the build folders {@link replaceDirAtomic} left beside `dir` when its process was killed
 * (`<dir>.tmp-<pid>-*` whose process no longer runs); returns their paths. `<dir>.old-*` folders are
 * kept: one may hold the only copy of the previous directory.
 */
export async function removeStaleTempDirs(dir: string): Promise<string[]> {
  const name = basename(dir);
  const entries = await readdir(dirname(dir)).catch(() => [] as string[]);
  const stale = entries
    .map((entry) => ({ entry, m: entry.startsWith(`${name}.tmp-`) ? /^(\d+)-[0-9a-f]{8}$/.exec(entry.slice(name.length + 5)) : null }))
    .filter(({ m }) => m !== null && Number(m[1]) !== process.pid && !isRunning(Number(m[1])))
    .map(({ entry }) => join(dirname(dir), entry));
  for (const path of stale) await rm(path, { recursive: true, force: true });
  return stale;
}

/**
 * Streams lines (each gets a `\n`) into `path` atomically: a temp file beside it, renamed over it
 * when every line is written. If `lines` throws, the temp file is removed and `path` is untouched.
 * @example await writeLinesAtomic('out.csv', rowsOf(results)); // rowsOf: an (async) generator of lines
 */
export async function writeLinesAtomic(path: string, lines: AsyncIterable<string> | Iterable<string>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  const handle = await open(temp, 'w');
  try {
    let chunk: string[] = [];
    for await (const line of lines) {
      chunk.push(line);
      if (chunk.length >= 1024) {
        await handle.write(`${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) await handle.write(`${chunk.join('\n')}\n`);
    await handle.close();
    await rename(temp, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}
