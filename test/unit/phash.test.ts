import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { AgeGenderError } from '../../src/core/errors.js';
import {
  bitsToHex,
  dctLowBlock,
  hammingHex,
  phashFromGray,
  phashOfBytes,
  pilResizeLanczos,
  rgbToPilL,
} from '../../src/data/phash.js';

const DATA_DIR = process.env.AGEGENDER_UTKFACE_DIR ?? path.resolve(process.cwd(), '../shared/datasets/utkface');

interface RefRow {
  file: string;
  phash: string;
  sha: string;
}

function loadReference(): RefRow[] {
  const tsv = path.join(DATA_DIR, 'phash-reference.tsv');
  if (!existsSync(tsv)) {
    assert.fail(
      `UTKFace reference data not found: ${tsv} is missing. Point AGEGENDER_UTKFACE_DIR at the folder holding ` +
        'UTKFace/, crop_part1/ and phash-reference.tsv.',
    );
  }
  const rows = readFileSync(tsv, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [file, phash, sha] = l.split('\t');
      return { file: file!, phash: phash!, sha: sha! };
    });
  assert.ok(rows.length > 0, `${tsv} holds no rows`);
  return rows;
}

/** Every k-th row of a folder (sorted by path), so the sample is the same on every run. */
function sample(rows: RefRow[], folder: string, count: number): RefRow[] {
  const inFolder = rows.filter((r) => r.file.startsWith(`${folder}/`)).sort((a, b) => (a.file < b.file ? -1 : 1));
  assert.ok(inFolder.length >= count, `phash-reference.tsv lists only ${inFolder.length} files under ${folder}/`);
  const step = inFolder.length / count;
  return Array.from({ length: count }, (_, i) => inFolder[Math.floor(i * step)]!);
}

test('pHash matches imagehash.phash on a deterministic sample of UTKFace/ and crop_part1/', async () => {
  const rows = loadReference();
  for (const [folder, count] of [
    ['UTKFace', 300],
    ['crop_part1', 100],
  ] as const) {
    const picked = sample(rows, folder, count);
    let match = 0;
    const misses: string[] = [];
    for (const row of picked) {
      const file = path.join(DATA_DIR, row.file);
      if (!existsSync(file)) assert.fail(`${file} is listed in phash-reference.tsv but missing from the data folder`);
      const bytes = await readFile(file);
      assert.equal(createHash('sha256').update(bytes).digest('hex').slice(0, 16), row.sha, `${row.file}: SHA-256 prefix differs`);
      const ours = await phashOfBytes(bytes, row.file);
      if (ours === row.phash) match++;
      else misses.push(`${row.file}: ours ${ours}, reference ${row.phash} (distance ${hammingHex(ours, row.phash)})`);
    }
    const rate = match / picked.length;
    assert.ok(rate >= 0.99, `${folder}/: only ${match}/${picked.length} exact pHash matches\n${misses.join('\n')}`);
  }
});

test('pilResizeLanczos keeps a constant image constant, down and up', () => {
  for (const [w, h, ow, oh] of [
    [200, 200, 32, 32],
    [5, 7, 13, 11],
    [64, 48, 32, 32],
    [31, 1, 7, 1],
  ] as const) {
    for (const v of [0, 1, 137, 254, 255]) {
      const out = pilResizeLanczos(new Uint8Array(w * h).fill(v), w, h, ow, oh);
      assert.equal(out.length, ow * oh);
      assert.ok(
        out.every((p) => p === v),
        `${w}×${h} → ${ow}×${oh} of ${v}`,
      );
    }
  }
});

test('pilResizeLanczos: identity size returns the same pixels (a copy)', () => {
  const img = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
  const out = pilResizeLanczos(img, 4, 3, 4, 3);
  assert.deepEqual(out, img);
  assert.notEqual(out, img);
});

test('pilResizeLanczos: hand-computed Pillow values', () => {
  // 2 → 1: both taps weigh 0.5 → 2^21 each; (2^21 + 255·2^21) >> 22 = 128 (Pillow rounds half up).
  assert.deepEqual([...pilResizeLanczos(Uint8Array.from([0, 255]), 2, 1, 1, 1)], [128]);
  assert.deepEqual([...pilResizeLanczos(Uint8Array.from([0, 255]), 1, 2, 1, 1)], [128]);
  // Negative lobes overshoot and clip: a step edge upscaled rings below 0 and above 255.
  const up = pilResizeLanczos(Uint8Array.from([0, 0, 0, 255, 255, 255]), 6, 1, 12, 1);
  assert.equal(up[0], 0);
  assert.equal(up[11], 255);
  assert.ok(up[5]! > 0 && up[5]! < 255 && up[6]! > 0 && up[6]! < 255);
  // 3 → 1: taps at -1/3, 0, 1/3 (support 9 after scaling by 3); lanczos(1/3) = sinc(1/3)·sinc(1/9) ≈ 0.8103,
  // normalised weights ≈ 0.3092, 0.3816, 0.3092 → 255·0.3092 ≈ 78.8 → 79 and 255·0.3816 ≈ 97.3 → 97.
  assert.deepEqual([...pilResizeLanczos(Uint8Array.from([0, 0, 255]), 3, 1, 1, 1)], [79]);
  assert.deepEqual([...pilResizeLanczos(Uint8Array.from([255, 0, 0]), 1, 3, 1, 1)], [79]);
  assert.deepEqual([...pilResizeLanczos(Uint8Array.from([0, 255, 0]), 3, 1, 1, 1)], [97]);
  assert.throws(() => pilResizeLanczos(new Uint8Array(3), 2, 2, 1, 1), AgeGenderError);
});

test('rgbToPilL uses Pillow integer weights', () => {
  const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 20, 30]);
  // (19595·R + 38470·G + 7471·B + 0x8000) >> 16
  assert.deepEqual([...rgbToPilL(rgb, 5, 1)], [76, 150, 29, 255, 18]);
  assert.deepEqual([...rgbToPilL(Uint8Array.from([10, 20, 30, 0]), 1, 1, 4)], [18]);
});

test('median and bit order follow imagehash: > median (mean of the middle two), row-major, MSB first', () => {
  const ramp = Array.from({ length: 64 }, (_, i) => i); // median 31.5 → second half set
  assert.equal(bitsToHex(ramp), '00000000ffffffff');
  const first = Array.from({ length: 64 }, (_, i) => (i === 0 ? 100 : 0)); // median 0 → only the first bit
  assert.equal(bitsToHex(first), '8000000000000000');
  const last = Array.from({ length: 64 }, (_, i) => (i === 63 ? -1 : 5)); // median 5: nothing strictly above
  assert.equal(bitsToHex(last), '0000000000000000');
  // Two middle values 3 and 4 → median 3.5; row 0 = [4, 3, 4, 3, 4, 3, 4, 3] → 1010 1010 = aa.
  const mixed = Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? 4 : 3));
  assert.equal(bitsToHex(mixed), 'aaaaaaaaaaaaaaaa');
});

test('DCT low block: unnormalised DCT-II, axis 0 then axis 1', () => {
  const flat = new Array<number>(1024).fill(1);
  const b = dctLowBlock(flat);
  assert.ok(Math.abs(b[0]! - 4 * 1024) < 1e-9); // (2·32)·(2·32)·1
  for (let i = 1; i < 64; i++) assert.ok(Math.abs(b[i]!) < 1e-9);
  // Vertical cosine of frequency 1 (varies with the row n) lands in row 1, column 0 of the block.
  const rows = Array.from({ length: 1024 }, (_, i) => Math.cos((Math.PI * (2 * Math.floor(i / 32) + 1)) / 64));
  const r = dctLowBlock(rows);
  assert.ok(Math.abs(r[8]! - 2 * 16 * 2 * 32) < 1e-9);
  assert.ok(Math.abs(r[1]!) < 1e-9);
});

test('phashFromGray of a horizontal gradient', () => {
  // Brightness rising left to right; the hash is deterministic and 16 hex digits.
  const g = Uint8Array.from({ length: 64 * 64 }, (_, i) => (i % 64) * 4);
  const h = phashFromGray(g, 64, 64);
  assert.match(h, /^[0-9a-f]{16}$/);
  assert.equal(phashFromGray(g, 64, 64), h);
});

test('hammingHex counts differing bits', () => {
  assert.equal(hammingHex('0000000000000000', '0000000000000000'), 0);
  assert.equal(hammingHex('0000000000000000', 'ffffffffffffffff'), 64);
  assert.equal(hammingHex('8000000000000001', '0000000000000000'), 2);
  assert.equal(hammingHex('fda4f203d259406f', 'FDA4F203D259406E'), 1);
  assert.throws(() => hammingHex('ab', 'abc'), AgeGenderError);
  assert.throws(() => hammingHex('zz', 'ab'), AgeGenderError);
});
