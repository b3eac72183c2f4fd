/**
 * One input of the photo path decoded as `predict` reads it: a file path or an http(s) URL (fetched),
 * encoded bytes, or raw pixels; upright (EXIF), shrunk as `options` say, with the input's own upright
 * size and the multi-frame note. Used by `predictFiles` and `pipeline()`.
 *
 * @example
 *   const { image, width, height, note } = await decodeInput('IMG_0001.HEIC', 'IMG_0001.HEIC', { maxSide: 4096 });
 */
import { decodeImageWithHeader, firstFrameNoteField, loadImageInput, readImageFile, type DecodeOptions } from '../io/decode.js';
import { fetchImageBytes } from '../io/fetch.js';
import type { ImageInput, RawImage } from '../io/types.js';
import { isImageUrl } from './inputs.js';

export interface DecodedInput {
  image: RawImage;
  /** The input's own upright size (`image` may be shrunk). */
  width: number;
  height: number;
  /** Said when only the first frame or page of an animated or multi-page file was decoded. */
  note?: string;
}

/** Decodes `input`, naming it `subject` in errors (UNREADABLE_FILE, INVALID_IMAGE, IMAGE_TOO_LARGE, …). */
export async function decodeInput(input: ImageInput, subject: string, options: DecodeOptions = {}): Promise<DecodedInput> {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    const image = await loadImageInput(input, subject); // raw pixels (checked there)
    return { image, width: image.width, height: image.height };
  }
  const bytes = typeof input !== 'string' ? input : isImageUrl(input) ? await fetchImageBytes(input) : await readImageFile(input, subject);
  const { image, header } = await decodeImageWithHeader(bytes, subject, options);
  return { image, width: header.width, height: header.height, ...firstFrameNoteField(header) };
}
