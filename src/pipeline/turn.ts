/**
 * Quarter turns of a photo, for faces that lie sideways or upside down in the stored pixels (a scan
 * fed in sideways, a phone photo whose EXIF orientation tag was lost). The detector looks at the
 * turned copy; what it finds is carried back into the photo's own coordinates, where the aligner cuts
 * the chip upright from the landmarks.
 *
 * @example
 *   const turned = await turnImage(photo, 90);
 *   const faces = (await detector.detect(turned)).map((f) => unturnFace(f, 90, photo));
 */
import sharp from 'sharp';
import { AgeGenderError } from '../core/errors.js';
import type { RawImage } from '../io/types.js';
import type { DetectedFace, FaceBox, Point } from './detect.js';

/** Clockwise turns in degrees. */
export type QuarterTurn = 0 | 90 | 180 | 270;

/** The turns tried when the upright photo shows no clear face: a quarter either way, then upside down. */
export const TURN_ORDER: readonly QuarterTurn[] = Object.freeze([90, 270, 180]);

/**
 * Longer side (px) of the copy on which the orientations are compared: YuNet sees a photo up to this
 * size in one pass (640 px input with a 25% margin on every side: yunet.ts), ~10 ms per orientation.
 */
export const TURN_PROBE_SIDE = 426;

function checkTurn(turn: number): asserts turn is QuarterTurn {
  if (turn !== 0 && turn !== 90 && turn !== 180 && turn !== 270) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected a quarter turn of 0, 90, 180 or 270 degrees but received ${JSON.stringify(turn)}`, { subject: 'turn' });
  }
}

/** A copy of `image` turned clockwise by `turn` degrees (lossless; the input is not modified). */
export async function turnImage(image: RawImage, turn: QuarterTurn): Promise<RawImage> {
  checkTurn(turn);
  if (turn === 0) return image;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .rotate(turn)
    .raw()
    .toBuffer({ resolveWithObject: true });
  // sharp may widen one grey channel to three: take its channel count, not the input's
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels as RawImage['channels'] };
}

/**
 * Maps a pixel position of the copy turned by `turn` back into the photo of `width`×`height`
 * (pixel centres at integer positions, as the aligner samples).
 */
export function unturnPoint(p: Point, turn: QuarterTurn, width: number, height: number): Point {
  checkTurn(turn);
  switch (turn) {
    case 0:
      return { x: p.x, y: p.y };
    case 90: // (x, y) ↦ (H − 1 − y, x)
      return { x: p.y, y: height - 1 - p.x };
    case 180: // (x, y) ↦ (W − 1 − x, H − 1 − y)
      return { x: width - 1 - p.x, y: height - 1 - p.y };
    case 270: // (x, y) ↦ (y, W − 1 − x)
      return { x: width - 1 - p.y, y: p.x };
  }
}

/** A box of the turned copy carried back into the photo (the same coordinates as {@link unturnPoint}). */
export function unturnBox(box: FaceBox, turn: QuarterTurn, width: number, height: number): FaceBox {
  const a = unturnPoint({ x: box.x, y: box.y }, turn, width, height);
  const b = unturnPoint({ x: box.x + box.width, y: box.y + box.height }, turn, width, height);
  return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) };
}

/**
 * A face found in the copy turned by `turn`, in the coordinates of `photo`. The landmarks keep their
 * roles (`leftEye` is the eye on the left of the upright face), so the aligner's fit turns the chip
 * upright.
 */
export function unturnFace(face: DetectedFace, turn: QuarterTurn, photo: { width: number; height: number }): DetectedFace {
  const back = (p: Point): Point => unturnPoint(p, turn, photo.width, photo.height);
  return {
    box: unturnBox(face.box, turn, photo.width, photo.height),
    score: face.score,
    leftEye: back(face.leftEye),
    rightEye: back(face.rightEye),
    mouth: back(face.mouth),
    ...(face.landmarks ? { landmarks: face.landmarks.map(back) } : {}),
  };
}
