import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';
import type { ManifestRow } from '../../src/core/types.js';
import { prepare } from '../../src/data/prepare.js';
import { readManifest } from '../../src/workspace/manifest.js';
import { PrepareSummarySchema, readSummary } from '../../src/workspace/summary.js';
import { sampleChips } from '../helpers/data.js';
import { tempDir } from '../helpers/tmp.js';

/** Every file under a folder with its size and mtime, to prove inputs are untouched. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isSymbolicLink()) out[path] = 'link';
      else if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const s = statSync(path);
        out[path] = `${s.size}:${s.mtimeMs}`;
      } else out[path] = 'special';
    }
  };
  walk(dir);
  return out;
}

/** A zip whose entries are given as [name, bytes]; names with `../` are patched in after yazl builds it. */
async function makeZip(path: string, entries: Array<[string, Buffer]>): Promise<void> {
  const zip = new yazl.ZipFile();
  const patches: Array<[string, string]> = [];
  for (const [name, bytes] of entries) {
    const safe = name.replaceAll('../', 'xx/');
    if (safe !== name) patches.push([safe, name]);
    zip.addBuffer(bytes, safe, { mtime: new Date(0) });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  for (const [safe, evil] of patches) {
    // same length, so offsets stay valid; file names are not covered by the CRC
    let at = data.indexOf(safe);
    while (at >= 0) {
      data.write(evil, at, 'latin1');
      at = data.indexOf(safe, at + 1);
    }
  }
  writeFileSync(path, data);
}

test('prepare reports every kind of bad input with a reason and completes', async (t) => {
  const root = tempDir(t, 'agegender-prepare-');
  const input = join(root, 'input');
  const workspace = join(root, 'workspace');
  mkdirSync(input);
  const chips = sampleChips(6);
  chips.forEach((chip, i) => copyFileSync(chip, join(input, `${20 + i}_0_0_2017010100000000${i}.jpg.chip.jpg`)));
  const good = readFileSync(chips[0]!);
  writeFileSync(join(input, '30_0_0_20170101000000100.jpg.chip.jpg'), Buffer.alloc(0)); // zero bytes
  writeFileSync(join(input, '31_0_0_20170101000000101.jpg.chip.jpg'), good.subarray(0, Math.floor(good.length / 2))); // truncated
  writeFileSync(join(input, '32_0_0_20170101000000102.jpg.chip.jpg'), await sharp(good).png().toBuffer()); // PNG named .jpg
  writeFileSync(join(input, '33_0_0_20170101000000103.jpg.chip.jpg'), 'this is a text file, not a face\n'); // text named .jpg
  // a JPEG whose SOF0 header claims 30000×30000 pixels
  const huge = Buffer.from(good);
  const sof = huge.indexOf(Buffer.from([0xff, 0xc0]));
  assert.ok(sof > 0, 'fixture chip has a baseline SOF0 marker');
  huge.writeUInt16BE(30000, sof + 5);
  huge.writeUInt16BE(30000, sof + 7);
  writeFileSync(join(input, '34_0_0_20170101000000104.jpg.chip.jpg'), huge);
  symlinkSync(join(root, 'does-not-exist.jpg'), join(input, '35_0_0_20170101000000105.jpg.chip.jpg')); // unreadable: dangling
  execFileSync('mkfifo', [join(input, '36_0_0_20170101000000106.jpg.chip.jpg')]); // unreadable: not a regular file
  // labels: age 0, age > 120, gender 2, race 7, missing field
  copyFileSync(chips[1]!, join(input, '0_0_0_20170101000000200.jpg.chip.jpg'));
  copyFileSync(chips[2]!, join(input, '121_0_0_20170101000000201.jpg.chip.jpg'));
  copyFileSync(chips[3]!, join(input, '40_2_0_20170101000000202.jpg.chip.jpg'));
  copyFileSync(chips[4]!, join(input, '41_0_7_20170101000000203.jpg.chip.jpg'));
  copyFileSync(chips[5]!, join(input, '42_0_20170101000000204.jpg.chip.jpg'));
  // symlink loops: a folder link to its parent, and a link to itself
  mkdirSync(join(input, 'sub'));
  symlinkSync(input, join(input, 'sub', 'loop'));
  symlinkSync(join(input, 'self.jpg'), join(input, 'self.jpg'));
  // a zip with one good entry and one that escapes with ../
  await makeZip(join(input, 'upload.zip'), [
    ['faces/50_1_1_20170101000000300.jpg.chip.jpg', readFileSync(sampleChips(7)[6]!)],
    ['../escape/51_1_1_20170101000000301.jpg.chip.jpg', good],
  ]);
  const before = snapshot(input);
  const rootBefore = readdirSync(root).sort();

  const summary = await prepare({ inputs: [input], workspace, seed: 1, materialize: 'copy' });
  const rows = await readManifest(workspace);
  const byName = (name: string): ManifestRow => {
    const row = rows.find((r) => r.name === name);
    assert.ok(row, `manifest has a row for ${name}`);
    return row;
  };
  const expectStatus = (name: string, status: string, reason: RegExp): void => {
    const row = byName(name);
    assert.equal(row.status, status, `${name}: ${row.reason}`);
    assert.match(row.reason, reason, name);
  };
  expectStatus('30_0_0_20170101000000100.jpg.chip.jpg', 'unreadable', /empty \(0 bytes\)/);
  expectStatus('31_0_0_20170101000000101.jpg.chip.jpg', 'unreadable', /truncated|corrupt/i);
  expectStatus('32_0_0_20170101000000102.jpg.chip.jpg', 'unreadable', /content is PNG/);
  expectStatus('33_0_0_20170101000000103.jpg.chip.jpg', 'unreadable', /not an image/);
  expectStatus('34_0_0_20170101000000104.jpg.chip.jpg', 'unreadable', /30000×30000/);
  expectStatus('35_0_0_20170101000000105.jpg.chip.jpg', 'unreadable', /^broken symbolic link \(points to .*does-not-exist\.jpg\)$/);
  expectStatus('36_0_0_20170101000000106.jpg.chip.jpg', 'unreadable', /not a regular file/);
  expectStatus('0_0_0_20170101000000200.jpg.chip.jpg', 'invalid-label', /age 0 is outside/);
  expectStatus('121_0_0_20170101000000201.jpg.chip.jpg', 'invalid-label', /age 121 is outside/);
  expectStatus('40_2_0_20170101000000202.jpg.chip.jpg', 'invalid-label', /gender 2/);
  expectStatus('41_0_7_20170101000000203.jpg.chip.jpg', 'invalid-label', /race 7/);
  expectStatus('42_0_20170101000000204.jpg.chip.jpg', 'invalid-label', /3 of 4 fields/);
  expectStatus('loop', 'unreadable', /symlink loop/);
  expectStatus('self.jpg', 'unreadable', /^symbolic link loop$/);
  expectStatus('51_1_1_20170101000000301.jpg.chip.jpg', 'unreadable', /escapes the archive/);
  const zipped = byName('50_1_1_20170101000000300.jpg.chip.jpg');
  assert.equal(zipped.status, 'kept');
  assert.match(zipped.source, /upload\.zip!\/faces\//);
  // materialized from inside the zip, byte for byte
  assert.deepEqual(summary.materialized, summary.split.counts);
  assert.deepEqual(readFileSync(join(workspace, 'splits', zipped.split!, zipped.name)), readFileSync(sampleChips(7)[6]!));
  // the good chips survive; the summary counts add up
  assert.equal(summary.kept, 7);
  assert.equal(summary.unreadable.length, 10);
  assert.equal(summary.invalidLabels.length, 5);
  assert.equal(summary.files, rows.length);
  assert.equal(Object.values(summary.statusCounts).reduce((a, b) => a + b, 0), summary.files);
  // inputs untouched; nothing written beside the workspace (e.g. no escape/ folder)
  assert.deepEqual(snapshot(input), before);
  assert.deepEqual(readdirSync(root).sort(), rootBefore.includes('workspace') ? rootBefore : [...rootBefore, 'workspace'].sort());
});

test('keep-one keeps more than drop-all, re-runs hit the cache, and --materialize matches the manifest', async (t) => {
  const root = tempDir(t, 'agegender-policy-');
  const input = join(root, 'input');
  mkdirSync(input);
  const chips = sampleChips(40);
  for (const chip of chips) copyFileSync(chip, join(input, chip.split('/').pop()!));
  // an exact copy with the same labels, a re-encoded copy with the same labels, a re-encoded copy with another age
  const name0 = chips[0]!.split('/').pop()!;
  const [age0, ...rest0] = name0.split('_');
  copyFileSync(chips[0]!, join(input, `${age0}_${rest0.slice(0, 2).join('_')}_29990101000000001.jpg.chip.jpg`));
  const reencoded = await sharp(readFileSync(chips[0]!)).jpeg({ quality: 85 }).toBuffer();
  writeFileSync(join(input, `${age0}_${rest0.slice(0, 2).join('_')}_29990101000000002.jpg.chip.jpg`), reencoded);
  writeFileSync(join(input, `${Number(age0) + 7}_${rest0.slice(0, 2).join('_')}_29990101000000003.jpg.chip.jpg`), reencoded);
  // chip 1 gets a re-encoded twin with the same labels: keep-one keeps one of the two, drop-all neither
  const name1 = chips[1]!.split('/').pop()!;
  writeFileSync(join(input, name1.replace(/_(\d+)\.jpg\.chip\.jpg$/, '_29990101000000004.jpg.chip.jpg')), await sharp(readFileSync(chips[1]!)).jpeg({ quality: 85 }).toBuffer());

  const keepOne = await prepare({ inputs: [input], workspace: join(root, 'keep-one'), policy: 'keep-one', materialize: 'link' });
  const dropAll = await prepare({ inputs: [input], workspace: join(root, 'drop-all'), policy: 'drop-all' });
  assert.ok(keepOne.kept > dropAll.kept, `keep-one kept ${keepOne.kept}, drop-all kept ${dropAll.kept}`);
  assert.ok(keepOne.droppedClusters.some((c) => c.outcome === 'dropped-conflict' && /conflicting labels/.test(c.reason)));
  assert.ok(dropAll.droppedClusters.every((c) => c.outcome === 'dropped-all'));
  assert.equal(keepOne.crossSplitNearPairs.withinGroupDistance, 0);
  assert.deepEqual(keepOne.materialized, keepOne.split.counts);
  for (const split of ['train', 'val', 'test'] as const) {
    assert.equal(readdirSync(join(root, 'keep-one', 'splits', split)).length, keepOne.split.counts[split]);
  }
  const again = await prepare({ inputs: [input], workspace: join(root, 'keep-one'), policy: 'keep-one' });
  // a run without --materialize leaves no split folders of the earlier run behind (they would not match its manifest)
  assert.equal(again.materialized, undefined);
  assert.equal(existsSync(join(root, 'keep-one', 'splits')), false);
  assert.equal(again.timings.cacheMisses, 0);
  assert.equal(again.timings.cacheHits, keepOne.timings.cacheMisses);
  assert.equal(again.manifestSha256, keepOne.manifestSha256, 'same inputs and seed give the same manifest');
  // summary.json holds what prepare returned, in the schema's shape, and reads back whole
  const written: unknown = JSON.parse(readFileSync(join(root, 'keep-one', 'summary.json'), 'utf8'));
  assert.deepEqual(PrepareSummarySchema.parse(written), again);
  assert.deepEqual(await readSummary(join(root, 'keep-one')), again);
});

test('prepare refuses a missing input, inputs without images, and an unwritable workspace, writing nothing', async (t) => {
  const root = tempDir(t, 'agegender-prepare-refuse-');
  const workspace = join(root, 'ws');
  const coded = (code: string, text: string) => (error: unknown) => {
    assert.equal((error as { code?: string }).code, code);
    assert.match((error as Error).message, new RegExp(text));
    return true;
  };
  const missing = join(root, 'nosuch');
  await assert.rejects(prepare({ inputs: [missing], workspace }), coded('UNREADABLE_FILE', `^${missing}: .*no such file or folder`));
  const notes = join(root, 'notes.txt');
  writeFileSync(notes, 'not an image\n');
  const empty = join(root, 'empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'readme.md'), '# nothing\n');
  for (const inputs of [[notes], [empty], [notes, empty]]) {
    await assert.rejects(prepare({ inputs, workspace }), coded('INVALID_ARGUMENT', 'no images found in'));
  }
  const images = join(root, 'images');
  mkdirSync(images);
  copyFileSync(sampleChips(1)[0]!, join(images, '20_0_0_20170101000000000.jpg.chip.jpg'));
  await assert.rejects(prepare({ inputs: [images, missing], workspace }), coded('UNREADABLE_FILE', missing));
  assert.deepEqual(readdirSync(root).sort(), ['empty', 'images', 'notes.txt']);
  // the workspace is checked before any work: a file, or a folder that cannot be written
  await assert.rejects(prepare({ inputs: [images], workspace: notes }), coded('INVALID_ARGUMENT', `^${notes}: Expected a folder`));
  await assert.rejects(prepare({ inputs: [images], workspace: '/sys/ws' }), coded('INVALID_ARGUMENT', '^/sys/ws: cannot write in /sys'));
  // the library checks its settings as the CLI does, before any work (the CLI parses strings; a caller passes values)
  const bad: [Partial<Parameters<typeof prepare>[0]>, string][] = [
    [{ policy: 'keep-some' as never }, 'one of \\[.*\\] for policy but received "keep-some"'],
    [{ fractions: [0.5, 0.5, 0.5] }, 'sum to 1.* for fractions but received \\[0.5, 0.5, 0.5\\]'],
    [{ fractions: [1, 0, 0] }, 'train and val above 0'],
    [{ seed: -1 }, 'integer between 0 and 4294967295 for seed but received -1'],
    [{ seed: 1.5 }, 'for seed'],
    [{ threshold: Number.NaN }, 'for threshold but received NaN'],
    [{ groupDistance: 65 }, 'for groupDistance'],
    [{ concurrency: 0 }, 'for concurrency'],
    [{ materialize: 'symlink' as never }, 'one of \\[link, copy\\] for materialize'],
  ];
  for (const [options, text] of bad) await assert.rejects(prepare({ inputs: [images], workspace, ...options }), coded('INVALID_ARGUMENT', text));
  assert.deepEqual(readdirSync(root).sort(), ['empty', 'images', 'notes.txt'], 'nothing written');
});

test('prepare refuses a workspace inside an input, also through a symbolic link, and an input inside the workspace\'s splits/', async (t) => {
  const root = tempDir(t, 'agegender-prepare-overlap-');
  const data = join(root, 'data');
  mkdirSync(join(data, 'faces'), { recursive: true });
  copyFileSync(sampleChips(1)[0]!, join(data, 'faces', '20_0_0_20170101000000000.jpg.chip.jpg'));
  symlinkSync(data, join(root, 'data-link'));
  const refused = (subject: string, text: string) => (error: unknown) => {
    assert.equal((error as { code?: string }).code, 'INVALID_ARGUMENT');
    assert.equal((error as { subject?: string }).subject, subject);
    assert.match((error as Error).message, new RegExp(text));
    return true;
  };
  const before = snapshot(data);
  await assert.rejects(prepare({ inputs: [data], workspace: join(data, 'ws') }), refused(data, 'the workspace .* is inside this input'));
  // the link's target holds the workspace: the same refusal, naming the real folder
  const link = join(root, 'data-link');
  await assert.rejects(prepare({ inputs: [link], workspace: join(data, 'ws') }), refused(link, `inside this input \\(${data}\\)`));
  await assert.rejects(prepare({ inputs: [join(data, 'faces')], workspace: join(link, 'faces', 'ws') }), refused(join(data, 'faces'), 'inside this input'));
  assert.deepEqual(snapshot(data), before, 'nothing written into the input');

  // a materialized split used as an input of the same workspace would be replaced (deleted) by the run
  const workspace = join(root, 'ws');
  await prepare({ inputs: [data], workspace, materialize: 'copy' });
  const train = join(workspace, 'splits', 'train');
  const trainBefore = snapshot(train);
  await assert.rejects(prepare({ inputs: [train], workspace, materialize: 'copy' }), refused(train, "inside the workspace's splits/ folder"));
  assert.deepEqual(snapshot(train), trainBefore);
});

test('--materialize keeps every kept file when input folders share file names (also folders with the same name)', async (t) => {
  const root = tempDir(t, 'agegender-prepare-names-');
  const input = join(root, 'input');
  const folders = [join(input, 'p'), join(input, 'x', 'a'), join(input, 'y', 'a')];
  const chips = sampleChips(21);
  folders.forEach((folder, f) => {
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < 7; i++) copyFileSync(chips[f * 7 + i]!, join(folder, `30_1_0_2017010100000000${i}.jpg.chip.jpg`));
  });
  const workspace = join(root, 'ws');
  const summary = await prepare({ inputs: [input], workspace, materialize: 'copy' });
  assert.equal(summary.kept, 21);
  assert.deepEqual(summary.materialized, summary.split.counts);
  // every kept image is in its split folder once, byte for byte
  const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  for (const split of ['train', 'val', 'test'] as const) {
    const files = Object.keys(snapshot(join(workspace, 'splits', split)));
    const kept = (await readManifest(workspace)).filter((r) => r.split === split).map((r) => r.sha256).sort();
    assert.deepEqual(files.map((f) => sha(readFileSync(f))).sort(), kept, split);
  }
});

test('prepare removes the split folders half-built by a run killed while materializing', async (t) => {
  const root = tempDir(t, 'agegender-prepare-stale-');
  const input = join(root, 'input');
  mkdirSync(input);
  copyFileSync(sampleChips(1)[0]!, join(input, '20_0_0_20170101000000000.jpg.chip.jpg'));
  const workspace = join(root, 'ws');
  // what `replaceDirAtomic` leaves when its process (pid 999999999: not running) is killed mid-build
  const stale = join(workspace, 'splits.tmp-999999999-abcdef12');
  mkdirSync(join(stale, 'train'), { recursive: true });
  copyFileSync(sampleChips(1)[0]!, join(stale, 'train', '20_0_0_20170101000000000.jpg.chip.jpg'));
  await prepare({ inputs: [input], workspace, materialize: 'link' });
  assert.deepEqual(readdirSync(workspace).sort(), ['cache', 'manifest.csv', 'manifest.jsonl', 'splits', 'summary.json']);
});

test('prepare leaves a splits/ folder alone that it did not write', async (t) => {
  const root = tempDir(t, 'agegender-prepare-own-splits-');
  const input = join(root, 'input');
  mkdirSync(input);
  copyFileSync(sampleChips(1)[0]!, join(input, '20_0_0_20170101000000000.jpg.chip.jpg'));
  const workspace = join(root, 'project');
  mkdirSync(join(workspace, 'splits'), { recursive: true });
  writeFileSync(join(workspace, 'splits', 'notes.txt'), 'mine\n');
  await prepare({ inputs: [input], workspace });
  assert.equal(readFileSync(join(workspace, 'splits', 'notes.txt'), 'utf8'), 'mine\n');
});

test('a prepare run stopped part-way keeps the fingerprints it computed: the next run takes them from the cache', async (t) => {
  const root = tempDir(t, 'agegender-prepare-resume-');
  const input = join(root, 'input');
  mkdirSync(input);
  for (const chip of sampleChips(40)) copyFileSync(chip, join(input, chip.split('/').pop()!));
  const workspace = join(root, 'ws');
  // stopped while hashing (as by Ctrl-C): the progress callback throws once files have been hashed
  const stop = (e: { phase: string; done?: number }): void => {
    if (e.phase === 'hash' && (e.done ?? 0) > 0) throw new Error('stopped');
  };
  await assert.rejects(prepare({ inputs: [input], workspace, concurrency: 1, saveCacheEvery: 8, onProgress: stop }), /stopped/);
  assert.equal(existsSync(join(workspace, 'manifest.jsonl')), false, 'no manifest from the stopped run');
  const again = await prepare({ inputs: [input], workspace, saveCacheEvery: 8 });
  assert.ok(again.timings.cacheHits >= 32, `${again.timings.cacheHits} of 40 from the cache`);
  assert.equal(again.timings.cacheHits + again.timings.cacheMisses, 40);
});

test('inputs given twice, a file inside a folder also given, a link to a folder read already, and a zip with a name twice give a manifest train can read', async (t) => {
  const root = tempDir(t, 'agegender-prepare-twice-');
  const input = join(root, 'input');
  mkdirSync(join(input, 'sub'), { recursive: true });
  const chips = sampleChips(4);
  const file = join(input, '20_0_0_20170101000000000.jpg.chip.jpg');
  copyFileSync(chips[0]!, file);
  copyFileSync(chips[1]!, join(input, 'sub', '21_0_0_20170101000000001.jpg.chip.jpg'));
  symlinkSync(join(input, 'sub'), join(root, 'sub-link'));
  const zip = join(root, 'faces.zip');
  await makeZip(zip, [
    ['22_0_0_20170101000000002.jpg.chip.jpg', readFileSync(chips[2]!)],
    ['22_0_0_20170101000000002.jpg.chip.jpg', readFileSync(chips[3]!)],
  ]);
  const workspace = join(root, 'ws');
  const summary = await prepare({ inputs: [input, join(input, 'sub'), input, file, zip, zip, join(root, 'sub-link')], workspace, materialize: 'copy' });
  // one row per source, so the commands after prepare accept the manifest
  const rows = await readManifest(workspace);
  assert.equal(new Set(rows.map((r) => r.source)).size, rows.length);
  assert.equal(summary.files, 4);
  assert.equal(summary.kept, 3);
  // of the zip's two entries named alike, the first is hashed and materialized
  const zipped = rows.find((r) => r.source === `${zip}!/22_0_0_20170101000000002.jpg.chip.jpg`)!;
  assert.equal(zipped.sha256, createHash('sha256').update(readFileSync(chips[2]!)).digest('hex'));
  assert.deepEqual(readFileSync(join(workspace, 'splits', zipped.split!, zipped.name)), readFileSync(chips[2]!));
  // the link is another path to a folder read already: reported as that, not as a symlink loop
  const real = realpathSync(join(input, 'sub'));
  assert.deepEqual(
    summary.unreadable.map((u) => [u.source, u.reason]),
    [[join(root, 'sub-link'), `folder already read as ${real} (an input given twice, or inside another input)`]],
  );
});

test('a file that cannot be read is not cached, so the next run reads it again', async (t) => {
  const root = tempDir(t, 'agegender-prepare-read-error-');
  const input = join(root, 'input');
  mkdirSync(input);
  copyFileSync(sampleChips(1)[0]!, join(input, '20_0_0_20170101000000000.jpg.chip.jpg'));
  // a "file" whose read fails with EIO, even for root (as permission denied would for a user)
  const failing = join(input, '21_0_0_20170101000000001.jpg.chip.jpg');
  symlinkSync('/proc/self/mem', failing);
  const workspace = join(root, 'ws');
  const first = await prepare({ inputs: [input], workspace });
  assert.deepEqual(first.unreadable.map((u) => u.source), [failing]);
  assert.match(first.unreadable[0]!.reason, /^cannot read file: /);
  const cached = (JSON.parse(readFileSync(join(workspace, 'cache', 'hashes.json'), 'utf8')) as { entries: Record<string, unknown> }).entries;
  assert.deepEqual(Object.keys(cached), [join(input, '20_0_0_20170101000000000.jpg.chip.jpg')], 'the read failure is not cached');
});

test('a mid-run save of the hash cache that fails does not crash the process: prepare rejects once, at the end', async (t) => {
  const root = tempDir(t, 'agegender-prepare-cache-fails-');
  const input = join(root, 'input');
  mkdirSync(input);
  for (const chip of sampleChips(20)) copyFileSync(chip, join(input, chip.split('/').pop()!));
  const workspace = join(root, 'ws');
  mkdirSync(workspace);
  writeFileSync(join(workspace, 'cache'), 'a file where the cache folder goes\n'); // every save fails
  // before, the failed mid-run saves were unhandled rejections (the test runner fails the test on those)
  await assert.rejects(prepare({ inputs: [input], workspace, saveCacheEvery: 2 }), /EEXIST|ENOTDIR/);
});

test('--materialize link on inputs that are symbolic links (relative ones too) puts the files themselves in the split folders', async (t) => {
  const root = tempDir(t, 'agegender-prepare-symlinked-');
  const store = join(root, 'store');
  const input = join(root, 'input');
  mkdirSync(store);
  mkdirSync(input);
  for (const chip of sampleChips(6)) {
    const name = chip.split('/').pop()!;
    copyFileSync(chip, join(store, name));
    symlinkSync(join('..', 'store', name), join(input, name)); // as git-annex and DVC lay data out
  }
  const workspace = join(root, 'ws');
  const summary = await prepare({ inputs: [input], workspace, materialize: 'link' });
  assert.equal(summary.kept, 6);
  for (const row of await readManifest(workspace)) {
    const placed = join(workspace, 'splits', row.split!, row.name);
    assert.equal(lstatSync(placed).isFile(), true, `${placed} is a file, not a link`);
    assert.equal(statSync(placed).ino, statSync(join(store, row.name)).ino, 'hard-linked to the file the input points to');
  }
});

test('a run that fails while materializing leaves the earlier manifest and summary as they were', async (t) => {
  const root = tempDir(t, 'agegender-prepare-materialize-fails-');
  const input = join(root, 'input');
  mkdirSync(input);
  for (const chip of sampleChips(12)) copyFileSync(chip, join(input, chip.split('/').pop()!));
  const workspace = join(root, 'ws');
  await prepare({ inputs: [input], workspace, seed: 1 });
  const before = ['manifest.jsonl', 'manifest.csv', 'summary.json'].map((f) => readFileSync(join(workspace, f), 'utf8'));
  // another seed, and a kept file gone by the time it is copied (as if the run were stopped there)
  const gone = join(input, sampleChips(1)[0]!.split('/').pop()!);
  const removeOne = (e: { phase: string }): void => {
    if (e.phase === 'split' && existsSync(gone)) rmSync(gone);
  };
  await assert.rejects(prepare({ inputs: [input], workspace, seed: 2, materialize: 'copy', onProgress: removeOne }), (error: unknown) => {
    assert.equal((error as { code?: string }).code, 'UNREADABLE_FILE');
    assert.match((error as Error).message, new RegExp(`^${gone}: cannot copy it into ${join(workspace, 'splits')}/\\w+: no such file or folder`));
    return true;
  });
  assert.deepEqual(['manifest.jsonl', 'manifest.csv', 'summary.json'].map((f) => readFileSync(join(workspace, f), 'utf8')), before);
  assert.equal(existsSync(join(workspace, 'splits')), false);
});
