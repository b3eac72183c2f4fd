/**
 * Files cut off part way (an interrupted download or copy) whose first frame or page is whole: only
 * that one is ever decoded (decode.ts), so it is read when libvips refuses the file as a whole.
 *
 * - TIFF: libvips walks the chain of pages (IFDs) before it reads the first, and a chain that runs
 *   past the end of the file fails the decode. {@link tiffFirstPageOfCutFile} checks, from the
 *   file's own structure, that the first page (its directory and every strip or tile) is inside the
 *   file while a later page is not, and gives a copy that ends the chain after the first page: a
 *   whole one-page TIFF, decoded as strictly as any other.
 * - GIF: libvips reads a GIF cut in a later frame; {@link gifCutOff} tells that it is cut, so that
 *   the result can say so.
 * - WebP: libwebp reads an animated WebP only whole, so a cut one cannot be read at all;
 *   {@link webpCutOff} gives what the file's RIFF header says is missing, for the error message.
 *
 * @example
 *   const whole = tiffFirstPageOfCutFile(bytes); // null unless bytes is a TIFF cut off after its first page
 */

/** A classic (not Big) TIFF's byte reader; null for anything else. */
function tiffReader(bytes: Uint8Array): { u16(at: number): number; u32(at: number): number } | null {
  if (bytes.length < 8) return null;
  const little = bytes[0] === 0x49 && bytes[1] === 0x49;
  if (!little && !(bytes[0] === 0x4d && bytes[1] === 0x4d)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = { u16: (at: number) => view.getUint16(at, little), u32: (at: number) => view.getUint32(at, little) };
  return reader.u16(2) === 42 ? reader : null;
}

const STRIP_OFFSETS = 273;
const STRIP_BYTE_COUNTS = 279;
const TILE_OFFSETS = 324;
const TILE_BYTE_COUNTS = 325;
const SHORT = 3;
const LONG = 4;
/** Bytes per value of the TIFF field types (BYTE, ASCII, SHORT, LONG, RATIONAL, …, IFD); 0: unknown. */
const TYPE_SIZES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];

/** A directory: `whole` when it and every strip or tile it points to lie inside the file, `cut` when some of that lies past the end, `unknown` when it cannot tell. */
interface Directory {
  state: 'whole' | 'cut' | 'unknown';
  /** Offset of its next-directory field (meaningful when `whole`). */
  nextField: number;
}

/** The directory at `at` ({@link Directory}). */
function readDirectory(bytes: Uint8Array, r: NonNullable<ReturnType<typeof tiffReader>>, at: number): Directory {
  if (at + 2 > bytes.length) return { state: 'cut', nextField: 0 };
  const entries = r.u16(at);
  const nextField = at + 2 + entries * 12;
  if (nextField + 4 > bytes.length) return { state: 'cut', nextField };
  const arrays = new Map<number, number[] | null>();
  for (let i = 0; i < entries; i++) {
    const e = at + 2 + i * 12;
    const tag = r.u16(e);
    const type = r.u16(e + 2);
    const count = r.u32(e + 4);
    // every field's values (tables, strip lists) must be in the file
    const bytesOfValues = count * (TYPE_SIZES[type] ?? 0);
    if (bytesOfValues > 4 && r.u32(e + 8) + bytesOfValues > bytes.length) return { state: 'cut', nextField };
    if (![STRIP_OFFSETS, STRIP_BYTE_COUNTS, TILE_OFFSETS, TILE_BYTE_COUNTS].includes(tag)) continue;
    const size = type === SHORT ? 2 : type === LONG ? 4 : 0;
    if (size === 0) return { state: 'unknown', nextField };
    const from = count * size <= 4 ? e + 8 : r.u32(e + 8);
    arrays.set(tag, Array.from({ length: count }, (_, k) => (size === 2 ? r.u16(from + 2 * k) : r.u32(from + 4 * k))));
  }
  const [offsets, counts] = arrays.has(TILE_OFFSETS) ? [arrays.get(TILE_OFFSETS), arrays.get(TILE_BYTE_COUNTS)] : [arrays.get(STRIP_OFFSETS), arrays.get(STRIP_BYTE_COUNTS)];
  if (!offsets || !counts || offsets.length !== counts.length || offsets.length === 0) return { state: 'unknown', nextField };
  return { state: offsets.every((o, k) => o + counts[k]! <= bytes.length) ? 'whole' : 'cut', nextField };
}

/** Most pages walked looking for the cut (a chain that loops is not a cut file). */
const MAX_PAGES = 10_000;

/**
 * The offset of the first page's next-page field when `bytes` is a TIFF whose first page is whole
 * but whose chain of pages runs past the end of the file (cut off after the first page, or in a
 * later one), else null.
 */
function tiffCutAfterFirstPageAt(bytes: Uint8Array): number | null {
  const r = tiffReader(bytes);
  if (!r) return null;
  const first = readDirectory(bytes, r, r.u32(4));
  if (first.state !== 'whole') return null;
  const seen = new Set<number>([r.u32(4)]);
  for (let next = r.u32(first.nextField); next !== 0; ) {
    if (seen.has(next) || seen.size > MAX_PAGES) return null;
    seen.add(next);
    const page = readDirectory(bytes, r, next);
    if (page.state === 'unknown') return null;
    if (page.state === 'cut') return first.nextField;
    next = r.u32(page.nextField);
  }
  return null;
}

/** True for a TIFF whose first page is whole and a later one cut off (see {@link tiffFirstPageOfCutFile}). */
export function tiffCutAfterFirstPage(bytes: Uint8Array): boolean {
  return tiffCutAfterFirstPageAt(bytes) !== null;
}

/**
 * For a TIFF whose first page is whole but whose chain of pages runs past the end of the file: a
 * copy whose first page is its last (a whole one-page TIFF), else null. The input is not modified.
 */
export function tiffFirstPageOfCutFile(bytes: Uint8Array): Uint8Array | null {
  const at = tiffCutAfterFirstPageAt(bytes);
  if (at === null) return null;
  const copy = Uint8Array.from(bytes);
  new DataView(copy.buffer).setUint32(at, 0); // 0 in either byte order
  return copy;
}

/** True for a TIFF cut off inside its first page (its directory or image data lies past the end of the file). */
export function tiffFirstPageCut(bytes: Uint8Array): boolean {
  const r = tiffReader(bytes);
  return r !== null && readDirectory(bytes, r, r.u32(4)).state === 'cut';
}

/**
 * True for a GIF that ends before its trailer (0x3B) with a block left unfinished: cut off. Walks
 * the blocks (extensions, images and their data sub-blocks) without decoding a pixel; false for a
 * whole GIF and for one it cannot follow.
 */
export function gifCutOff(bytes: Uint8Array): boolean {
  if (bytes.length < 13) return false;
  const colourTable = (packed: number): number => ((packed & 0x80) === 0 ? 0 : 3 * 2 ** ((packed & 7) + 1));
  let at = 13 + colourTable(bytes[10]!);
  /** Past the data sub-blocks starting at `from`, or -1 when they run past the end. */
  const skipSubBlocks = (from: number): number => {
    let i = from;
    while (i < bytes.length && bytes[i] !== 0) i += bytes[i]! + 1;
    return i < bytes.length ? i + 1 : -1;
  };
  while (at < bytes.length) {
    const block = bytes[at];
    if (block === 0x3b) return false;
    if (block === 0x21) at = skipSubBlocks(at + 2);
    else if (block === 0x2c) at = at + 10 < bytes.length ? skipSubBlocks(at + 10 + colourTable(bytes[at + 9]!) + 1) : -1;
    else return false;
    if (at < 0) return true;
  }
  return true;
}

/** What a WebP file's RIFF header says about its length, when the file is shorter; else null. */
export interface WebpCut {
  /** Bytes in the file. */
  have: number;
  /** Bytes the RIFF header gives. */
  want: number;
  /** An animation (the VP8X header's animation flag). */
  animated: boolean;
}

/** {@link WebpCut} for a WebP shorter than its RIFF header says, else null. */
export function webpCutOff(bytes: Uint8Array): WebpCut | null {
  if (bytes.length < 12) return null;
  const want = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true) + 8;
  if (want <= bytes.length) return null;
  const vp8x = bytes.length >= 21 && String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!) === 'VP8X';
  return { have: bytes.length, want, animated: vp8x && (bytes[20]! & 0x02) !== 0 };
}

/**
 * Why a file that failed to decode cannot be read, when its own structure says it is cut off: a
 * WebP shorter than its RIFF header gives (an animated one cannot be read in part), a TIFF whose
 * first page runs past the end, a GIF that ends inside a block (libvips reads a GIF cut in a later
 * frame, so one that fails is cut in its first). Null when it cannot tell (the decoder's reason stands).
 */
export function cutOffReason(bytes: Uint8Array, format: string): string | null {
  if (format === 'webp') {
    const cut = webpCutOff(bytes);
    if (!cut) return null;
    const whole = cut.animated ? ': libwebp reads an animation only whole, so not even its first frame can be read' : '';
    return `the file is cut off (${cut.have} of the ${cut.want} bytes its header gives)${whole}`;
  }
  if (format === 'tiff' && tiffFirstPageCut(bytes)) return 'the file is cut off inside its first page';
  if (format === 'gif' && gifCutOff(bytes)) return 'the file is cut off inside its first frame';
  return null;
}
