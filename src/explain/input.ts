import sharp from 'sharp';
import { AgeGenderError } from '../core/errors.js';
import { loadImageInput } from '../io/decode.js';
import type { ImageInput, RawImage } from '../io/types.js';

/** Explanations work on chips of this size (UTKFace chips are 200×200). */
export const EXPLAIN_SIZE = 200;
/** Smaller inputs cannot carry a face at a useful resolution, nor enough superpixels. */
export const MIN_EXPLAIN_SIZE = 32;

/**
 * Any image input to a 200×200 RGB chip for explanation: gray replicated to RGB and alpha flattened onto
 * mid-grey (by `loadImageInput`), then, when not already 200×200, padded to a square with black bars
 * (centred) and resized, as the network's preprocessing does (`preprocessChips`), so the chip explained
 * is the image `predict --no-detect` answers for, not a crop of it.
 * Throws INVALID_IMAGE for non-images and for images under 32×32.
 * @example const chip = await prepareChip('face.jpg');
 */
export async function prepareChip(input: ImageInput, subject?: string): Promise<RawImage> {
  const rgb = await loadImageInput(input, subject);
  const name = subject ?? (typeof input === 'string' ? input : 'image');
  if (rgb.width < MIN_EXPLAIN_SIZE || rgb.height < MIN_EXPLAIN_SIZE) {
    throw new AgeGenderError(
      'INVALID_IMAGE',
      `image is ${rgb.width}×${rgb.height}, too small to explain (needs at least ${MIN_EXPLAIN_SIZE}×${MIN_EXPLAIN_SIZE}; face chips are ${EXPLAIN_SIZE}×${EXPLAIN_SIZE})`,
      { subject: name },
    );
  }
  if (rgb.width === EXPLAIN_SIZE && rgb.height === EXPLAIN_SIZE) return rgb;
  const { data, info } = await sharp(Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), {
    raw: { width: rgb.width, height: rgb.height, channels: 3 },
  })
    .resize(EXPLAIN_SIZE, EXPLAIN_SIZE, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
}
