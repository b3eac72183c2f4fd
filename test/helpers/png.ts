/**
 * Hand-built PNGs for limit tests: any size (up to what zlib holds in memory), one flat colour,
 * compressed so a 40-megapixel image is a few hundred KB, as a hostile upload would be.
 */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed) >>> 0);
  return Buffer.concat([len, typed, crc]);
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** An 8-bit RGB PNG of `width`×`height` pixels, every pixel `gray`. */
export function flatPng(width: number, height: number, gray = 0x80): Buffer {
  return rowsPng(width, height, () => gray);
}

/**
 * An 8-bit RGB PNG whose rows run from dark to light (each row one gray level): it has contrast
 * (so the quality gate does not refuse it as a flat image) and still compresses like a flat one.
 */
export function gradientPng(width: number, height: number): Buffer {
  return rowsPng(width, height, (y) => 30 + Math.round((y * 190) / Math.max(1, height - 1)));
}

function rowsPng(width: number, height: number, grayOfRow: (y: number) => number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = width * 3 + 1;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    raw.fill(grayOfRow(y), y * row + 1, (y + 1) * row);
    raw[y * row] = 0; // filter type: none
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', Buffer.alloc(0))]);
}
