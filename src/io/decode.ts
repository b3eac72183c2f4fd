/**
 * Image decoding with sharp, with errors that name the file and the reason.
 *
 * Order of checks for encoded bytes: empty → magic bytes → header (size limit, checked BEFORE any
 * pixel is decoded) → decode. Truncated or corrupt data is rejected (sharp `failOn: 'error'`: errors
 * and truncation fail, harmless libjpeg warnings such as extraneous bytes before a marker do not —
 * the same files Pillow opens).
 *
 * Formats: JPEG, PNG, WebP, GIF, TIFF and AVIF through sharp (an animated GIF, WebP or PNG and a
 * multi-page TIFF at their first frame or page only, an animated PNG at its default image: sharp's
 * default; the header's `pages` says how many there are, and {@link firstFrameNote} says so in
 * words); HEIC/HEIF (iPhone photos) through
 * libheif in WebAssembly ({@link ./heic.ts}), since sharp's prebuilt libvips has no HEVC decoder. A
 * HEIF file carries its rotation in the container, not in EXIF: it is applied, and an EXIF
 * orientation tag inside a HEIF file is ignored, as the format requires.
 *
 * Colour choices for {@link decodeImage}: the result is always 8-bit RGB (3 channels). Grayscale is
 * replicated to R = G = B; an alpha channel is flattened onto MID-GREY {@link ALPHA_BACKGROUND}
 * (out = (c·a + 128·(255 − a)) / 255, rounded): for a face cut out of its background, mid-grey was
 * measured closest to the face with its background (`experiments/alpha-background.ts`, UTKFace val:
 * age MAE 0.3–1.3 years lower than on white, which reads faces older). Embedded ICC profiles are
 * converted to sRGB by sharp (what a viewer shows). The EXIF orientation tag IS applied (sharp's
 * `autoOrient`): a phone photo held sideways is analysed upright, and every width, height, box and
 * landmark downstream is in the upright image's coordinates (what a browser or viewer shows).
 *
 * {@link decodeForHash} instead reproduces what `PIL.Image.open(f).convert('L')` gives: no ICC
 * conversion, L = (19595·R + 38470·G + 7471·B + 0x8000) >> 16, grayscale used as decoded, alpha ignored,
 * and the EXIF orientation NOT applied (Pillow's `open` does not apply it): hashes describe the stored
 * pixels, so `prepare`'s exact and near-duplicate detection matches the reference implementation.
 * A HEIC file is the exception: libheif gives only its upright pixels, so both see those (`prepare`
 * does not take HEIC files).
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { AgeGenderError, fsErrorReason } from '../core/errors.js';
import { cutOffReason, gifCutOff, tiffCutAfterFirstPage, tiffFirstPageOfCutFile } from './cut-off.js';
import { decodeHeic, heicSize, isHeicDecoderUnavailable } from './heic.js';
import type { ImageInput, RawImage } from './types.js';
import { withOwnReason } from './vips-gate.js';

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif' | 'heic';

/** Largest image (width × height) decoded unless the caller says otherwise: 50 MP. */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * The default limit instead when `maxSide` shrinks a JPEG, PNG, WebP or TIFF: 250 MP (a 200 MP phone
 * photo). Those are shrunk on sharp's stream, so memory follows the output size; AVIF, GIF and HEIC
 * are decoded at full size first and keep {@link DEFAULT_MAX_PIXELS}.
 */
export const DEFAULT_MAX_PIXELS_SHRUNK = 250_000_000;
const STREAM_SHRUNK: ReadonlySet<ImageFormat> = new Set(['jpeg', 'png', 'webp', 'tiff']);

const FORMAT_NAMES: Record<ImageFormat, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', gif: 'GIF', tiff: 'TIFF', avif: 'AVIF', heic: 'HEIC' };

/** The formats decoded, for messages: "JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIC". */
export const SUPPORTED_FORMATS = `${Object.values(FORMAT_NAMES).slice(0, -1).join(', ')} or ${FORMAT_NAMES.heic}`;

/** ISO-BMFF brands of HEIF files holding HEVC-coded images (iPhone photos, image sequences) or generic HEIF. */
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs', 'mif1', 'msf1']);
/** ISO-BMFF brands of AVIF files (AV1-coded HEIF). */
const AVIF_BRANDS = new Set(['avif', 'avis']);

/** 'avif' or 'heic' from an ISO-BMFF `ftyp` box (major and compatible brands; AVIF wins when both appear), else null. */
function heifFormat(b: Uint8Array): 'avif' | 'heic' | null {
  if (b.length < 16 || String.fromCharCode(b[4]!, b[5]!, b[6]!, b[7]!) !== 'ftyp') return null;
  const boxSize = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
  const end = Math.min(boxSize, b.length, 256);
  const brands: string[] = [];
  for (let i = 8; i + 4 <= end; i += i === 8 ? 8 : 4) brands.push(String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!));
  if (brands.some((x) => AVIF_BRANDS.has(x))) return 'avif';
  if (brands.some((x) => HEIC_BRANDS.has(x))) return 'heic';
  return null;
}

export interface ImageHeader {
  format: ImageFormat;
  /** Size of the upright image (EXIF orientation applied, as {@link decodeImage} returns it). */
  width: number;
  height: number;
  /** Channels as stored (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA or CMYK). */
  channels: number;
  /**
   * Present when the file holds more than one frame or page (an animated GIF, WebP or PNG, a
   * multi-page TIFF): how many. Only the first is decoded. A HEIC file's primary image is the one
   * decoded, and its other images are not counted here.
   */
  pages?: number;
  /**
   * Present (true) when the file is cut off (a truncated download) after its first frame or page: a
   * GIF that ends before its trailer, a TIFF whose chain of pages runs past the end while its first
   * page is whole. Only the first is decoded (a GIF whose first frame is cut fails to decode).
   */
  cutOff?: true;
}

/**
 * "the GIF holds 3 frames: only the first was analysed" (a TIFF: pages) for a header with
 * {@link ImageHeader.pages}; "the TIFF is cut off (a truncated file): only its first page, which is
 * whole, was analysed" for one with {@link ImageHeader.cutOff}; else null.
 */
export function firstFrameNote(header: ImageHeader): string | null {
  const unit = header.format === 'tiff' ? 'pages' : 'frames';
  if (header.cutOff) return `the ${FORMAT_NAMES[header.format]} is cut off (a truncated file): only its first ${unit.slice(0, -1)}, which is whole, was analysed`;
  if (header.pages === undefined || header.pages < 2) return null;
  return `the ${FORMAT_NAMES[header.format]} holds ${header.pages} ${unit}: only the first was analysed`;
}

/** `{ note }` ({@link firstFrameNote}) for a file of several frames or pages, else nothing: spread into a result. */
export function firstFrameNoteField(header: ImageHeader): { note?: string } {
  const note = firstFrameNote(header);
  return note === null ? {} : { note };
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default {@link DEFAULT_MAX_PIXELS}; {@link DEFAULT_MAX_PIXELS_SHRUNK} with `maxSide` for the formats it names). */
  maxPixels?: number;
  /** Refuse anything that is not this format (e.g. a PNG renamed to .jpg). */
  expect?: 'jpeg';
  /**
   * Shrink while decoding (aspect ratio kept) so the longer side is at most this many pixels. The
   * resize runs on sharp's stream (JPEG shrink-on-load, sequential rows), so a large image never
   * exists at full size in memory. Default: no shrinking.
   */
  maxSide?: number;
  /**
   * The header {@link readImageHeader} already gave for these same bytes: not read again (for HEIC a
   * parse of the whole container). The size limit is still checked against it.
   */
  header?: ImageHeader;
}

/** 8-bit gray image plus what the file said about itself. */
export interface HashImage {
  format: ImageFormat;
  width: number;
  height: number;
  /** width × height bytes, Pillow "L" values. */
  data: Uint8Array;
}

/** The format from the first bytes, or null when it is none of the supported ones ({@link SUPPORTED_FORMATS}). */
export function sniffImageType(bytes: Uint8Array): ImageFormat | null {
  const b = bytes;
  const at = (i: number): number => b[i] ?? -1;
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'jpeg';
  if (
    at(0) === 0x89 && at(1) === 0x50 && at(2) === 0x4e && at(3) === 0x47 &&
    at(4) === 0x0d && at(5) === 0x0a && at(6) === 0x1a && at(7) === 0x0a
  ) {
    return 'png';
  }
  const ascii = (from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if ((at(0) === 0x49 && at(1) === 0x49 && at(2) === 0x2a && at(3) === 0x00) || (at(0) === 0x4d && at(1) === 0x4d && at(2) === 0x00 && at(3) === 0x2a)) {
    return 'tiff';
  }
  return heifFormat(b);
}

/**
 * libvips', its loaders' and libheif's own names in front of a message, one or more: "VipsJpeg: ",
 * "vipspng: ", "gifload_buffer: ", "webp: ", "tiff2vips: source input: ", "heif: ", "source: ".
 */
const DECODER_PREFIX = /^(?:(?:Vips\w*|vips\w*|gifload\w*|webp|tiff2vips|heif|source(?: input)?): )+/;
/** Longest decoder reason kept in a message. */
const REASON_MAX = 120;

/**
 * The decoder's reason, short and human: its first line that is not a seek trace, without the
 * library's name in front or its numeric code ("(2.100)"), cut after its second clause
 * ("Invalid input: Unexpected end of file").
 */
function sharpReason(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const first = raw
    .split('\n')
    .map((l) =>
      l
        .replace(/^Input (buffer|file) contains unsupported image format$/, 'its header cannot be read')
        .replace(/^Input (buffer|file) (has corrupt header|contains unsupported image format): ?/, '')
        .replace(DECODER_PREFIX, '')
        .replace(/\s*\(\d+\.\d+\)$/, '')
        .trim(),
    )
    .find((l) => l.length > 0 && !/^bad seek to \d+$/.test(l));
  if (first === undefined) return 'unknown decoder error';
  const reason = first.split(': ').slice(0, 2).join(': ');
  return reason.length > REASON_MAX ? `${reason.slice(0, REASON_MAX - 1)}…` : reason;
}

function checkMaxPixels(maxPixels: number | undefined, subject: string): number {
  const max = maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new AgeGenderError('INVALID_ARGUMENT', `maxPixels must be a positive integer (got ${String(maxPixels)})`, { subject });
  }
  return max;
}

function toBytes(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Empty / unknown content / wrong format checks; returns the sniffed format. */
function sniffOrThrow(bytes: Uint8Array, subject: string, expect?: 'jpeg'): ImageFormat {
  if (!(bytes instanceof Uint8Array)) {
    throw new AgeGenderError('INVALID_ARGUMENT', 'image bytes must be a Buffer or Uint8Array', { subject });
  }
  if (bytes.length === 0) throw new AgeGenderError('INVALID_IMAGE', 'file is empty (0 bytes)', { subject });
  const format = sniffImageType(bytes);
  if (format === null) {
    throw new AgeGenderError('INVALID_IMAGE', `not an image: content is not ${SUPPORTED_FORMATS}`, { subject });
  }
  if (expect !== undefined && format !== expect) {
    throw new AgeGenderError('INVALID_IMAGE', `content is ${FORMAT_NAMES[format]}, not ${FORMAT_NAMES[expect]}`, { subject });
  }
  return format;
}

/**
 * The error a failed decode of `format` becomes: INVALID_IMAGE naming the file ("corrupt or
 * truncated …" with the decoder's reason, or, given the `bytes`, what is cut off when the file's own
 * structure says so: cut-off.ts), except a HEIC decoder that cannot be loaded, which is not the
 * file's fault and passes as it is.
 */
export function decodeFailure(error: unknown, format: ImageFormat, subject: string, bytes?: Uint8Array): Error {
  if (format === 'heic' && isHeicDecoderUnavailable(error)) return error as Error;
  const reason = (bytes && cutOffReason(bytes, format)) ?? sharpReason(error);
  return new AgeGenderError('INVALID_IMAGE', `corrupt or truncated ${FORMAT_NAMES[format]}: ${reason}`, { subject, cause: error });
}

async function heicHeader(bytes: Uint8Array, subject: string): Promise<ImageHeader> {
  try {
    const { width, height } = await heicSize(bytes);
    return { format: 'heic', width, height, channels: 3 };
  } catch (error) {
    throw decodeFailure(error, 'heic', subject);
  }
}

async function headerOf(bytes: Uint8Array, subject: string, format: ImageFormat): Promise<ImageHeader> {
  if (format === 'heic') return heicHeader(bytes, subject);
  let meta: Metadata;
  try {
    meta = await withOwnReason(() => sharp(toBytes(bytes), { limitInputPixels: false }).metadata());
  } catch (error) {
    const whole = format === 'tiff' ? tiffFirstPageOfCutFile(bytes) : null;
    if (whole) return { ...(await headerOf(whole, subject, format)), cutOff: true };
    throw decodeFailure(error, format, subject, bytes);
  }
  const { channels } = meta;
  // upright size (EXIF orientation applied), as decodeImage returns it
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height || !channels) {
    throw new AgeGenderError('INVALID_IMAGE', `corrupt ${FORMAT_NAMES[format]}: header gives no size`, { subject });
  }
  // libvips reads an animated PNG's default image only and does not count its frames: its acTL chunk does
  const pages = format === 'png' ? apngFrames(bytes) : meta.pages;
  // a GIF or TIFF cut off after its first frame or page (libvips reads the first; cut-off.ts)
  const cutOff = (format === 'gif' && gifCutOff(bytes)) || (format === 'tiff' && tiffCutAfterFirstPage(bytes));
  return { format, width, height, channels, ...(pages !== undefined && pages > 1 ? { pages } : {}), ...(cutOff ? { cutOff: true as const } : {}) };
}

function checkSize(header: ImageHeader, maxPixels: number, subject: string): void {
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    const mp = (n: number): string => (n >= 100_000 ? (n / 1e6).toFixed(1) : String(Number((n / 1e6).toPrecision(2))));
    throw new AgeGenderError(
      'IMAGE_TOO_LARGE',
      `image is ${header.width}×${header.height} pixels (${mp(pixels)} MP), over the ${mp(maxPixels)} MP limit`,
      { subject },
    );
  }
}

/**
 * Format, size and stored channel count from the header, without decoding pixels.
 * Throws INVALID_IMAGE for empty, unknown or unreadable headers.
 */
export async function readImageHeader(bytes: Uint8Array, subject: string): Promise<ImageHeader> {
  const format = sniffOrThrow(bytes, subject);
  try {
    return await headerOf(bytes, subject, format);
  } catch (error) {
    // libvips wants more than the IHDR chunk; a bare PNG header still has a size to report.
    const ihdr = format === 'png' ? pngIhdrSize(bytes) : null;
    if (ihdr && ihdr.width > 0 && ihdr.height > 0) {
      const colourType = bytes[25];
      const channels = colourType === 0 ? 1 : colourType === 4 ? 2 : colourType === 6 ? 4 : 3;
      return { format, width: ihdr.width, height: ihdr.height, channels };
    }
    throw error;
  }
}

interface Decoded {
  header: ImageHeader;
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/**
 * PNG size straight from the IHDR chunk (fixed place after the signature), so an absurd size is
 * reported as such even when the rest of the file is missing; null for other formats.
 */
function pngIhdrSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!) !== 'IHDR') return null;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * The frame count an animated PNG's `acTL` chunk gives (it comes before the image data), or
 * undefined for a still PNG: the chunks before the first IDAT are walked, never the pixels.
 */
function apngFrames(bytes: Uint8Array): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (type === 'IDAT' || type === 'IEND') return undefined;
    if (type === 'acTL') return at + 12 <= bytes.length ? view.getUint32(at + 8) : undefined;
    at += 12 + length;
  }
  return undefined;
}

/** A HEIC file's primary image, decoded by libheif, as a sharp pipeline over its RGBA pixels. */
async function heicPipeline(bytes: Uint8Array): Promise<Sharp> {
  const px = await decodeHeic(bytes);
  return sharp(px.data, { raw: { width: px.width, height: px.height, channels: px.channels } });
}

async function decodeRaw(bytes: Uint8Array, subject: string, options: DecodeOptions, forHash: boolean): Promise<Decoded> {
  checkMaxPixels(options.maxPixels, subject);
  if (options.maxSide !== undefined && (!Number.isSafeInteger(options.maxSide) || options.maxSide < 1)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `maxSide must be a positive integer (got ${String(options.maxSide)})`, { subject });
  }
  const format = sniffOrThrow(bytes, subject, options.expect);
  const maxPixels = options.maxPixels ?? (options.maxSide !== undefined && STREAM_SHRUNK.has(format) ? DEFAULT_MAX_PIXELS_SHRUNK : DEFAULT_MAX_PIXELS);
  const ihdr = format === 'png' ? pngIhdrSize(bytes) : null;
  if (ihdr) checkSize({ format, channels: 0, ...ihdr }, maxPixels, subject);
  const header = options.header ?? (await headerOf(bytes, subject, format));
  checkSize(header, maxPixels, subject);
  const decode = async (): Promise<{ data: Buffer; info: OutputInfo }> => {
    // Prediction sees the upright image; hashing sees the stored pixels (module comment).
    let pipeline =
      format === 'heic'
        ? await heicPipeline(bytes)
        : sharp(toBytes(bytes), { failOn: 'error', limitInputPixels: maxPixels, ignoreIcc: forHash, autoOrient: !forHash, sequentialRead: true });
    if (options.maxSide !== undefined && Math.max(header.width, header.height) > options.maxSide) {
      pipeline = pipeline.resize({ width: options.maxSide, height: options.maxSide, fit: 'inside', withoutEnlargement: true });
    }
    // sharp would expand gray to sRGB; for hashing keep the decoded gray values as they are.
    if (forHash && header.channels <= 2) pipeline = pipeline.toColourspace('b-w');
    return pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  };
  try {
    // a HEIC file's reason comes from libheif, not libvips' shared error buffer
    const { data, info } = format === 'heic' ? await decode() : await withOwnReason(decode);
    if (data.length !== info.width * info.height * info.channels) {
      throw new Error(`decoder returned ${data.length} bytes for ${info.width}×${info.height}×${info.channels}`);
    }
    return { header, data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    // a TIFF cut off after its first page: that page, from a copy whose chain of pages ends there
    const whole = format === 'tiff' ? tiffFirstPageOfCutFile(bytes) : null;
    if (whole) {
      const { header: _cut, ...rest } = options;
      const d = await decodeRaw(whole, subject, rest, forHash);
      return { ...d, header: { ...d.header, cutOff: true } };
    }
    throw decodeFailure(error, format, subject, bytes);
  }
}

/** The level transparency is flattened onto (R = G = B): mid-grey (module comment). */
export const ALPHA_BACKGROUND = 128;

/** Flattens 1, 2, 3 or 4 interleaved channels to RGB: gray replicated, alpha composited onto {@link ALPHA_BACKGROUND}. */
function toRgb(data: Uint8Array, width: number, height: number, channels: number, subject: string): Uint8Array {
  const n = width * height;
  if (channels === 3) return data;
  const out = new Uint8Array(n * 3);
  const over = (c: number, a: number): number => Math.round((c * a + ALPHA_BACKGROUND * (255 - a)) / 255);
  if (channels === 1) {
    for (let i = 0, o = 0; i < n; i++, o += 3) out[o] = out[o + 1] = out[o + 2] = data[i]!;
  } else if (channels === 2) {
    for (let i = 0, o = 0; i < n; i++, o += 3) out[o] = out[o + 1] = out[o + 2] = over(data[i * 2]!, data[i * 2 + 1]!);
  } else if (channels === 4) {
    for (let i = 0, j = 0, o = 0; i < n; i++, j += 4, o += 3) {
      const a = data[j + 3]!;
      if (a === 255) {
        out[o] = data[j]!;
        out[o + 1] = data[j + 1]!;
        out[o + 2] = data[j + 2]!;
      } else {
        out[o] = over(data[j]!, a);
        out[o + 1] = over(data[j + 1]!, a);
        out[o + 2] = over(data[j + 2]!, a);
      }
    }
  } else {
    throw new AgeGenderError('INVALID_IMAGE', `unsupported channel count ${channels} (expected 1 to 4)`, { subject });
  }
  return out;
}

/**
 * Decodes JPEG/PNG/WebP/GIF/TIFF/AVIF/HEIC bytes to 8-bit RGB (3 channels; see the module comment for gray and
 * alpha). Errors: INVALID_IMAGE (empty, not an image, wrong format for `expect`, corrupt or
 * truncated), IMAGE_TOO_LARGE (from the header, before decoding), INVALID_ARGUMENT (bad options).
 */
export async function decodeImage(bytes: Uint8Array, subject: string, options: DecodeOptions = {}): Promise<RawImage> {
  return (await decodeImageWithHeader(bytes, subject, options)).image;
}

/**
 * {@link decodeImage}, with the header read on the way: the file's own upright size and stored
 * channels, which differ from the image's when `maxSide` shrank it.
 */
export async function decodeImageWithHeader(bytes: Uint8Array, subject: string, options: DecodeOptions = {}): Promise<{ image: RawImage; header: ImageHeader }> {
  const d = await decodeRaw(bytes, subject, options, false);
  const rgb = toRgb(d.data, d.width, d.height, d.channels, subject);
  return { image: { data: rgb, width: d.width, height: d.height, channels: 3 }, header: d.header };
}

/**
 * Decodes to the 8-bit gray image `PIL.Image.open(f).convert('L')` would give (see the module
 * comment), for bit-compatible perceptual hashing. Same errors as {@link decodeImage}.
 */
export async function decodeForHash(bytes: Uint8Array, subject: string, options: DecodeOptions = {}): Promise<HashImage> {
  const d = await decodeRaw(bytes, subject, options, true);
  const n = d.width * d.height;
  const src = d.data;
  let gray: Uint8Array;
  if (d.channels === 1) {
    gray = new Uint8Array(src.buffer, src.byteOffset, n);
  } else if (d.channels === 2) {
    gray = new Uint8Array(n);
    for (let i = 0; i < n; i++) gray[i] = src[i * 2]!;
  } else if (d.channels === 3 || d.channels === 4) {
    const c = d.channels;
    gray = new Uint8Array(n);
    for (let i = 0, j = 0; i < n; i++, j += c) {
      gray[i] = (src[j]! * 19595 + src[j + 1]! * 38470 + src[j + 2]! * 7471 + 0x8000) >> 16;
    }
  } else {
    throw new AgeGenderError('INVALID_IMAGE', `unsupported channel count ${d.channels} (expected 1 to 4)`, { subject });
  }
  return { format: d.header.format, width: d.width, height: d.height, data: gray };
}

function isRawImage(input: unknown): input is RawImage {
  return typeof input === 'object' && input !== null && !(input instanceof Uint8Array) && 'data' in input;
}

/** Checks a RawImage's shape and returns it as RGB (1 channel replicated, 4 channels flattened onto mid-grey). */
function rawToRgb(img: RawImage, subject: string): RawImage {
  const { data, width, height, channels } = img;
  if (!(data instanceof Uint8Array)) {
    throw new AgeGenderError('INVALID_ARGUMENT', 'raw image data must be a Uint8Array', { subject });
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new AgeGenderError('INVALID_ARGUMENT', `raw image size must be positive integers (got ${String(width)}×${String(height)})`, {
      subject,
    });
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new AgeGenderError('INVALID_ARGUMENT', `raw image channels must be 1, 3 or 4 (got ${String(channels)})`, { subject });
  }
  const expected = width * height * channels;
  if (data.length !== expected) {
    throw new AgeGenderError(
      'INVALID_ARGUMENT',
      `raw image data has ${data.length} bytes, expected ${width}×${height}×${channels} = ${expected}`,
      { subject },
    );
  }
  if (channels === 3) return img;
  return { data: toRgb(data, width, height, channels, subject), width, height, channels: 3 };
}

/** The bytes of an image file; UNREADABLE_FILE naming it and saying why (no such file, a directory, permission denied, a symbolic link loop). */
export async function readImageFile(path: string, subject: string = path): Promise<Buffer> {
  if (path.length === 0) throw new AgeGenderError('INVALID_ARGUMENT', 'image path is empty', { subject });
  try {
    return await readFile(path);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' ? 'no such file' :
      e.code === 'EISDIR' ? 'is a directory, not a file' :
      fsErrorReason(error);
    throw new AgeGenderError('UNREADABLE_FILE', `cannot read file: ${why}`, { subject, cause: error });
  }
}

/**
 * Any {@link ImageInput} to 8-bit RGB: a path is read then decoded, bytes are decoded, raw pixels are
 * checked and expanded to 3 channels. `subject` names the input in errors (default: the path, or
 * "image bytes" / "raw image").
 */
export async function loadImageInput(input: ImageInput, subject?: string, options: DecodeOptions = {}): Promise<RawImage> {
  if (typeof input === 'string') {
    const name = subject ?? input;
    return decodeImage(await readImageFile(input, name), name, options);
  }
  if (input instanceof Uint8Array) return decodeImage(input, subject ?? 'image bytes', options);
  if (isRawImage(input)) return rawToRgb(input, subject ?? 'raw image');
  throw new AgeGenderError('INVALID_ARGUMENT', 'image must be a file path, a Buffer/Uint8Array of encoded bytes, or a RawImage', {
    subject: subject ?? 'image',
  });
}
