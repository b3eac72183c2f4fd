// readSourceBytes: manifest sources that are zip entries are read through one index per archive.
import { strict as assert } from 'node:assert';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import yazl from 'yazl';
import { AgeGenderError } from '../../src/core/errors.js';
import { closeArchives, readSourceBytes } from '../../src/data/sources.js';
import { tempDir } from '../helpers/tmp.js';

/** Asserts an UNREADABLE_FILE error naming `subject`, with `reason`. */
const unreadable = (subject: string, reason: string) => (error: unknown) => {
  assert.ok(error instanceof AgeGenderError, String(error));
  assert.equal(error.code, 'UNREADABLE_FILE');
  assert.equal(error.subject, subject);
  assert.equal(error.message, `${subject}: ${reason}`);
  return true;
};

async function writeZip(path: string, entries: Array<[string, Buffer]>): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, bytes] of entries) zip.addBuffer(bytes, name, { compress: name.endsWith('.txt') });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  await writeFile(path, Buffer.concat(chunks));
}

/** Distinct bytes per entry (so a mix-up between entries cannot pass). */
const content = (i: number, tag: string): Buffer => Buffer.from(`${tag}:${i}:`.repeat(10 + (i % 7)));

describe('readSourceBytes', () => {
  after(() => closeArchives());

  it('reads every entry of an archive, one by one and concurrently, with the right bytes', async (t) => {
    const dir = tempDir(t, 'agegender-sources-');
    const archive = join(dir, 'faces.zip');
    const names = Array.from({ length: 300 }, (_, i) => `UTKFace/${i}_0_0_2017.jpg.chip.jpg`);
    await writeZip(archive, [...names.map((n, i): [string, Buffer] => [n, content(i, 'a')]), ['notes.txt', Buffer.from('compressed '.repeat(100))]]);
    for (let i = 0; i < names.length; i += 37) assert.deepEqual(await readSourceBytes(`${archive}!/${names[i]}`), content(i, 'a'));
    const all = await Promise.all(names.map((n) => readSourceBytes(`${archive}!/${n}`)));
    all.forEach((bytes, i) => assert.deepEqual(bytes, content(i, 'a'), names[i]));
    assert.equal((await readSourceBytes(`${archive}!/notes.txt`)).toString(), 'compressed '.repeat(100), 'deflated entries too');
    await assert.rejects(readSourceBytes(`${archive}!/UTKFace/missing.jpg`), unreadable(`${archive}!/UTKFace/missing.jpg`, 'entry not found in archive'));
  });

  it('sees a rewritten archive (new size or mtime) instead of the index it read before', async (t) => {
    const dir = tempDir(t, 'agegender-sources-');
    const archive = join(dir, 'faces.zip');
    await writeZip(archive, [['x.jpg', content(1, 'old')]]);
    assert.deepEqual(await readSourceBytes(`${archive}!/x.jpg`), content(1, 'old'));
    await writeZip(archive, [['x.jpg', content(1, 'new-and-longer')], ['y.jpg', content(2, 'new')]]);
    await utimes(archive, new Date(), new Date(Date.now() + 5000));
    assert.deepEqual(await readSourceBytes(`${archive}!/x.jpg`), content(1, 'new-and-longer'));
    assert.deepEqual(await readSourceBytes(`${archive}!/y.jpg`), content(2, 'new'));
  });

  it('keeps only a few archives open, and reads an evicted one again', async (t) => {
    const dir = tempDir(t, 'agegender-sources-');
    const archives = Array.from({ length: 7 }, (_, k) => join(dir, `part${k}.zip`));
    for (const [k, archive] of archives.entries()) await writeZip(archive, [['face.jpg', content(k, 'part')]]);
    for (let round = 0; round < 2; round++) {
      for (const [k, archive] of archives.entries()) assert.deepEqual(await readSourceBytes(`${archive}!/face.jpg`), content(k, 'part'));
    }
  });

  it('reads plain files as they are, and names a missing one', async (t) => {
    const dir = tempDir(t, 'agegender-sources-');
    await writeFile(join(dir, 'a.jpg'), content(3, 'file'));
    assert.deepEqual(await readSourceBytes(join(dir, 'a.jpg')), content(3, 'file'));
    // moved or deleted since prepare: a coded error naming the source and the reason, not a bare ENOENT
    await assert.rejects(readSourceBytes(join(dir, 'nope.jpg')), unreadable(join(dir, 'nope.jpg'), 'cannot read file: no such file or folder'));
    const gone = `${join(dir, 'gone.zip')}!/UTKFace/a.jpg`;
    await assert.rejects(readSourceBytes(gone), unreadable(gone, `cannot read zip archive ${join(dir, 'gone.zip')}: no such file or folder`));
  });
});
