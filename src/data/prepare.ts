import { mkdir, readdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { AgeGenderError, fsErrorReason } from '../core/errors.js';
import { withFolderLock } from '../core/folder-lock.js';
import { checkOutputFolder } from '../core/output-path.js';
import { DEFAULTS } from '../core/defaults.js';
import { TaskPool } from '../core/limit.js';
import { integerInRange, oneOf } from '../core/validate.js';
import { linkOrCopyAtomic, removeStaleTempDirs, replaceDirAtomic, writeFileAtomic } from '../core/atomic.js';
import { SPLITS, type ManifestRow, type SplitName } from '../core/types.js';
import { DEDUP_POLICIES, deduplicate, type DedupItem, type DedupPolicy, type DedupResult } from './dedup.js';
import type { Fingerprint } from './fingerprint.js';
import { FingerprintPool } from './fingerprint-pool.js';
import { HashCache } from './hash-cache.js';
import { parseUtkName } from './labels.js';
import { IMAGE_EXTENSIONS, enumerateInputs, readZipEntries, splitZipSource, type SourceProblem } from './sources.js';
import { assignSplits, checkSplitFractions, crossSplitNearPairs, type SplitResult } from './split.js';
import { summarize, type PrepareSummary } from './summary.js';
import { WORKSPACE_FILES, workspacePaths, type WorkspacePaths } from '../workspace/layout.js';
import { writeManifest } from '../workspace/manifest.js';
import { readSummary, writeSummary } from '../workspace/summary.js';

export interface PrepareOptions {
  /** Folders and/or .zip archives. */
  inputs: readonly string[];
  /** Workspace folder: manifest, summary, cache and (optionally) split folders go here. */
  workspace: string;
  threshold?: number;
  policy?: DedupPolicy;
  /** Files within this distance never straddle splits (default 6). */
  groupDistance?: number;
  /** Pairs across splits within this distance are counted in the summary (default 8). */
  auditDistance?: number;
  seed?: number;
  fractions?: readonly [number, number, number];
  /** Copy or hard-link kept files into `<workspace>/splits/<split>/`. */
  materialize?: 'link' | 'copy' | false;
  concurrency?: number;
  maxPixels?: number;
  /**
   * Save the fingerprint cache after this many newly hashed files (default 2048; later, when the new
   * ones are a quarter of those saved), so an interrupted run keeps them.
   */
  saveCacheEvery?: number;
  /** The command line, recorded in the summary. */
  command?: string;
  onProgress?: (event: PrepareProgress) => void;
}

export type PrepareProgress =
  | { phase: 'hash'; done: number; discovered: number; cached: number }
  | { phase: 'dedup' | 'split' | 'write' | 'materialize'; done?: number; total?: number };

interface Scanned {
  source: string;
  name: string;
  size: number;
  fingerprint: Fingerprint;
}

/** Every setting of a run, defaults filled in. */
interface PrepareSettings {
  threshold: number;
  groupDistance: number;
  auditDistance: number;
  policy: DedupPolicy;
  seed: number;
  fractions: readonly [number, number, number];
  maxPixels: number;
  concurrency: number;
  saveCacheEvery: number;
}

/**
 * The settings with defaults; INVALID_ARGUMENT (naming the option) for a value out of range or
 * without inputs: before any file is read.
 */
function settingsOf(options: PrepareOptions): PrepareSettings {
  const o = DEFAULTS.prepare;
  if (options.inputs.length === 0) throw new AgeGenderError('INVALID_ARGUMENT', 'Expected at least one input folder or .zip archive');
  const bits = (value: number | undefined, name: string, fallback: number): number => (value === undefined ? fallback : integerInRange(value, name, 0, 64));
  if (options.materialize !== undefined && options.materialize !== false) oneOf(options.materialize, 'materialize', ['link', 'copy'] as const);
  return {
    threshold: bits(options.threshold, 'threshold', o.threshold),
    groupDistance: bits(options.groupDistance, 'groupDistance', o.groupDistance),
    auditDistance: bits(options.auditDistance, 'auditDistance', o.auditDistance),
    policy: options.policy === undefined ? o.policy : oneOf(options.policy, 'policy', DEDUP_POLICIES),
    seed: options.seed === undefined ? o.seed : integerInRange(options.seed, 'seed', 0, 2 ** 32 - 1),
    fractions: options.fractions === undefined ? o.fractions : checkSplitFractions(options.fractions),
    maxPixels: options.maxPixels === undefined ? o.maxPixels : integerInRange(options.maxPixels, 'maxPixels', 1, Number.MAX_SAFE_INTEGER),
    concurrency: options.concurrency === undefined ? o.concurrency : integerInRange(options.concurrency, 'concurrency', 1, 1024),
    saveCacheEvery: options.saveCacheEvery === undefined ? o.saveCacheEvery : integerInRange(options.saveCacheEvery, 'saveCacheEvery', 1, Number.MAX_SAFE_INTEGER),
  };
}

/** Every input must exist (and be reachable) before any work: UNREADABLE_FILE naming the first that does not. */
async function checkInputsExist(inputs: readonly string[]): Promise<void> {
  for (const input of inputs) {
    try {
      await stat(input);
    } catch (error) {
      throw new AgeGenderError('UNREADABLE_FILE', `cannot read input: ${fsErrorReason(error)}`, { subject: input, cause: error });
    }
  }
}

/** `path` with symbolic links resolved; a path that does not exist yet resolves through its nearest existing folder. */
async function realPathOf(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(await realPathOf(parent), basename(abs));
  }
}

const isAtOrInside = (path: string, folder: string): boolean => path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/**
 * The workspace must not be an input or inside one (prepare would write into its own input), nor may
 * an input lie in `splits/`, which a run replaces (`--materialize`) or removes (after a `--materialize` run):
 * compared with symbolic links resolved.
 * INVALID_ARGUMENT naming the input.
 */
async function checkWorkspaceApartFromInputs(inputs: readonly string[], workspace: string): Promise<void> {
  const ws = await realPathOf(workspace);
  const splits = workspacePaths(ws).splits;
  for (const input of inputs) {
    const real = await realPathOf(input);
    if (isAtOrInside(ws, real)) {
      throw new AgeGenderError('INVALID_ARGUMENT', `the workspace ${workspace} is inside this input${real === resolve(input) ? '' : ` (${real})`}; choose a workspace outside the inputs`, { subject: input });
    }
    if (isAtOrInside(real, splits)) {
      throw new AgeGenderError('INVALID_ARGUMENT', `this input is inside the workspace's ${WORKSPACE_FILES.splits}/ folder, which prepare replaces or removes; copy it out of ${workspace} first`, { subject: input });
    }
  }
}

/** What fingerprinting found: one entry per file (in discovery order), and what could not be enumerated. */
interface Fingerprinted {
  scanned: Scanned[];
  /** Sources seen this run (the cache keeps only these). */
  seen: Set<string>;
  problems: SourceProblem[];
  ignored: number;
}

/**
 * Step 1: fingerprints every file (cached by path, size and mtime; misses on worker threads). The
 * cache is saved as it grows ({@link HashCache.saveDue}), so a run stopped part-way (Ctrl-C) keeps them.
 */
async function fingerprintInputs(inputs: readonly string[], cache: HashCache, cachePath: string, s: PrepareSettings, progress: (event: PrepareProgress) => void): Promise<Fingerprinted> {
  const scanned: Scanned[] = [];
  const seen = new Set<string>();
  const pool = new TaskPool(s.concurrency);
  let workers = null as FingerprintPool | null; // started on the first cache miss: warm runs need none
  let discovered = 0;
  let done = 0;
  let saving: Promise<void> | null = null; // one mid-run save at a time
  const { problems, ignored } = await enumerateInputs(inputs, async (item) => {
    discovered++;
    const slot: Scanned = { source: item.source, name: item.name, size: item.size, fingerprint: { sha256: null, phash: null, width: null, height: null, error: 'not processed' } };
    scanned.push(slot);
    seen.add(item.source);
    const cached = cache.get(item.source, item.size, item.stamp);
    if (cached) {
      slot.fingerprint = cached;
      done++;
      return;
    }
    await pool.add(async () => {
      try {
        workers ??= new FingerprintPool();
        slot.fingerprint = await workers.run(await item.read(), item.name, s.maxPixels);
        cache.set(item.source, item.size, item.stamp, slot.fingerprint); // what the bytes are, bad content included
      } catch (error) {
        // not cached: a read failure (permission denied, I/O error) may be gone by the next run while size and mtime are unchanged
        slot.fingerprint = { sha256: null, phash: null, width: null, height: null, error: `cannot read file: ${fsErrorReason(error)}` };
      }
      // a mid-run save that fails (disk full) is not fatal: the final save reports it
      if (cache.saveDue(s.saveCacheEvery) && !saving) {
        const settled = (): void => void (saving = null);
        saving = cache.saveAll(cachePath).then(settled, settled);
      }
      done++;
      if (done % 64 === 0) progress({ phase: 'hash', done, discovered, cached: cache.hits });
    });
  });
  try {
    await pool.drain();
  } finally {
    await workers?.close();
    await saving;
  }
  progress({ phase: 'hash', done, discovered, cached: cache.hits });
  return { scanned, seen, problems, ignored: ignored.length };
}

/** Step 2: one manifest row per file with its labels; unreadable files and enumeration problems are rows too. */
function labelledRows({ scanned, problems }: Fingerprinted): ManifestRow[] {
  const rows: ManifestRow[] = scanned.map((s) => {
    const parsed = parseUtkName(s.name);
    const f = s.fingerprint;
    return {
      source: s.source,
      name: s.name,
      size: s.size,
      sha256: f.sha256,
      phash: f.phash,
      width: f.width,
      height: f.height,
      age: parsed.ok ? parsed.labels.age : null,
      gender: parsed.ok ? parsed.labels.gender : null,
      ethnicity: parsed.ok ? parsed.labels.ethnicity : null,
      datetime: parsed.ok ? parsed.datetime : null,
      status: f.error ? 'unreadable' : parsed.ok ? 'kept' : 'invalid-label',
      reason: f.error ?? (parsed.ok ? '' : parsed.reason),
      cluster: null,
      duplicateOf: null,
      split: null,
    };
  });
  for (const p of problems) {
    rows.push({ source: p.source, name: p.name, size: 0, sha256: null, phash: null, width: null, height: null, age: null, gender: null, ethnicity: null, datetime: null, status: 'unreadable', reason: p.reason, cluster: null, duplicateOf: null, split: null });
  }
  return rows;
}

/** Step 3: deduplicates the readable rows and records each decision (status, reason, cluster) on its row. */
function deduplicateRows(rows: ManifestRow[], s: PrepareSettings): DedupResult {
  const labelReasons = new Map(rows.filter((r) => r.status === 'invalid-label').map((r) => [r.source, r.reason]));
  const readable = rows.filter((r) => r.status !== 'unreadable');
  const dedupItems: DedupItem[] = readable.map((r) => ({
    source: r.source,
    sha256: r.sha256!,
    phash: r.phash!,
    labels: r.age !== null && r.gender !== null && r.ethnicity !== null ? { age: r.age, gender: r.gender, ethnicity: r.ethnicity } : null,
  }));
  const dedup = deduplicate(dedupItems, s.threshold, s.policy);
  readable.forEach((row, i) => {
    const d = dedup.decisions[i]!;
    row.status = d.status;
    row.reason = d.status === 'invalid-label' ? (labelReasons.get(row.source) ?? d.reason) : d.reason;
    row.cluster = d.cluster;
    row.duplicateOf = d.duplicateOf;
  });
  return dedup;
}

/** Step 4: the leakage-safe split of the kept rows (recorded on each row), and the audit's cross-split pairs. */
function splitKeptRows(rows: readonly ManifestRow[], s: PrepareSettings): { kept: ManifestRow[]; split: SplitResult; crossSplitPairs: Array<{ a: string; b: string; distance: number }> } {
  const kept = rows.filter((r) => r.status === 'kept');
  const split = assignSplits(
    kept.map((r) => ({ labels: { age: r.age!, gender: r.gender!, ethnicity: r.ethnicity! }, phash: r.phash! })),
    { fractions: s.fractions, seed: s.seed, groupDistance: s.groupDistance },
  );
  kept.forEach((row, i) => (row.split = split.splits[i]!));
  const leaks = crossSplitNearPairs(kept.map((r) => r.phash!), split.splits, s.auditDistance);
  return { kept, split, crossSplitPairs: leaks.map((p) => ({ a: kept[p.a]!.source, b: kept[p.b]!.source, distance: p.distance })) };
}

/**
 * `agegender prepare`: hash every input file, collapse exact duplicates, cluster near duplicates,
 * apply the cleaning policy, split train/val/test without leakage, and write the workspace.
 * Inputs are only read; every output is written atomically inside `workspace`.
 */
export async function prepare(options: PrepareOptions): Promise<PrepareSummary> {
  const paths = workspacePaths(options.workspace);
  const workspace = paths.root;
  const s = settingsOf(options);
  const started = Date.now();
  await checkInputsExist(options.inputs);
  await checkWorkspaceApartFromInputs(options.inputs, workspace);
  await checkOutputFolder(options.workspace);
  // one run at a time per workspace: a second would mix its manifest, summary and split folders with this one's
  return withFolderLock(workspace, 'agegender prepare', () => prepareInto(options, paths, s, started));
}

/** {@link prepare} once the inputs and the workspace are checked and the workspace locked. */
async function prepareInto(options: PrepareOptions, paths: WorkspacePaths, s: PrepareSettings, started: number): Promise<PrepareSummary> {
  const workspace = paths.root;
  const progress = options.onProgress ?? (() => {});
  const earlier = await readSummary(workspace); // before this run writes anything
  const cache = await HashCache.load(paths.hashCache);
  const fingerprinted = await fingerprintInputs(options.inputs, cache, paths.hashCache, s, progress);
  if (fingerprinted.scanned.length === 0 && fingerprinted.problems.length === 0) {
    const ignored = fingerprinted.ignored ? ` (${fingerprinted.ignored} non-image file${fingerprinted.ignored === 1 ? '' : 's'} ignored)` : '';
    throw new AgeGenderError('INVALID_ARGUMENT', `no images found in ${options.inputs.join(', ')}${ignored}; expected folders or .zip archives holding ${IMAGE_EXTENSIONS.join(' ')} files`);
  }
  await mkdir(workspace, { recursive: true });
  await removeStaleTempDirs(paths.splits); // split folders half-built by a run killed while materializing
  const hashSeconds = (Date.now() - started) / 1000;
  const rows = labelledRows(fingerprinted);
  progress({ phase: 'dedup' });
  const dedup = deduplicateRows(rows, s);
  progress({ phase: 'split' });
  const { kept, split, crossSplitPairs } = splitKeptRows(rows, s);
  const summary = summarize({
    rows,
    ignored: fingerprinted.ignored,
    dedup,
    split,
    crossSplitPairs,
    settings: { inputs: options.inputs.map((i) => resolve(i)), workspace, threshold: s.threshold, groupDistance: s.groupDistance, auditDistance: s.auditDistance, policy: s.policy, seed: s.seed, fractions: [...s.fractions] },
    timings: { hashSeconds, totalSeconds: 0, cacheHits: cache.hits, cacheMisses: cache.misses },
    command: options.command ?? null,
  });

  // 5. write the workspace (each file atomically): the split folders, the long step, before the manifest and the
  // summary, so a run stopped or failing while materializing leaves the earlier manifest, summary and folders as they were
  await cache.save(paths.hashCache, fingerprinted.seen);
  if (options.materialize) summary.materialized = await materializeSplits(workspace, kept, options.materialize, progress);
  else if (earlier?.materialized) await rm(paths.splits, { recursive: true, force: true }); // they would no longer match this manifest
  progress({ phase: 'write' });
  summary.manifestSha256 = await writeManifest(workspace, rows);
  summary.timings.totalSeconds = (Date.now() - started) / 1000;
  await writeSummary(workspace, summary);
  return summary;
}

/** Links or copies kept files into `splits/<split>/` and checks each folder holds exactly what the manifest says. */
async function materializeSplits(
  workspace: string,
  kept: readonly ManifestRow[],
  mode: 'link' | 'copy',
  progress: (event: PrepareProgress) => void,
): Promise<Record<SplitName, number>> {
  const root = workspacePaths(workspace).splits;
  const expected: Record<SplitName, Set<string>> = { train: new Set(), val: new Set(), test: new Set() };
  let done = 0;
  progress({ phase: 'materialize', done, total: kept.length });
  // Build the split folders beside the old ones and swap them in, so stale files never survive.
  await replaceDirAtomic(root, async (temp) => {
    // Zip entries are extracted archive by archive in one pass each, not one archive scan per file.
    const fromZips = new Map<string, Map<string, string>>();
    for (const row of kept) {
      const split = row.split!;
      const relative = splitFileName(row, expected[split]);
      expected[split].add(relative);
      const target = join(temp, split, relative);
      const zipped = splitZipSource(row.source);
      if (zipped) {
        const entries = fromZips.get(zipped.archive) ?? new Map<string, string>();
        entries.set(zipped.entry, target);
        fromZips.set(zipped.archive, entries);
        continue;
      }
      try {
        await linkOrCopyAtomic(row.source, target, mode);
      } catch (error) {
        throw new AgeGenderError('UNREADABLE_FILE', `cannot ${mode} it into ${join(root, split)}: ${fsErrorReason(error)} (changed since it was hashed?)`, { subject: row.source, cause: error });
      }
      if (++done % 500 === 0) progress({ phase: 'materialize', done, total: kept.length });
    }
    for (const [archive, entries] of fromZips) {
      await readZipEntries(archive, new Set(entries.keys()), async (entry, bytes) => {
        await writeFileAtomic(entries.get(entry)!, bytes);
        if (++done % 500 === 0) progress({ phase: 'materialize', done, total: kept.length });
      });
    }
  });
  const counts = { train: 0, val: 0, test: 0 } as Record<SplitName, number>;
  for (const split of SPLITS) {
    const files = await listFiles(join(root, split));
    const missing = [...expected[split]].filter((f) => !files.has(f));
    const extra = [...files].filter((f) => !expected[split].has(f));
    if (missing.length > 0 || extra.length > 0) {
      throw new AgeGenderError(
        'WORKSPACE_INVALID',
        `split folder ${split} does not match the manifest: ${missing.length} missing (e.g. ${missing[0] ?? '-'}), ${extra.length} unexpected (e.g. ${extra[0] ?? '-'})`,
        { subject: join(root, split) },
      );
    }
    counts[split] = files.size;
  }
  return counts;
}

/**
 * Where a kept file goes inside its split folder: its name (the name carries the labels); on a clash
 * (the same name in several input folders) a subfolder named after its source folder, numbered
 * (`<folder>-2/`, …) when that is taken too, so no file is written over another.
 */
function splitFileName(row: ManifestRow, taken: ReadonlySet<string>): string {
  if (!taken.has(row.name)) return row.name;
  const folder = basename(dirname(row.source.replace('!/', '/')));
  for (let n = 1; ; n++) {
    const relative = join(n === 1 ? folder : `${folder}-${n}`, row.name);
    if (!taken.has(relative)) return relative;
  }
}

async function listFiles(dir: string, prefix = ''): Promise<Set<string>> {
  const out = new Set<string>();
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) for (const f of await listFiles(join(dir, entry.name), join(prefix, entry.name))) out.add(f);
    else out.add(join(prefix, entry.name));
  }
  return out;
}
