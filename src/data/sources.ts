import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import yauzl from 'yauzl';
import { AgeGenderError, fsErrorReason } from '../core/errors.js';
import { linkFailureReason } from '../core/link-reason.js';

/** Image-like extensions that `prepare` looks at; other files are counted as ignored. */
export const IMAGE_EXTENSIONS = Object.freeze(['.jpg', '.jpeg', '.png', '.webp']);

/** One candidate input file: a file on disk or an entry inside a zip archive. */
export interface SourceItem {
  /** Absolute path, or `<absolute archive path>!/<entry path>` for zip entries. */
  source: string;
  name: string;
  size: number;
  /** Cache validity stamp: mtime for files, the entry's CRC-32 for zip entries. */
  stamp: string;
  /** Reads the bytes (zip entries arrive already read). */
  read: () => Promise<Buffer>;
}

/** A path found while enumerating that cannot be read as a file (reported, never fatal). */
export interface SourceProblem {
  source: string;
  name: string;
  reason: string;
}

export interface EnumerateResult {
  problems: SourceProblem[];
  /** Files skipped because their extension is not an image one (e.g. README.txt). */
  ignored: string[];
}

const ZIP_SEPARATOR = '!/';

function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase()) && !name.startsWith('.');
}

/** Is a zip entry name safe to extract (no absolute path, no `..` segment, no drive letter)? */
export function unsafeZipEntryReason(entryName: string): string | null {
  if (entryName.includes('\0')) return 'zip entry name contains a NUL byte';
  if (entryName.startsWith('/') || entryName.startsWith('\\') || /^[a-zA-Z]:/.test(entryName)) return 'zip entry has an absolute path';
  if (entryName.split(/[\\/]/).includes('..')) return 'zip entry path escapes the archive (contains "..")';
  return null;
}

/**
 * Walks folders and zip archives, calling `onItem` for every image-like file (in sorted order per
 * folder) and collecting problems (unreadable entries, symlink loops, unsafe zip paths) instead of
 * throwing. `onItem` is awaited, so zip entries are read one at a time.
 */
export async function enumerateInputs(inputs: readonly string[], onItem: (item: SourceItem) => Promise<void>): Promise<EnumerateResult> {
  const result: EnumerateResult = { problems: [], ignored: [] };
  const visitedDirs = new Set<string>();
  const walking = new Set<string>(); // the real paths of the folders being walked: the current one and those above it
  const visitedPaths = new Set<string>();

  const walkDir = async (dir: string): Promise<void> => {
    let real: string;
    try {
      real = await realpath(dir);
    } catch (error) {
      result.problems.push({ source: dir, name: basename(dir), reason: fsErrorReason(error) });
      return;
    }
    if (visitedDirs.has(real)) {
      // a folder being walked, met again below itself, is a loop; otherwise it was read already (an input given twice, or inside another)
      const reason = walking.has(real) ? `symlink loop: folder already visited as ${real}` : `folder already read as ${real} (an input given twice, or inside another input)`;
      result.problems.push({ source: dir, name: basename(dir), reason });
      return;
    }
    visitedDirs.add(real);
    let entries: string[];
    try {
      entries = (await readdir(dir)).sort();
    } catch (error) {
      result.problems.push({ source: dir, name: basename(dir), reason: fsErrorReason(error) });
      return;
    }
    walking.add(real);
    for (const entry of entries) await visit(join(dir, entry));
    walking.delete(real);
  };

  const visit = async (path: string): Promise<void> => {
    // a path met again (an input given twice, or a file inside a folder also given) is read once: one manifest row per source
    if (visitedPaths.has(path)) return;
    visitedPaths.add(path);
    const name = basename(path);
    let info;
    try {
      const link = await lstat(path);
      info = link.isSymbolicLink() ? await stat(path) : link;
    } catch (error) {
      if (isImageName(name) || (error as NodeJS.ErrnoException).code === 'ELOOP') {
        result.problems.push({ source: path, name, reason: await linkFailureReason(path, error) });
      } else {
        result.ignored.push(path);
      }
      return;
    }
    if (info.isDirectory()) return walkDir(path);
    if (info.isFile() && extname(name).toLowerCase() === '.zip') return walkZip(path, info.mtimeMs);
    if (!isImageName(name)) {
      result.ignored.push(path);
      return;
    }
    if (!info.isFile()) {
      result.problems.push({ source: path, name, reason: 'not a regular file' });
      return;
    }
    await onItem({ source: path, name, size: info.size, stamp: String(info.mtimeMs), read: () => readFile(path) });
  };

  const walkZip = async (archive: string, mtimeMs: number): Promise<void> => {
    try {
      const entryNames = new Set<string>();
      await readZip(archive, async (entryName, size, crc32, readEntry) => {
        const source = `${archive}${ZIP_SEPARATOR}${entryName}`;
        const name = basename(entryName);
        if (entryName.endsWith('/')) return;
        if (entryNames.has(entryName)) return; // a second entry of the same name: the first is the one read back (readSourceBytes)
        entryNames.add(entryName);
        const unsafe = unsafeZipEntryReason(entryName);
        if (unsafe) {
          result.problems.push({ source, name, reason: unsafe });
          return;
        }
        if (!isImageName(name)) {
          result.ignored.push(source);
          return;
        }
        let bytes: Buffer;
        try {
          bytes = await readEntry();
        } catch (error) {
          result.problems.push({ source, name, reason: `unreadable zip entry: ${fsErrorReason(error)}` });
          return;
        }
        await onItem({ source, name, size, stamp: `${mtimeMs}:${crc32}`, read: () => Promise.resolve(bytes) });
      });
    } catch (error) {
      result.problems.push({ source: archive, name: basename(archive), reason: `unreadable zip archive: ${fsErrorReason(error)}` });
    }
  };

  for (const input of inputs) await visit(resolve(input));
  return result;
}

type ZipEntryVisitor = (entryName: string, size: number, crc32: number, read: () => Promise<Buffer>) => Promise<void>;

/** Reads a zip's entries one at a time. Names are validated by us, not yauzl, so one bad entry is reported, not fatal. */
function readZip(archive: string, visit: ZipEntryVisitor): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(archive, { lazyEntries: true, decodeStrings: false, autoClose: true }, (openError, zip) => {
      if (openError || !zip) return reject(openError ?? new Error('cannot open zip'));
      zip.on('error', reject);
      zip.on('end', () => resolvePromise());
      zip.on('entry', (entry: yauzl.Entry) => {
        const entryName = entryNameOf(entry);
        const read = (): Promise<Buffer> => readEntryBytes(zip, entry);
        visit(entryName, entry.uncompressedSize, entry.crc32, read).then(
          () => zip.readEntry(),
          (error: unknown) => {
            zip.close();
            reject(error);
          },
        );
      });
      zip.readEntry();
    });
  });
}

/** Splits `archive.zip!/entry` into its archive path and entry name; null for plain paths. */
export function splitZipSource(source: string): { archive: string; entry: string } | null {
  const at = source.indexOf(`.zip${ZIP_SEPARATOR}`);
  if (at < 0) return null;
  return { archive: source.slice(0, at + 4), entry: source.slice(at + 4 + ZIP_SEPARATOR.length) };
}

/** Reads the wanted entries of one archive in a single pass, handing each one's bytes to `onEntry`. */
export async function readZipEntries(archive: string, wanted: ReadonlySet<string>, onEntry: (entry: string, bytes: Buffer) => Promise<void>): Promise<void> {
  const read = new Set<string>(); // of entries with the same name, the first (as enumerateInputs and readSourceBytes take it)
  await readZip(archive, async (entryName, _size, _crc, readEntry) => {
    if (!wanted.has(entryName) || read.has(entryName)) return;
    read.add(entryName);
    await onEntry(entryName, await readEntry());
  });
}

/** An archive opened once: its central directory read into a name → entry map, the file kept open for reads. */
interface ArchiveIndex {
  zip: yauzl.ZipFile;
  entries: Map<string, yauzl.Entry>;
  /** size:mtime of the archive when indexed: a changed archive is indexed again. */
  stamp: string;
}

/** Open archive indexes, least recently used first; a few at most (each holds a file descriptor). */
const archiveIndexes = new Map<string, Promise<ArchiveIndex>>();
const MAX_OPEN_ARCHIVES = 4;

function entryNameOf(entry: yauzl.Entry): string {
  const rawName = entry.fileName as unknown as Buffer;
  return (entry.generalPurposeBitFlag & 0x800) !== 0 ? rawName.toString('utf8') : rawName.toString('latin1');
}

function indexArchive(archive: string, stamp: string): Promise<ArchiveIndex> {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(archive, { lazyEntries: true, decodeStrings: false, autoClose: false }, (openError, zip) => {
      if (openError || !zip) return reject(openError ?? new Error('cannot open zip'));
      const entries = new Map<string, yauzl.Entry>();
      zip.on('error', reject);
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entryNameOf(entry);
        if (!entries.has(name)) entries.set(name, entry); // the first of duplicate names, as a single pass reads it
        zip.readEntry();
      });
      zip.on('end', () => resolvePromise({ zip, entries, stamp }));
      zip.readEntry();
    });
  });
}

/**
 * The index of `archive`, read once per process (and again only when the archive's size or mtime
 * changed), so reading N entries one by one costs one directory scan, not N archive scans.
 */
async function archiveIndex(archive: string): Promise<ArchiveIndex> {
  const info = await stat(archive);
  const stamp = `${info.size}:${info.mtimeMs}`;
  const cached = archiveIndexes.get(archive);
  if (cached) {
    const index = await cached.catch(() => null);
    if (index && index.stamp === stamp) {
      archiveIndexes.delete(archive); // re-insert: most recently used last
      archiveIndexes.set(archive, cached);
      return index;
    }
    archiveIndexes.delete(archive);
    index?.zip.close();
  }
  const loading = indexArchive(archive, stamp);
  archiveIndexes.set(archive, loading);
  loading.catch(() => archiveIndexes.delete(archive));
  while (archiveIndexes.size > MAX_OPEN_ARCHIVES) {
    const [oldest, evicted] = archiveIndexes.entries().next().value as [string, Promise<ArchiveIndex>];
    archiveIndexes.delete(oldest);
    void evicted.then((index) => index.zip.close(), () => undefined);
  }
  return loading;
}

function readEntryBytes(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    zip.openReadStream(entry, (streamError, stream) => {
      if (streamError || !stream) return reject(streamError ?? new Error('cannot read entry'));
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('end', () => resolvePromise(Buffer.concat(chunks)));
    });
  });
}

/** Closes the archives kept open by {@link readSourceBytes} (they are also closed when the process exits). */
export async function closeArchives(): Promise<void> {
  const open = [...archiveIndexes.values()];
  archiveIndexes.clear();
  for (const index of await Promise.allSettled(open)) if (index.status === 'fulfilled') index.value.zip.close();
}

/**
 * Reads the bytes of a manifest `source` (a file path or an `archive.zip!/entry` path). Zip entries
 * are read through a per-process index of the archive (see {@link archiveIndex}). A source that
 * cannot be read (moved, deleted or changed since `prepare`): UNREADABLE_FILE naming it and the reason.
 */
export async function readSourceBytes(source: string): Promise<Buffer> {
  const zipped = splitZipSource(source);
  const unreadable = (reason: string, cause?: unknown): AgeGenderError => new AgeGenderError('UNREADABLE_FILE', reason, { subject: source, cause });
  if (!zipped) return readFile(source).catch((error: unknown) => Promise.reject(unreadable(`cannot read file: ${fsErrorReason(error)}`, error)));
  let index: ArchiveIndex;
  try {
    index = await archiveIndex(zipped.archive);
  } catch (error) {
    throw unreadable(`cannot read zip archive ${zipped.archive}: ${fsErrorReason(error)}`, error);
  }
  const entry = index.entries.get(zipped.entry);
  if (!entry) throw unreadable('entry not found in archive');
  return readEntryBytes(index.zip, entry).catch((error: unknown) => Promise.reject(unreadable(`unreadable zip entry: ${fsErrorReason(error)}`, error)));
}
