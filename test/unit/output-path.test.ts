// Output paths checked before the work: a folder where a file is wanted, a file where a folder is
// wanted, a parent that cannot be written; errors name the path given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgeGenderError } from '../../src/core/errors.js';
import { checkNotInput, checkOutputFile, checkOutputFolder, outputFileIn } from '../../src/core/output-path.js';

const invalid = (message: string) => (e: unknown) => e instanceof AgeGenderError && e.code === 'INVALID_ARGUMENT' && e.message === message;

test('checkOutputFile / checkOutputFolder / outputFileIn', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-out-'));
  try {
    const file = join(dir, 'a.txt');
    await writeFile(file, 'x');
    await mkdir(join(dir, 'sub'));
    assert.equal(await checkOutputFile(file), file, 'an existing file is replaced');
    assert.equal(await checkOutputFile(join(dir, 'new', 'deeper', 'r.html')), join(dir, 'new', 'deeper', 'r.html'), 'missing folders are created later');
    await assert.rejects(checkOutputFile(join(dir, 'sub')), invalid(`${join(dir, 'sub')}: Expected a file to write but this is a folder`));
    await assert.rejects(checkOutputFile(join(file, 'r.html')), invalid(`${join(file, 'r.html')}: cannot write here: ${file} is a file, not a folder`));
    await assert.rejects(checkOutputFolder(file), invalid(`${file}: Expected a folder to write into but this is a file`));
    await assert.rejects(checkOutputFolder(join(file, 'out')), invalid(`${join(file, 'out')}: cannot write here: ${file} is a file, not a folder`));
    assert.equal(await checkOutputFolder(join(dir, 'sub')), join(dir, 'sub'));
    // /sys refuses new files even to root
    await assert.rejects(checkOutputFile('/sys/x.png'), invalid('/sys/x.png: cannot write in /sys: permission denied'));
    await assert.rejects(checkOutputFolder('/sys/out'), invalid('/sys/out: cannot write in /sys: permission denied'));
    assert.equal(await outputFileIn(join(dir, 'sub'), 'report.html'), join(dir, 'sub', 'report.html'), 'an existing folder: the file inside it');
    assert.equal(await outputFileIn(join(dir, 'fresh') + '/', 'report.html'), join(dir, 'fresh', 'report.html'), 'a path ending in a slash: a folder');
    assert.equal(await outputFileIn(file, 'report.html'), file);
    assert.deepEqual((await readdir(dir)).sort(), ['a.txt', 'sub'], 'no probe file left, nothing created');
    assert.deepEqual(await readdir(join(dir, 'sub')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('checkNotInput refuses the input file as the output, also through a link', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agegender-out-'));
  try {
    const input = join(dir, 'face.jpg');
    await writeFile(input, 'x');
    await symlink(input, join(dir, 'alias.jpg'));
    await assert.rejects(checkNotInput(input, input), invalid(`${input}: cannot write here: this is the input image ${input}`));
    await assert.rejects(checkNotInput(join(dir, 'alias.jpg'), input), invalid(`${join(dir, 'alias.jpg')}: cannot write here: this is the input image ${input}`));
    await checkNotInput(join(dir, 'face.jpg.png'), input); // another file, or one not there yet
    await writeFile(join(dir, 'other.jpg'), 'x');
    await checkNotInput(join(dir, 'other.jpg'), input);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
