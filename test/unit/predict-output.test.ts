// `predict --out`: results written to a file as they come (CSV or NDJSON), renamed when complete, and
// resumable from a run cut short (predictToFile, src/pipeline/predict-output.ts). Tiny deterministic
// model on aligned chips (`detect: false`).
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { csvLine, parseCsv } from '../../src/core/csv.js';
import { AgeGenderError } from '../../src/core/errors.js';
import { runPredictToFile } from '../../src/cli/commands/predict.js';
import { partialPathOf, predictToFile, type PredictToFileOptions } from '../../src/pipeline/predict-output.js';
import { predictFiles, type PredictFileResult } from '../../src/pipeline/predict-files.js';
import { fakeModel } from '../fixtures/photos/fake-model.js';

const PHOTOS = new URL('../fixtures/photos/', import.meta.url);

describe('predict into a file (predictToFile)', () => {
  let dir: string;
  let chips: string;
  const run = (out: string, extra: Partial<PredictToFileOptions> = {}): ReturnType<typeof predictToFile> =>
    predictToFile([chips], { out, detect: false, batchSize: 2, model: fakeModel(), ...extra });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agegender-predict-out-'));
    chips = join(dir, 'chips');
    await mkdir(chips);
    const chip = await readFile(new URL('chip-35-male.jpg', PHOTOS));
    // names that need quoting in CSV, too
    for (const name of ['a.jpg', 'b, with comma.jpg', 'c "quoted".jpg', 'd.jpg', 'e.jpg', 'f.jpg']) await writeFile(join(chips, name), chip);
    await writeFile(join(chips, 'g-bad.jpg'), 'not an image');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every file\'s rows, no .partial left; the rows equal `predict --csv`\'s', async () => {
    const out = join(dir, 'all.csv');
    const progress: Array<[number, number]> = [];
    const s = await run(out, { onProgress: (done, total) => progress.push([done, total]) });
    assert.deepEqual([s.files, s.failed, s.kept, s.format], [7, 1, 0, 'csv']);
    assert.ok(!existsSync(partialPathOf(out)));
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 1 + 7);
    assert.match(lines[0]!, /^file,face,x,y/);
    assert.match(lines[2]!, /^".*b, with comma\.jpg",1,/);
    assert.match(lines[7]!, /g-bad\.jpg,,.*INVALID_IMAGE/);
    assert.deepEqual(progress.at(0), [0, 7]);
    assert.deepEqual(progress.at(-1), [7, 7]);
  });

  it('holds no result once it is written (a run over millions of files held every one until the end); predictFiles keepResults: false counts them all the same', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const seen: Array<WeakRef<PredictFileResult>> = [];
    let heldAtEnd: string[] = [];
    const s = await run(join(dir, 'held.csv'), {
      batchSize: 1,
      onResult: (r) => {
        // at the last file, the first ones (written a few batches ago) must be garbage
        if (seen.length === 6) {
          gc();
          heldAtEnd = seen.slice(0, 3).flatMap((w) => w.deref()?.file ?? []);
        }
        seen.push(new WeakRef(r));
      },
    });
    assert.deepEqual([s.files, s.failed, s.faces], [7, 1, 6]);
    assert.equal(seen.length, 7);
    assert.deepEqual(heldAtEnd, [], 'results of files written long before still held');

    const kept = await predictFiles([chips], { detect: false, batchSize: 2, model: fakeModel() });
    const streamed = await predictFiles([chips], { detect: false, batchSize: 2, model: fakeModel(), keepResults: false });
    assert.equal(kept.results.length, 7);
    assert.deepEqual(streamed.results, []);
    assert.deepEqual([streamed.files, streamed.failed, streamed.faces], [kept.files, kept.failed, kept.faces]);
    assert.deepEqual([kept.files, kept.failed, kept.faces], [7, 1, 6]);
  });

  it('refuses to start over a .partial without resume, leaving it as it was', async () => {
    const out = join(dir, 'refused.csv');
    await writeFile(partialPathOf(out), 'earlier rows\n');
    await assert.rejects(run(out), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && /\.partial: results of a run that did not finish: pass --resume/.test(e.message));
    assert.equal(await readFile(partialPathOf(out), 'utf8'), 'earlier rows\n');
    assert.ok(!existsSync(out));
  });

  it('resume: a .partial cut in the middle of a row keeps the whole files before it, tries failed files again and predicts only the rest', async () => {
    const full = (await readFile(join(dir, 'all.csv'), 'utf8')).split('\n');
    const out = join(dir, 'cut.csv');
    // header, a.jpg, "b, with comma.jpg", half of "c "quoted".jpg"'s row; plus the failed g-bad.jpg's row
    const cut = [full[0], full[1], full[2], full[7], full[3]!.slice(0, 25)].join('\n');
    await writeFile(partialPathOf(out), cut);
    const s = await run(out, { resume: true });
    // kept: a.jpg and "b, with comma.jpg" (g-bad.jpg failed, c is cut: both done again)
    assert.deepEqual([s.kept, s.files, s.failed], [2, 5, 1]);
    const got = (await readFile(out, 'utf8')).trimEnd().split('\n');
    assert.deepEqual([...got].sort(), full.filter((l) => l !== '').sort(), 'the same rows as one uninterrupted run');
    assert.deepEqual(got.slice(0, 3), full.slice(0, 3), 'kept rows first');
    assert.ok(!existsSync(partialPathOf(out)));
  });

  it('resume from a finished NDJSON file: only the images added since are predicted', async () => {
    const out = join(dir, 'all.ndjson');
    const first = await run(out);
    assert.equal(first.format, 'ndjson');
    await writeFile(join(chips, 'h-new.jpg'), await readFile(new URL('chip-35-male.jpg', PHOTOS)));
    try {
      const again = await run(out, { resume: true });
      assert.deepEqual([again.kept, again.files], [6, 2], 'the 6 answered files kept; the new one and the failed one predicted');
      const results = (await readFile(out, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as PredictFileResult);
      assert.equal(results.length, 8);
      assert.equal(new Set(results.map((r) => r.file)).size, 8);
      assert.ok(results.find((r) => r.file.endsWith('h-new.jpg'))!.faces.length === 1);
    } finally {
      await rm(join(chips, 'h-new.jpg'));
    }
  });

  it('resume from a finished CSV written before the note column: its rows are kept, with an empty note', async () => {
    const full = (await readFile(join(dir, 'all.csv'), 'utf8')).trimEnd().split('\n');
    const noteAt = full[0]!.split(',').indexOf('note');
    // the same file as an earlier version wrote it: no note column (no cell of it needs quoting)
    const dropNote = (line: string): string => { const cells = parseCsv(line)[0]!; cells.splice(noteAt, 1); return csvLine(cells); };
    const out = join(dir, 'old.csv');
    await writeFile(out, `${full.map(dropNote).join('\n')}\n`);
    const s = await run(out, { resume: true });
    assert.deepEqual([s.kept, s.files], [6, 1], 'the answered files kept; only the failed one predicted again');
    assert.deepEqual((await readFile(out, 'utf8')).trimEnd().split('\n').sort(), [...full].sort(), 'rewritten with the note column');
  });

  it('refuses, before any work and without writing, an --out that is a folder, an image\'s name or one of the inputs', async () => {
    const image = join(chips, 'a.jpg');
    const before = await readFile(image);
    const refused = (out: string, pattern: RegExp) => (e: unknown): boolean => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.subject === out && pattern.test(e.message);
    await assert.rejects(run(image), refused(image, /an image's name/), 'a photo of the folder walked');
    await assert.rejects(run(join(dir, 'new.JPG')), refused(join(dir, 'new.JPG'), /an image's name/), 'any image name, in any case');
    await assert.rejects(run(chips), refused(chips, /this is a folder/));
    // an input given by name, whatever its name
    const named = join(dir, 'photo.data');
    await writeFile(named, before);
    await assert.rejects(predictToFile([named], { out: named, detect: false, model: fakeModel() }), refused(named, /this is the input image/));
    assert.deepEqual(await readFile(image), before, 'the input is untouched');
    assert.deepEqual(await readFile(named), before);
    assert.ok(!existsSync(partialPathOf(image)) && !existsSync(partialPathOf(chips)) && !existsSync(partialPathOf(named)), 'no .partial left');
  });

  it('resume from a file that is not predict\'s output is refused, naming it', async () => {
    const out = join(dir, 'other.csv');
    await writeFile(partialPathOf(out), 'name,age\nx.jpg,3\n');
    await assert.rejects(run(out, { resume: true }), (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.subject === partialPathOf(out) && /not the output of agegender predict/.test(e.message));
    assert.equal(await readFile(partialPathOf(out), 'utf8'), 'name,age\nx.jpg,3\n');
  });

  it('the command: --json cannot go to --out; --csv must agree with the extension; the summary says what was kept', async () => {
    const logs: string[] = [];
    const opts = { detect: false, model: fakeModel(), log: (t: string) => logs.push(t), progress: false };
    await assert.rejects(runPredictToFile([chips], { ...opts, format: 'json', out: join(dir, 'x.json') }), /--json prints one document; with --out write .*x\.ndjson/);
    await assert.rejects(runPredictToFile([chips], { ...opts, format: 'csv', out: join(dir, 'x.ndjson') }), /--csv, but --out .*x\.ndjson names an NDJSON file/);
    const out = join(dir, 'cli.csv');
    await runPredictToFile([chips], { ...opts, out });
    await runPredictToFile([chips], { ...opts, out, resume: true });
    assert.match(logs.at(-1)!, /^1 file \(6 more kept from the earlier run\), 0 faces, 1 failed, .* → .*cli\.csv$/);
  });

  it('the command: a multi-frame file\'s note is in its row and on stderr before the summary; a caller\'s onResult still gets every result', async () => {
    const sharp = (await import('sharp')).default;
    const chip = await sharp(await readFile(new URL('chip-35-male.jpg', PHOTOS))).raw().toBuffer();
    const pages = join(dir, 'pages.tiff');
    await sharp(Buffer.concat([chip, chip]), { raw: { width: 200, height: 400, channels: 3, pageHeight: 200 } }).tiff().toFile(pages);
    const logs: string[] = [];
    const seen: string[] = [];
    const out = join(dir, 'notes.ndjson');
    await runPredictToFile([pages], { detect: false, model: fakeModel(), log: (t) => logs.push(t), progress: false, out, onResult: (r) => seen.push(r.file) });
    const note = 'the TIFF holds 2 pages: only the first was analysed';
    assert.equal((JSON.parse(await readFile(out, 'utf8')) as PredictFileResult).note, note);
    assert.deepEqual(logs.slice(0, -1), [`${pages}: note: ${note}`]);
    assert.deepEqual(seen, [pages]);
  });
});
