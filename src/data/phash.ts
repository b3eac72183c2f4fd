/**
 * Perceptual hash bit-compatible with Python's `imagehash.phash` (hash_size 8, highfreq_factor 4):
 *
 *   image.convert('L').resize((32, 32), Image.LANCZOS)  ->  scipy.fftpack.dct(dct(pixels, axis=0), axis=1)
 *   ->  top-left 8×8 block  ->  bit = coefficient > numpy.median(block)  ->  16 hex digits, row-major, MSB first.
 *
 * The grayscale conversion and the Lanczos resize reproduce Pillow's C code (Convert.c `rgb2l`,
 * Resample.c `precompute_coeffs` + `normalize_coeffs_8bpc` + the 8-bit horizontal/vertical passes)
 * with the same integer arithmetic, so the 32×32 image is identical to Pillow's, not merely close.
 */
import { AgeGenderError } from '../core/errors.js';
import { decodeForHash } from '../io/decode.js';

/** Pillow's fixed-point precision for 8-bit resampling: 32 - 8 - 2. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS; // 2^22
const HALF = 1 << (PRECISION_BITS - 1); // 2^21
const CLIP_LIMIT = ONE * 256; // Pillow: 1 << PRECISION_BITS << 8

/** Lanczos-3 window of Pillow (`lanczos_filter`): sinc(x)·sinc(x/3) on [-3, 3). */
function sinc(x: number): number {
  if (x === 0) return 1;
  const t = x * Math.PI;
  return Math.sin(t) / t;
}

function lanczos(x: number): number {
  if (-3 <= x && x < 3) return sinc(x) * sinc(x / 3);
  return 0;
}

/** Integer coefficients for one axis, as Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` make them. */
export interface ResampleCoeffs {
  /** Taps per output sample (the stride of `kk`). */
  ksize: number;
  /** For output i: first input index bounds[2i] and tap count bounds[2i+1]. */
  bounds: Int32Array;
  /** Fixed-point weights (×2^22), `ksize` per output sample. */
  kk: Int32Array;
}

const coeffCache = new Map<string, ResampleCoeffs>();

/** Pillow `precompute_coeffs(inSize, 0, inSize, outSize, &lanczos)` then `normalize_coeffs_8bpc`, cached. */
export function lanczosCoeffs(inSize: number, outSize: number): ResampleCoeffs {
  const key = `${inSize}>${outSize}`;
  const cached = coeffCache.get(key);
  if (cached) return cached;
  const support0 = 3; // lanczos support
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = support0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let ww = 0;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5); // C (int) cast truncates toward zero
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    pre.fill(0);
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      if (ww !== 0) pre[x] = pre[x]! / ww;
    }
    for (let x = 0; x < ksize; x++) {
      const w = pre[x]!;
      kk[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  const coeffs = { ksize, bounds, kk };
  coeffCache.set(key, coeffs);
  return coeffs;
}

/** Pillow `clip8`: values are (sum + 2^21) in 2^22 fixed point. */
function clip8(v: number): number {
  if (v >= CLIP_LIMIT) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

function assertGray(gray: Uint8Array, width: number, height: number, name: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new AgeGenderError('INVALID_ARGUMENT', `${name}: width and height must be positive integers (got ${width}×${height})`);
  }
  if (gray.length !== width * height) {
    throw new AgeGenderError(
      'INVALID_ARGUMENT',
      `${name}: expected ${width}×${height} = ${width * height} gray pixels, got ${gray.length} bytes`,
    );
  }
}

/**
 * Pillow `Image.resize((outWidth, outHeight), Image.LANCZOS)` on an 8-bit L image, bit for bit:
 * horizontal pass first (only over the rows the vertical pass reads), then vertical.
 */
export function pilResizeLanczos(gray: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  assertGray(gray, width, height, 'pilResizeLanczos');
  if (!Number.isInteger(outWidth) || !Number.isInteger(outHeight) || outWidth < 1 || outHeight < 1) {
    throw new AgeGenderError('INVALID_ARGUMENT', `pilResizeLanczos: output size must be positive integers (got ${outWidth}×${outHeight})`);
  }
  if (width === outWidth && height === outHeight) return gray.slice(); // Pillow returns a copy
  const needH = width !== outWidth;
  const needV = height !== outHeight;

  let src = gray;
  let srcWidth = width;
  // Vertical coefficients first: they decide which rows the horizontal pass must produce.
  const vert = needV ? lanczosCoeffs(height, outHeight) : null;
  let rowFirst = 0;
  let rowLast = height;
  if (vert) {
    rowFirst = vert.bounds[0]!;
    rowLast = vert.bounds[outHeight * 2 - 2]! + vert.bounds[outHeight * 2 - 1]!;
  }

  if (needH) {
    const { ksize, bounds, kk } = lanczosCoeffs(width, outWidth);
    const rows = rowLast - rowFirst;
    const tmp = new Uint8Array(rows * outWidth);
    for (let yy = 0; yy < rows; yy++) {
      const rowOff = (yy + rowFirst) * width;
      const outOff = yy * outWidth;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = bounds[xx * 2]!;
        const xmax = bounds[xx * 2 + 1]!;
        const kOff = xx * ksize;
        let ss = HALF;
        const base = rowOff + xmin;
        for (let x = 0; x < xmax; x++) ss += src[base + x]! * kk[kOff + x]!;
        tmp[outOff + xx] = clip8(ss);
      }
    }
    src = tmp;
    srcWidth = outWidth;
  } else {
    rowFirst = 0; // vertical pass reads the input directly
  }

  if (!vert) return src;
  const { ksize, bounds, kk } = vert;
  const out = new Uint8Array(outWidth * outHeight);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2]! - rowFirst;
    const ymax = bounds[yy * 2 + 1]!;
    const kOff = yy * ksize;
    const outOff = yy * outWidth;
    for (let xx = 0; xx < outWidth; xx++) {
      let ss = HALF;
      let p = ymin * srcWidth + xx;
      for (let y = 0; y < ymax; y++, p += srcWidth) ss += src[p]! * kk[kOff + y]!;
      out[outOff + xx] = clip8(ss);
    }
  }
  return out;
}

/**
 * Pillow `convert('L')` from 8-bit RGB (or RGBA/RGBX: the 4th byte is ignored, as Pillow does):
 * L = (19595·R + 38470·G + 7471·B + 0x8000) >> 16.
 */
export function rgbToPilL(data: Uint8Array, width: number, height: number, channels: 3 | 4 = 3): Uint8Array {
  const n = width * height;
  if (data.length !== n * channels) {
    throw new AgeGenderError(
      'INVALID_ARGUMENT',
      `rgbToPilL: expected ${width}×${height}×${channels} = ${n * channels} bytes, got ${data.length}`,
    );
  }
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += channels) {
    out[i] = (data[j]! * 19595 + data[j + 1]! * 38470 + data[j + 2]! * 7471 + 0x8000) >> 16;
  }
  return out;
}

const HASH_SIZE = 8;
const IMG_SIZE = 32;
/** cos(π k (2n+1) / 64) for k < 8, n < 32: the only DCT-II rows the 8×8 low block needs. */
const COS = (() => {
  const t = new Float64Array(HASH_SIZE * IMG_SIZE);
  for (let k = 0; k < HASH_SIZE; k++) {
    for (let n = 0; n < IMG_SIZE; n++) t[k * IMG_SIZE + n] = Math.cos((Math.PI * k * (2 * n + 1)) / (2 * IMG_SIZE));
  }
  return t;
})();

/**
 * The 8×8 low-frequency block of scipy.fftpack's unnormalised 2-D DCT-II of a 32×32 image
 * (dct along axis 0, then axis 1), row-major, float64.
 */
export function dctLowBlock(pixels32: ArrayLike<number>): Float64Array {
  if (pixels32.length !== IMG_SIZE * IMG_SIZE) {
    throw new AgeGenderError('INVALID_ARGUMENT', `dctLowBlock: expected 32×32 = 1024 values, got ${pixels32.length}`);
  }
  // Axis 0 (down columns): a[k][j] = 2 Σ_n x[n][j] cos(π k (2n+1) / 64), k < 8.
  const a = new Float64Array(HASH_SIZE * IMG_SIZE);
  for (let k = 0; k < HASH_SIZE; k++) {
    const cOff = k * IMG_SIZE;
    for (let j = 0; j < IMG_SIZE; j++) {
      let s = 0;
      for (let n = 0; n < IMG_SIZE; n++) s += pixels32[n * IMG_SIZE + j]! * COS[cOff + n]!;
      a[k * IMG_SIZE + j] = 2 * s;
    }
  }
  // Axis 1 (along rows): b[k][l] = 2 Σ_j a[k][j] cos(π l (2j+1) / 64), l < 8.
  const b = new Float64Array(HASH_SIZE * HASH_SIZE);
  for (let k = 0; k < HASH_SIZE; k++) {
    for (let l = 0; l < HASH_SIZE; l++) {
      let s = 0;
      const cOff = l * IMG_SIZE;
      for (let j = 0; j < IMG_SIZE; j++) s += a[k * IMG_SIZE + j]! * COS[cOff + j]!;
      b[k * HASH_SIZE + l] = 2 * s;
    }
  }
  return b;
}

/**
 * imagehash's bits from a block of coefficients: bit = value > numpy.median(values) (mean of the two
 * middle values for an even count), row-major, first value = most significant bit; hex zero-padded
 * to ceil(n/4) digits.
 */
export function bitsToHex(values: ArrayLike<number>): string {
  const n = values.length;
  if (n === 0 || n % 4 !== 0) throw new AgeGenderError('INVALID_ARGUMENT', `bitsToHex: need a multiple of 4 values, got ${n}`);
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  let hex = '';
  for (let i = 0; i < n; i += 4) {
    let nibble = 0;
    for (let b = 0; b < 4; b++) nibble = (nibble << 1) | (values[i + b]! > median ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
}

/** pHash (16 hex digits) of an 8-bit gray image of any size, as `imagehash.phash(img)` on a Pillow L image. */
export function phashFromGray(gray: Uint8Array, width: number, height: number): string {
  assertGray(gray, width, height, 'phashFromGray');
  const small = pilResizeLanczos(gray, width, height, IMG_SIZE, IMG_SIZE);
  return bitsToHex(dctLowBlock(small));
}

/** pHash of encoded image bytes (JPEG, PNG, ...), decoded the way Pillow decodes them. */
export async function phashOfBytes(bytes: Uint8Array, subject: string): Promise<string> {
  const img = await decodeForHash(bytes, subject);
  return phashFromGray(img.data, img.width, img.height);
}

const POPCOUNT4 = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];

/** Hamming distance between two hex hashes of the same length (number of differing bits). */
export function hammingHex(a: string, b: string): number {
  if (a.length !== b.length) {
    throw new AgeGenderError('INVALID_ARGUMENT', `hammingHex: hashes differ in length (${a.length} vs ${b.length} hex digits)`);
  }
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = parseInt(a[i]!, 16);
    const y = parseInt(b[i]!, 16);
    if (Number.isNaN(x) || Number.isNaN(y)) {
      throw new AgeGenderError('INVALID_ARGUMENT', `hammingHex: not a hex hash: "${Number.isNaN(x) ? a : b}"`);
    }
    d += POPCOUNT4[x ^ y]!;
  }
  return d;
}
