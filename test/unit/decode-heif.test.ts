// HEIF-family photos: HEIC (iPhone camera default, decoded by libheif in WebAssembly) and AVIF (sharp).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import { AgeGenderError } from '../../src/core/errors.js';
import { decodeFailure, decodeImage, readImageHeader, sniffImageType } from '../../src/io/decode.js';
import { decodeHeicHere, heicSizeHere, heicThreads, setHeicIdleClose, setLibheifLoader } from '../../src/io/heic.js';

const PHOTOS = new URL('../fixtures/photos/', import.meta.url);
const jpegBytes = await readFile(new URL('three-faces.jpg', PHOTOS));
// `heif-enc -q 50` of three-faces.jpg (make-photos.ts): 1000×700, HEVC-coded, brands heic/mif1.
const heicBytes = await readFile(new URL('three-faces.heic', PHOTOS));

/** Mean absolute difference per channel value. */
function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

function ftyp(major: string, ...compatible: string[]): Buffer {
  const brands = [major, '\0\0\0\0', ...compatible].join('');
  const box = Buffer.alloc(8 + brands.length + 16);
  box.writeUInt32BE(8 + brands.length, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(brands, 8, 'latin1');
  return box;
}

async function rejectsInvalid(promise: Promise<unknown>, subject: string, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AgeGenderError, String(error));
    assert.equal(error.code, 'INVALID_IMAGE');
    assert.equal(error.subject, subject);
    assert.match(error.message, reason);
    return true;
  });
}

test('sniffImageType tells HEIC and AVIF apart by their ftyp brands, and rejects other ISO-BMFF files', async () => {
  assert.equal(sniffImageType(heicBytes), 'heic');
  assert.equal(sniffImageType(await sharp(jpegBytes).avif({ quality: 50 }).toBuffer()), 'avif');
  assert.equal(sniffImageType(ftyp('heic', 'mif1', 'heic')), 'heic');
  assert.equal(sniffImageType(ftyp('mif1', 'heix')), 'heic', 'generic HEIF major brand');
  assert.equal(sniffImageType(ftyp('mif1', 'avif', 'miaf')), 'avif', 'an AV1 brand makes it AVIF');
  assert.equal(sniffImageType(ftyp('isom', 'iso2', 'mp41')), null, 'an MP4 video is not an image');
  assert.equal(sniffImageType(ftyp('qt  ')), null);
});

test('HEIC: the header gives the size before any pixel is decoded', async () => {
  assert.deepEqual(await readImageHeader(heicBytes, 'three.heic'), { format: 'heic', width: 1000, height: 700, channels: 3 });
});

test('HEIC decodes to the same picture as the JPEG it was made from (within compression error)', async () => {
  const jpeg = await decodeImage(jpegBytes, 'three.jpg');
  const heic = await decodeImage(heicBytes, 'three.heic');
  assert.deepEqual([heic.width, heic.height, heic.channels], [1000, 700, 3]);
  // Measured 1.90 (quality 50); a wrong channel order, a transposed or a blank image gives > 20.
  const diff = meanAbsDiff(jpeg.data, heic.data);
  assert.ok(diff < 4, `mean |HEIC − JPEG| ${diff.toFixed(2)}`);
  const small = await decodeImage(heicBytes, 'three.heic', { maxSide: 500 });
  assert.deepEqual([small.width, small.height], [500, 350]);
});

test('HEIC stored turned with an `irot` property (an iPhone portrait photo) comes back upright, in the header too', async () => {
  // three-faces.jpg turned 90° clockwise in its pixels, with irot = 1 (show it turned back).
  const irot = await readFile(new URL('three-faces-irot.heic', PHOTOS));
  assert.deepEqual(await readImageHeader(irot, 'portrait.heic'), { format: 'heic', width: 1000, height: 700, channels: 3 });
  const jpeg = await decodeImage(jpegBytes, 'three.jpg');
  const upright = await decodeImage(irot, 'portrait.heic');
  assert.deepEqual([upright.width, upright.height], [1000, 700]);
  const diff = meanAbsDiff(jpeg.data, upright.data);
  assert.ok(diff < 4, `mean |HEIC (irot) − JPEG| ${diff.toFixed(2)}`);
});

test('AVIF stored turned with `irot` comes back upright too (sharp applies it)', async () => {
  const irot = await readFile(new URL('three-faces-irot.avif', PHOTOS));
  assert.equal(sniffImageType(irot), 'avif');
  assert.deepEqual(await readImageHeader(irot, 'portrait.avif'), { format: 'avif', width: 1000, height: 700, channels: 3 });
  const upright = await decodeImage(irot, 'portrait.avif');
  const diff = meanAbsDiff((await decodeImage(jpegBytes, 'three.jpg')).data, upright.data);
  assert.ok(diff < 4, `mean |AVIF (irot) − JPEG| ${diff.toFixed(2)}`);
});

test('a HEIF holding several photos: the one marked primary is taken (header and pixels), not the first', async () => {
  // no-face.jpg (900×600, item 1) then three-faces.jpg (1000×700, item 2, primary)
  const two = await readFile(new URL('two-photos-second-primary.heic', PHOTOS));
  assert.deepEqual(await readImageHeader(two, 'two.heic'), { format: 'heic', width: 1000, height: 700, channels: 3 });
  const img = await decodeImage(two, 'two.heic');
  const diff = meanAbsDiff((await decodeImage(jpegBytes, 'three.jpg')).data, img.data);
  assert.ok(diff < 4, `mean |primary − three-faces.jpg| ${diff.toFixed(2)}`);
});

test('AVIF decodes (through sharp) to the same picture as its source', async () => {
  const jpeg = await decodeImage(jpegBytes, 'three.jpg');
  const avif = await decodeImage(await sharp(jpegBytes).avif({ quality: 50 }).toBuffer(), 'three.avif');
  assert.deepEqual([avif.width, avif.height, avif.channels], [1000, 700, 3]);
  const diff = meanAbsDiff(jpeg.data, avif.data);
  assert.ok(diff < 4, `mean |AVIF − JPEG| ${diff.toFixed(2)}`);
});

test('HEIC over maxPixels → IMAGE_TOO_LARGE from the header', async () => {
  await assert.rejects(decodeImage(heicBytes, 'three.heic', { maxPixels: 100_000 }), (error: unknown) => {
    assert.ok(error instanceof AgeGenderError);
    assert.equal(error.code, 'IMAGE_TOO_LARGE');
    assert.equal(error.message, 'three.heic: image is 1000×700 pixels (0.7 MP), over the 0.1 MP limit');
    return true;
  });
});

test('a truncated or corrupt HEIC → INVALID_IMAGE naming the file and libheif\'s reason, nothing printed', async () => {
  const printed: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]): void => void printed.push(args);
  try {
    const cut = heicBytes.subarray(0, heicBytes.length >> 1);
    await rejectsInvalid(decodeImage(cut, 'cut.heic'), 'cut.heic', /^cut\.heic: corrupt or truncated HEIC: .*end of file/i);
    const noImage = ftyp('heic', 'mif1', 'heic');
    await rejectsInvalid(decodeImage(noImage, 'stub.heic'), 'stub.heic', /^stub\.heic: corrupt or truncated HEIC: /);
    // Decodes after a failure still work, and several at once are served one after the other.
    const sizes = await Promise.all([decodeImage(heicBytes, 'a.heic'), decodeImage(cut, 'b.heic').catch(() => null), decodeImage(heicBytes, 'c.heic')]);
    assert.deepEqual(sizes.map((s) => s?.width ?? null), [1000, null, 1000]);
  } finally {
    console.log = log;
  }
  assert.deepEqual(printed, [], 'libheif\'s failure message is the error, not output');
});

test('HEIC threads start on the first HEIC, end after an idle period (freeing their memory), and start again', async () => {
  setHeicIdleClose(300);
  try {
    await decodeImage(heicBytes, 'a.heic');
    assert.ok(heicThreads() >= 1, 'decoded off the main thread');
    await delay(1000);
    assert.equal(heicThreads(), 0, 'ended after 300 ms without work');
    assert.equal((await decodeImage(heicBytes, 'c.heic')).width, 1000);
    assert.ok(heicThreads() >= 1, 'started again');
  } finally {
    setHeicIdleClose(30_000);
  }
});

test('a libheif-js that cannot be loaded (a broken install) is named as such, not as a corrupt file; the next call tries again', async () => {
  const heic = await readFile(new URL('three-faces.heic', PHOTOS));
  setLibheifLoader(() => Promise.reject(new Error("Cannot find module 'libheif-js/wasm-bundle.js'")));
  try {
    for (const call of [() => heicSizeHere(heic), () => decodeHeicHere(heic)]) {
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof Error && !(e instanceof AgeGenderError), String(e));
        assert.match(e.message, /^the HEIC decoder \(libheif-js\) cannot be loaded: Cannot find module 'libheif-js\/wasm-bundle\.js' \(reinstall the package's dependencies: npm ci\)$/);
        // as the decoder passes it on: not INVALID_IMAGE ("corrupt or truncated HEIC")
        assert.equal(decodeFailure(e, 'heic', 'IMG_0001.HEIC'), e);
        return true;
      });
    }
  } finally {
    setLibheifLoader(null);
  }
  assert.deepEqual(await heicSizeHere(heic), { width: 1000, height: 700 }, 'loaded again once the loader works');
  // any other decoder failure stays INVALID_IMAGE naming the file
  const other = decodeFailure(new Error('Invalid input: Unexpected end of file'), 'heic', 'cut.heic');
  assert.ok(other instanceof AgeGenderError && other.code === 'INVALID_IMAGE' && other.message === 'cut.heic: corrupt or truncated HEIC: Invalid input: Unexpected end of file', other.message);
});
