import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { AgeGenderError } from '../../src/core/errors.js';
import { decodeForHash, decodeImage, decodeImageWithHeader, firstFrameNote, loadImageInput, readImageHeader, sniffImageType } from '../../src/io/decode.js';

const DATA_DIR = process.env.AGEGENDER_UTKFACE_DIR ?? path.resolve(process.cwd(), '../shared/datasets/utkface');
const CHIP = 'UTKFace/100_0_0_20170112213500903.jpg.chip.jpg';

function realChip(): Buffer {
  const file = path.join(DATA_DIR, CHIP);
  if (!existsSync(file)) {
    assert.fail(`UTKFace data not found: ${file} is missing (set AGEGENDER_UTKFACE_DIR to the folder holding UTKFace/)`);
  }
  return readFileSync(file);
}

/** Asserts the promise rejects with an AgeGenderError of `code` whose message names `subject` and matches `reason`. */
async function rejectsWith(promise: Promise<unknown>, code: string, subject: string, reason: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AgeGenderError, `expected AgeGenderError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.subject, subject);
    assert.ok(error.message.startsWith(`${subject}: `), error.message);
    if (typeof reason === 'string') assert.equal(error.message, `${subject}: ${reason}`);
    else assert.match(error.message, reason);
    return true;
  });
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A PNG whose IHDR (with a valid CRC) claims width × height; no pixel data follows. */
function hugePngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, pngChunk('IHDR', ihdr), pngChunk('IEND', new Uint8Array(0))]);
}

/** A real JPEG with its SOF0 frame header patched to claim width × height. */
function hugeJpeg(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  let i = 2;
  while (i + 9 < out.length) {
    assert.equal(out[i], 0xff, 'JPEG marker expected');
    const marker = out[i + 1]!;
    const len = out.readUInt16BE(i + 2);
    if (marker === 0xc0 || marker === 0xc2) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + len;
  }
  throw new Error('no SOF marker found');
}

test('sniffImageType recognises the formats by magic bytes', async () => {
  assert.equal(sniffImageType(realChip()), 'jpeg');
  assert.equal(sniffImageType(hugePngHeader(1, 1)), 'png');
  assert.equal(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1')), 'webp');
  assert.equal(sniffImageType(Buffer.from('GIF89a', 'latin1')), 'gif');
  assert.equal(sniffImageType(Buffer.from([0x49, 0x49, 0x2a, 0x00])), 'tiff');
  assert.equal(sniffImageType(Buffer.from([0x4d, 0x4d, 0x00, 0x2a])), 'tiff');
  assert.equal(sniffImageType(Buffer.from('hello')), null);
  assert.equal(sniffImageType(new Uint8Array(0)), null);
  const webp = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#808080' } }).webp().toBuffer();
  assert.equal(sniffImageType(webp), 'webp');
});

test('readImageHeader gives format, size and channels', async () => {
  assert.deepEqual(await readImageHeader(realChip(), CHIP), { format: 'jpeg', width: 200, height: 200, channels: 3 });
  assert.deepEqual(await readImageHeader(hugePngHeader(30000, 30000), 'huge.png'), {
    format: 'png',
    width: 30000,
    height: 30000,
    channels: 3,
  });
});

test('a real chip decodes to 200×200 RGB', async () => {
  const img = await decodeImage(realChip(), CHIP, { expect: 'jpeg' });
  assert.equal(img.width, 200);
  assert.equal(img.height, 200);
  assert.equal(img.channels, 3);
  assert.equal(img.data.length, 200 * 200 * 3);
});

test('zero-byte file → INVALID_IMAGE', async () => {
  await rejectsWith(decodeImage(new Uint8Array(0), 'empty.jpg'), 'INVALID_IMAGE', 'empty.jpg', 'file is empty (0 bytes)');
  await rejectsWith(decodeForHash(Buffer.alloc(0), 'empty.jpg'), 'INVALID_IMAGE', 'empty.jpg', 'file is empty (0 bytes)');
});

test('decoder reasons are short and human: a truncated AVIF or JPEG gives its first clause, no seek trace or code', async () => {
  const photo = readFileSync(new URL('../fixtures/photos/three-faces.jpg', import.meta.url));
  const avif = await sharp(photo).avif().toBuffer();
  await rejectsWith(decodeImage(avif.subarray(0, avif.length >> 1), 'cut.avif'), 'INVALID_IMAGE', 'cut.avif', 'corrupt or truncated AVIF: Invalid input: Unexpected end of file');
  await rejectsWith(decodeImage(photo.subarray(0, photo.length >> 1), 'cut.jpg'), 'INVALID_IMAGE', 'cut.jpg', 'corrupt or truncated JPEG: premature end of JPEG image');
});

test('decoder reasons of a truncated GIF, WebP or TIFF carry no loader name ("gifload_buffer: ", "webp: ", "tiff2vips: ")', async () => {
  const chip = sharp(realChip());
  const cut = async (bytes: Buffer): Promise<Buffer> => bytes.subarray(0, bytes.length >> 1);
  // a GIF or WebP cut off is told from its own structure: the reason says what is cut
  const gif = await cut(await chip.clone().gif().toBuffer());
  await rejectsWith(decodeImage(gif, 'cut.gif'), 'INVALID_IMAGE', 'cut.gif', 'corrupt or truncated GIF: the file is cut off inside its first frame');
  const webp = await chip.clone().webp().toBuffer();
  await rejectsWith(decodeImage(await cut(webp), 'cut.webp'), 'INVALID_IMAGE', 'cut.webp', `corrupt or truncated WebP: the file is cut off (${webp.length >> 1} of the ${webp.length} bytes its header gives)`);
  const tiff = await chip.clone().tiff({ compression: 'lzw' }).toBuffer();
  await rejectsWith(decodeImage(tiff.subarray(0, 64), 'stub.tiff'), 'INVALID_IMAGE', 'stub.tiff', 'corrupt or truncated TIFF: the file is cut off inside its first page');
  const pages = await sharp(Buffer.concat([await chip.clone().raw().toBuffer(), await chip.clone().raw().toBuffer()]), {
    raw: { width: 200, height: 400, channels: 3, pageHeight: 200 },
  }).tiff({ compression: 'lzw' }).toBuffer();
  await rejectsWith(decodeImage(pages.subarray(0, Math.floor(pages.length * 0.3)), 'cut.tiff'), 'INVALID_IMAGE', 'cut.tiff', 'corrupt or truncated TIFF: the file is cut off inside its first page');
  // corrupt, not cut: the decoder's reason, without the loader's name
  const garbled = Buffer.from(pages);
  garbled.fill(0xff, 2000, 2600);
  await rejectsWith(decodeImage(garbled, 'garbled.tiff'), 'INVALID_IMAGE', 'garbled.tiff', /^garbled\.tiff: corrupt or truncated TIFF: (?!.*(tiff2vips|source input|bad seek|\n)).+$/);
});

test('broken files of several formats decoded at once each get their own reason (libvips has one error buffer for the process)', async () => {
  const chip = sharp(realChip());
  const half = (bytes: Buffer): Buffer => bytes.subarray(0, bytes.length >> 1);
  const webp = await chip.clone().webp().toBuffer();
  const cut: Array<[string, Buffer, string]> = [
    ['cut.jpg', half(realChip()), 'corrupt or truncated JPEG: premature end of JPEG image'],
    ['cut.png', half(await chip.clone().png().toBuffer()), 'corrupt or truncated PNG: libpng read error'],
    ['cut.gif', half(await chip.clone().gif().toBuffer()), 'corrupt or truncated GIF: the file is cut off inside its first frame'],
    ['cut.webp', webp.subarray(0, webp.length >> 1), `corrupt or truncated WebP: the file is cut off (${webp.length >> 1} of the ${webp.length} bytes its header gives)`],
  ];
  // each alone first: the reason it gives
  for (const [name, bytes, reason] of cut) await rejectsWith(decodeImage(bytes, name), 'INVALID_IMAGE', name, reason);
  const many = Array.from({ length: 6 }, () => cut).flat();
  const messages = await Promise.all(many.map(([name, bytes]) => decodeImage(bytes, name).then(() => 'decoded', (e: unknown) => (e as Error).message)));
  assert.deepEqual(messages, many.map(([name, , reason]) => `${name}: ${reason}`));
});

test('truncated JPEG (a real chip cut in half) → INVALID_IMAGE with the decoder reason', async () => {
  const chip = realChip();
  const half = chip.subarray(0, chip.length >> 1);
  await rejectsWith(decodeImage(half, 'half.jpg'), 'INVALID_IMAGE', 'half.jpg', /^half\.jpg: corrupt or truncated JPEG: .*premature end/i);
  await rejectsWith(decodeForHash(half, 'half.jpg'), 'INVALID_IMAGE', 'half.jpg', /^half\.jpg: corrupt or truncated JPEG: /);
  // Cut inside the header: the header read itself fails.
  await rejectsWith(readImageHeader(chip.subarray(0, 100), 'stub.jpg'), 'INVALID_IMAGE', 'stub.jpg', /^stub\.jpg: corrupt or truncated JPEG: /);
});

test('PNG bytes where a JPEG is expected → INVALID_IMAGE "content is PNG, not JPEG"', async () => {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } }).png().toBuffer();
  await rejectsWith(decodeImage(png, 'photo.jpg', { expect: 'jpeg' }), 'INVALID_IMAGE', 'photo.jpg', 'content is PNG, not JPEG');
  // Without `expect` the PNG decodes.
  assert.equal((await decodeImage(png, 'photo.jpg')).channels, 3);
});

test('text file → INVALID_IMAGE "not an image"', async () => {
  await rejectsWith(
    decodeImage(Buffer.from('age,gender\n25,0\n'), 'labels.csv'),
    'INVALID_IMAGE',
    'labels.csv',
    'not an image: content is not JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC',
  );
});

test('header claiming 30000×30000 → IMAGE_TOO_LARGE before decoding', async () => {
  const reason = 'image is 30000×30000 pixels (900.0 MP), over the 50.0 MP limit';
  // The PNG holds no pixel data at all: only a header check can produce IMAGE_TOO_LARGE.
  await rejectsWith(decodeImage(hugePngHeader(30000, 30000), 'huge.png'), 'IMAGE_TOO_LARGE', 'huge.png', reason);
  const jpeg = hugeJpeg(realChip(), 30000, 30000);
  await rejectsWith(decodeImage(jpeg, 'huge.jpg', { expect: 'jpeg' }), 'IMAGE_TOO_LARGE', 'huge.jpg', reason);
  await rejectsWith(decodeForHash(jpeg, 'huge.jpg'), 'IMAGE_TOO_LARGE', 'huge.jpg', reason);
  // A smaller limit applies to ordinary images too.
  await rejectsWith(
    decodeImage(realChip(), 'chip.jpg', { maxPixels: 10_000 }),
    'IMAGE_TOO_LARGE',
    'chip.jpg',
    'image is 200×200 pixels (0.04 MP), over the 0.01 MP limit',
  );
  await rejectsWith(decodeImage(realChip(), 'chip.jpg', { maxPixels: -1 }), 'INVALID_ARGUMENT', 'chip.jpg', /maxPixels/);
});

test('decoding shrunk (maxSide): a JPEG, PNG, WebP or TIFF may have up to 250 MP by default', async () => {
  // A 200 MP PNG header (no pixel data): over 50 MP in full, past the size check when shrunk (then the missing data fails).
  const big = hugePngHeader(20000, 10000);
  await rejectsWith(decodeImage(big, 'big.png'), 'IMAGE_TOO_LARGE', 'big.png', 'image is 20000×10000 pixels (200.0 MP), over the 50.0 MP limit');
  await rejectsWith(decodeImage(big, 'big.png', { maxSide: 4096 }), 'INVALID_IMAGE', 'big.png', /^big\.png: corrupt or truncated PNG: /);
  await rejectsWith(decodeImage(hugePngHeader(30000, 30000), 'huge.png', { maxSide: 4096 }), 'IMAGE_TOO_LARGE', 'huge.png', 'image is 30000×30000 pixels (900.0 MP), over the 250.0 MP limit');
  // An explicit limit still holds.
  await rejectsWith(decodeImage(big, 'big.png', { maxSide: 4096, maxPixels: 40_000_000 }), 'IMAGE_TOO_LARGE', 'big.png', 'image is 20000×10000 pixels (200.0 MP), over the 40.0 MP limit');
});

test('decodeImageWithHeader gives the file\'s own upright size beside the shrunk pixels; a header passed in is used, not read again', async () => {
  // 600×300 stored, EXIF 6 (shown turned: 300×600), shrunk to 200 on its longer side.
  const stored = await sharp(realChip()).resize(600, 300, { fit: 'fill' }).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  const { image, header } = await decodeImageWithHeader(stored, 'turned.jpg', { maxSide: 200 });
  assert.deepEqual([image.width, image.height], [100, 200]);
  assert.deepEqual(header, await readImageHeader(stored, 'turned.jpg'));
  assert.deepEqual([header.width, header.height, header.format], [300, 600, 'jpeg']);
  // The size check runs on the header given: a header saying 30000×30000 refuses the (small) image without reading its own.
  const claimed = { ...header, width: 30000, height: 30000 };
  await rejectsWith(decodeImage(stored, 'turned.jpg', { header: claimed }), 'IMAGE_TOO_LARGE', 'turned.jpg', 'image is 30000×30000 pixels (900.0 MP), over the 50.0 MP limit');
});

test('grayscale JPEG → 3 equal channels; decodeForHash keeps the decoded L', async () => {
  const gray = await sharp(realChip()).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer();
  assert.equal((await readImageHeader(gray, 'gray.jpg')).channels, 1);
  const rgb = await decodeImage(gray, 'gray.jpg');
  assert.equal(rgb.channels, 3);
  assert.equal(rgb.data.length, 200 * 200 * 3);
  const l = await decodeForHash(gray, 'gray.jpg');
  assert.equal(l.data.length, 200 * 200);
  const { data: raw, info } = await sharp(gray).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 1);
  for (let i = 0; i < 200 * 200; i++) {
    assert.equal(rgb.data[i * 3], raw[i]);
    assert.equal(rgb.data[i * 3 + 1], raw[i]);
    assert.equal(rgb.data[i * 3 + 2], raw[i]);
    assert.equal(l.data[i], raw[i]);
  }
});

test('PNG with alpha is flattened onto mid-grey; decodeForHash ignores alpha', async () => {
  // 3×1: opaque red, fully transparent blue, half-transparent white.
  const rgba = Buffer.from([255, 0, 0, 255, 0, 0, 255, 0, 255, 255, 255, 128]);
  const png = await sharp(rgba, { raw: { width: 3, height: 1, channels: 4 } }).png().toBuffer();
  assert.equal((await readImageHeader(png, 'a.png')).channels, 4);
  const img = await decodeImage(png, 'a.png');
  assert.equal(img.channels, 3);
  // (255·128 + 128·127) / 255 = 191.75 → 192
  assert.deepEqual([...img.data], [255, 0, 0, 128, 128, 128, 192, 192, 192]);
  const l = await decodeForHash(png, 'a.png');
  // Pillow convert('L') from RGBA uses RGB only: red → 76, blue → 29, white → 255.
  assert.deepEqual([...l.data], [76, 29, 255]);
});

test('EXIF orientation: decodeImage returns the upright image, decodeForHash the stored pixels', async () => {
  // 3×2 stored pixels tagged 6 (viewer rotates 90° clockwise): upright it is 2×3.
  const stored = Buffer.from([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180]);
  const webp = await sharp(stored, { raw: { width: 3, height: 2, channels: 3 } }).webp({ lossless: true }).withMetadata({ orientation: 6 }).toBuffer();
  const header = await readImageHeader(webp, 'side.webp');
  assert.deepEqual([header.width, header.height], [2, 3], 'the header reports the upright size too');
  const img = await decodeImage(webp, 'side.webp');
  assert.deepEqual([img.width, img.height], [2, 3]);
  // rotated clockwise: the upright first row is (stored bottom-left, stored top-left)
  assert.deepEqual([...img.data.subarray(0, 6)], [100, 110, 120, 10, 20, 30]);
  const gray = await decodeForHash(webp, 'side.webp');
  assert.deepEqual([gray.width, gray.height], [3, 2]);
  assert.equal(gray.data[0], (10 * 19595 + 20 * 38470 + 30 * 7471 + 0x8000) >> 16);
});

test('loadImageInput: path, bytes, raw pixels', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agegender-decode-'));
  try {
    const file = path.join(dir, 'chip.jpg');
    writeFileSync(file, realChip());
    const fromPath = await loadImageInput(file);
    assert.equal(fromPath.channels, 3);
    assert.equal(fromPath.width, 200);
    const fromBytes = await loadImageInput(new Uint8Array(realChip()), 'x.jpg');
    assert.deepEqual(fromBytes.data, fromPath.data);

    const missing = path.join(dir, 'missing.jpg');
    await rejectsWith(loadImageInput(missing), 'UNREADABLE_FILE', missing, 'cannot read file: no such file');
    await rejectsWith(loadImageInput(dir), 'UNREADABLE_FILE', dir, 'cannot read file: is a directory, not a file');
    const emptyFile = path.join(dir, 'empty.jpg');
    writeFileSync(emptyFile, '');
    await rejectsWith(loadImageInput(emptyFile), 'INVALID_IMAGE', emptyFile, 'file is empty (0 bytes)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const rgb = { data: new Uint8Array([1, 2, 3, 4, 5, 6]), width: 2, height: 1, channels: 3 as const };
  assert.equal(await loadImageInput(rgb), rgb);
  const gray = await loadImageInput({ data: new Uint8Array([7, 9]), width: 2, height: 1, channels: 1 });
  assert.deepEqual([...gray.data], [7, 7, 7, 9, 9, 9]);
  const rgba = await loadImageInput({ data: new Uint8Array([10, 20, 30, 255, 0, 0, 0, 0]), width: 2, height: 1, channels: 4 });
  assert.deepEqual([...rgba.data], [10, 20, 30, 128, 128, 128]);
  await rejectsWith(
    loadImageInput({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 }, 'pixels'),
    'INVALID_ARGUMENT',
    'pixels',
    'raw image data has 5 bytes, expected 2×1×3 = 6',
  );
});

/** Mean absolute difference of two equal-sized RGB images. */
function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

test('animated GIF and WebP, multi-page TIFF: the first frame or page is decoded, at one frame\'s size', async () => {
  const chip = await sharp(realChip()).raw().toBuffer();
  const noise = Buffer.alloc(chip.length);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const frames = (first: Buffer, second: Buffer): Sharp =>
    sharp(Buffer.concat([first, second]), { raw: { width: 200, height: 400, channels: 3, pageHeight: 200 } });
  const plain = await decodeImage(await sharp(chip, { raw: { width: 200, height: 200, channels: 3 } }).png().toBuffer(), 'plain.png');
  const encoders: Array<[string, (s: Sharp) => Sharp]> = [
    ['anim.gif', (s) => s.gif({ delay: [100, 100], loop: 0 })],
    ['anim.webp', (s) => s.webp({ lossless: true, delay: [100, 100], loop: 0 })],
    ['pages.tiff', (s) => s.tiff({ compression: 'lzw' })],
  ];
  for (const [name, encode] of encoders) {
    const faceFirst = await encode(frames(chip, noise)).toBuffer();
    const header = await readImageHeader(faceFirst, name);
    assert.deepEqual([header.width, header.height], [200, 200], name);
    assert.equal(header.pages, 2, `${name}: the header counts the frames`);
    assert.equal(firstFrameNote(header), name === 'pages.tiff' ? 'the TIFF holds 2 pages: only the first was analysed' : `the ${name === 'anim.gif' ? 'GIF' : 'WebP'} holds 2 frames: only the first was analysed`);
    const img = await decodeImage(faceFirst, name);
    assert.deepEqual([img.width, img.height], [200, 200], name);
    assert.ok(meanAbsDiff(img.data, plain.data) < 3, `${name}: the first frame is the chip`);
    const faceSecond = await decodeImage(await encode(frames(noise, chip)).toBuffer(), name);
    assert.ok(meanAbsDiff(faceSecond.data, plain.data) > 30, `${name}: the second frame is not looked at`);
    // one frame: no page count, no note
    const single = await readImageHeader(await encode(sharp(chip, { raw: { width: 200, height: 200, channels: 3 } })).toBuffer(), name);
    assert.equal(single.pages, undefined, name);
    assert.equal(firstFrameNote(single), null, name);
  }
});

test('a multi-frame file cut off after its first frame or page (an interrupted download): the first is read, and the note says the file is cut off; cut in the first, the error says so', async () => {
  const chip = await sharp(readFileSync(new URL('../fixtures/photos/chip-35-male.jpg', import.meta.url))).resize(64, 64).raw().toBuffer();
  const noise = Buffer.alloc(chip.length);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const three = (): Sharp => sharp(Buffer.concat([chip, noise, noise]), { raw: { width: 64, height: 192, channels: 3, pageHeight: 64 } });
  const one = (): Sharp => sharp(chip, { raw: { width: 64, height: 64, channels: 3 } });
  const encoders: Array<[string, string, string, (s: Sharp) => Sharp]> = [
    ['pages.tiff', 'TIFF', 'page', (s) => s.tiff({ compression: 'lzw' })],
    ['tiles.tiff', 'TIFF', 'page', (s) => s.tiff({ compression: 'jpeg', tile: true, tileWidth: 16, tileHeight: 16 })],
    ['anim.gif', 'GIF', 'frame', (s) => s.gif({ delay: [100, 100, 100] })],
  ];
  for (const [name, format, unit, encode] of encoders) {
    const whole = await encode(three()).toBuffer();
    const first = (await decodeImage(whole, name)).data;
    const firstLength = (await encode(one()).toBuffer()).length; // about where the first frame or page ends
    const note = `the ${format} is cut off (a truncated file): only its first ${unit}, which is whole, was analysed`;
    for (const at of [firstLength + 200, whole.length - 10]) {
      const cut = whole.subarray(0, at);
      const before = Buffer.from(cut);
      const { image, header } = await decodeImageWithHeader(cut, name);
      assert.deepEqual([image.width, image.height], [64, 64], `${name} cut at ${at}`);
      assert.ok(meanAbsDiff(image.data, first) < 1, `${name} cut at ${at}: the first ${unit}`);
      assert.equal(header.cutOff, true, `${name} cut at ${at}`);
      assert.equal(firstFrameNote(header), note);
      assert.equal((await readImageHeader(cut, name)).cutOff, true, `${name}: the header alone tells`);
      assert.equal((await decodeForHash(cut, name)).width, 64, `${name}: hashed too`);
      assert.deepEqual(cut, before, `${name}: the input is not modified`);
    }
    assert.equal((await readImageHeader(whole, name)).cutOff, undefined, `${name} whole`);
    await rejectsWith(decodeImage(whole.subarray(0, firstLength >> 2), name), 'INVALID_IMAGE', name, `corrupt or truncated ${format}: the file is cut off inside its first ${unit}`);
  }
  // a TIFF whose first page is garbled and whose last is cut: still refused (the first page is read as strictly as ever)
  const tiff = await three().tiff({ compression: 'lzw' }).toBuffer();
  const garbled = Buffer.from(tiff.subarray(0, tiff.length - 10));
  garbled.fill(0xff, 1000, 1600);
  await rejectsWith(decodeImage(garbled, 'garbled.tiff'), 'INVALID_IMAGE', 'garbled.tiff', /^garbled\.tiff: corrupt or truncated TIFF: /);
  // libwebp reads an animated WebP only whole: the error says what is wrong
  const webp = await three().webp({ lossless: true, delay: [100, 100, 100] }).toBuffer();
  await rejectsWith(
    decodeImage(webp.subarray(0, webp.length - 10), 'anim.webp'),
    'INVALID_IMAGE',
    'anim.webp',
    `corrupt or truncated WebP: the file is cut off (${webp.length - 10} of the ${webp.length} bytes its header gives): libwebp reads an animation only whole, so not even its first frame can be read`,
  );
});

test('an animated PNG (acTL chunk) is counted from its chunks, since libvips reads its default image only; a still PNG has no count', async () => {
  const still = await sharp(realChip()).png().toBuffer();
  // the still PNG's chunks, with acTL (3 frames) after IHDR: an APNG as an encoder lays it out
  const ihdrEnd = 8 + 12 + still.readUInt32BE(8);
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(3, 0);
  const apng = Buffer.concat([still.subarray(0, ihdrEnd), pngChunk('acTL', actl), still.subarray(ihdrEnd)]);
  const header = await readImageHeader(apng, 'anim.png');
  assert.equal(header.pages, 3);
  assert.equal(firstFrameNote(header), 'the PNG holds 3 frames: only the first was analysed');
  assert.deepEqual((await decodeImage(apng, 'anim.png')).data, (await decodeImage(still, 'still.png')).data, 'the default image is decoded');
  assert.equal((await readImageHeader(still, 'still.png')).pages, undefined);
});

test('BMP and SVG are refused as not an image (an SVG is never rasterised, so nothing it links to is fetched)', async () => {
  const bmp = Buffer.alloc(58);
  bmp.write('BM', 0);
  bmp.writeUInt32LE(58, 2);
  bmp.writeUInt32LE(54, 10);
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(1, 18);
  bmp.writeInt32LE(1, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(24, 28);
  const notImage = 'not an image: content is not JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC';
  await rejectsWith(decodeImage(bmp, 'x.bmp'), 'INVALID_IMAGE', 'x.bmp', notImage);
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="50" height="50"><image xlink:href="http://127.0.0.1:9/x.jpg" width="50" height="50"/></svg>');
  await rejectsWith(decodeImage(svg, 'x.svg'), 'INVALID_IMAGE', 'x.svg', notImage);
  await rejectsWith(readImageHeader(svg, 'x.svg'), 'INVALID_IMAGE', 'x.svg', notImage);
});

test('16-bit PNG, palette PNG, CMYK JPEG and a Display P3 JPEG decode to the 8-bit sRGB pixels', async () => {
  const chip = sharp(realChip());
  const plain = await decodeImage(await chip.clone().png().toBuffer(), 'plain.png');
  const png16 = await chip.clone().toColourspace('rgb16').png().toBuffer();
  assert.deepEqual((await decodeImage(png16, 'deep.png')).data, plain.data, '16-bit PNG');
  const palette = await chip.clone().png({ palette: true, colours: 256, dither: 0 }).toBuffer();
  assert.ok(meanAbsDiff((await decodeImage(palette, 'palette.png')).data, plain.data) < 3, 'palette PNG');
  // CMYK: the pixels sharp's own CMYK → sRGB conversion gives (that of a viewer), never the raw inks
  const cmykTiff = await chip.clone().toColourspace('cmyk').tiff({ compression: 'lzw' }).toBuffer();
  const cmyk = await decodeImage(cmykTiff, 'cmyk.tiff');
  assert.equal(cmyk.channels, 3);
  const viewer = await sharp(cmykTiff).toColourspace('srgb').raw().toBuffer();
  assert.deepEqual(Buffer.from(cmyk.data), viewer);
  const cmykJpeg = await decodeImage(await chip.clone().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(), 'cmyk.jpg');
  assert.ok(meanAbsDiff(cmykJpeg.data, cmyk.data) < 3, 'CMYK JPEG');
  // Display P3: converted back to sRGB (ignoring the profile would leave the P3 numbers, further off)
  const p3 = await chip.clone().withIccProfile('p3').jpeg({ quality: 95 }).toBuffer();
  const converted = meanAbsDiff((await decodeImage(p3, 'p3.jpg')).data, plain.data);
  const unconverted = meanAbsDiff(await sharp(p3, { ignoreIcc: true }).raw().toBuffer(), plain.data);
  assert.ok(converted < 1.5 && converted < unconverted / 2, `P3: ${converted} vs ${unconverted} without the profile`);
});

test('an EXIF orientation outside 1–8 (here 9) is ignored: the stored pixels, as viewers show them', async () => {
  const stored = Buffer.from([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180]);
  const jpeg = Buffer.from(await sharp(stored, { raw: { width: 3, height: 2, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg({ quality: 100 }).toBuffer());
  // the Orientation entry (tag 0x0112, type SHORT, count 1) in either byte order: its value 6 → 9
  let patched = 0;
  for (let i = 0; i + 10 < jpeg.length && patched === 0; i++) {
    if (jpeg[i] === 0x01 && jpeg[i + 1] === 0x12 && jpeg[i + 2] === 0 && jpeg[i + 3] === 3 && jpeg[i + 9] === 6) jpeg[(patched = i + 9)] = 9;
    else if (jpeg[i] === 0x12 && jpeg[i + 1] === 0x01 && jpeg[i + 2] === 3 && jpeg[i + 3] === 0 && jpeg[i + 8] === 6) jpeg[(patched = i + 8)] = 9;
  }
  assert.ok(patched > 0, 'the orientation tag was found');
  const header = await readImageHeader(jpeg, 'nine.jpg');
  assert.deepEqual([header.width, header.height], [3, 2]);
  const img = await decodeImage(jpeg, 'nine.jpg');
  assert.deepEqual([img.width, img.height], [3, 2]);
});
