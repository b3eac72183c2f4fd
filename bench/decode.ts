// npm run bench:decode — decoding for the photo path, format by format, on the same picture:
// milliseconds per decode (median of 5 after one warm-up) and the longest event-loop stall while
// decoding (what a server's other requests wait). JPEG, PNG, WebP and AVIF through sharp; HEIC
// through libheif in WebAssembly on its own worker thread. Sizes: the 1000×700 test photo and the
// same picture at 12 MP (4032×3024, an iPhone photo's size), each decoded at up to 2048 px as the
// server does. The HEIC files need `heif-enc` (Debian's libheif-examples) to be made here; without
// it the committed 1000×700 HEIC is used and the 12 MP HEIC row is left out.
//   npm run bench:decode
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { decodeImage } from 'agegender/io';
import { benchOptions } from './args.js';

benchOptions('bench:decode', 'Usage: npm run bench:decode   (no options; -h, --help: this text; heif-enc on PATH adds the 12 MP HEIC row)', process.argv.slice(2), () => parseArgs({ options: {} }));
const fixture = new URL('../test/fixtures/photos/', import.meta.url);
const dir = await mkdtemp(join(tmpdir(), 'agegender-bench-decode-'));

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Median ms per decode and the longest gap between 1-ms timer ticks during the decodes. */
async function measure(bytes: Buffer, name: string): Promise<{ ms: number; stall: number; size: string }> {
  const first = await decodeImage(bytes, name, { maxSide: 2048 });
  const times: number[] = [];
  let stall = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await decodeImage(bytes, name, { maxSide: 2048 });
    times.push(performance.now() - t);
  }
  clearInterval(tick);
  return { ms: median(times), stall, size: `${first.width}×${first.height}` };
}

function heifEnc(jpeg: string, out: string): boolean {
  try {
    execFileSync('heif-enc', ['-q', '50', '-o', out, jpeg], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

try {
  const source = await readFile(new URL('three-faces.jpg', fixture));
  console.log('| picture | format | bytes | decoded at | ms per decode (median of 5) | longest event-loop stall, ms |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, width, height] of [['1000×700 test photo', 1000, 700], ['12 MP (4032×3024)', 4032, 3024]] as const) {
    const base = sharp(source).resize(width, height, { fit: 'fill' });
    const jpegFile = join(dir, `${width}.jpg`);
    await base.clone().jpeg({ quality: 90 }).toFile(jpegFile);
    const files: Array<[string, Buffer]> = [
      ['JPEG q90', await readFile(jpegFile)],
      ['PNG', await base.clone().png().toBuffer()],
      ['WebP q80', await base.clone().webp({ quality: 80 }).toBuffer()],
      ['AVIF q50', await base.clone().avif({ quality: 50 }).toBuffer()],
    ];
    const heicFile = join(dir, `${width}.heic`);
    if (heifEnc(jpegFile, heicFile)) files.push(['HEIC q50', await readFile(heicFile)]);
    else if (width === 1000) files.push(['HEIC q50 (committed fixture)', await readFile(new URL('three-faces.heic', fixture))]);
    else console.log(`| ${label} | HEIC | | | heif-enc not found: left out | |`);
    for (const [format, bytes] of files) {
      const r = await measure(bytes, `${label} ${format}`);
      console.log(`| ${label} | ${format} | ${bytes.length.toLocaleString('en')} | ${r.size} | ${r.ms.toFixed(1)} | ${r.stall.toFixed(0)} |`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
