/**
 * The 68 iBUG landmarks of a face, from face-api's `face_landmark_68` net (weights inside
 * `@vladmandic/face-api`, run on TF.js), read inside a face box. The photo path uses them on its
 * refinement pass to cut the chip the way UTKFace's chips were cut: dlib's `get_face_chip`, a
 * least-squares similarity of landmarks 17–67 to dlib's mean face (align-dlib.ts).
 *
 * @example
 *   const net = await sharedLandmarks68();
 *   const points = await net.locate(chip, face.box); // 68 points in `chip`'s pixels, or null
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../model/backend.js';
import { AgeGenderError } from '../core/errors.js';
import type { RawImage } from '../io/types.js';
import { faceApi, faceApiModelDir, toRgbTensor, type FaceApiLandmarks, type FaceBox, type Point } from './detect.js';

export interface Landmarks68 {
  /** The 68 landmarks of the face in `box` (clipped to the image), in the image's pixels; null when the box is too small. */
  locate(image: RawImage, box: FaceBox): Promise<Point[] | null>;
  dispose(): void;
}

/** Loads the landmark net from `modelDir` (default: the folder inside `@vladmandic/face-api`). */
export async function loadLandmarks68(modelDir: string = faceApiModelDir()): Promise<Landmarks68> {
  await initBackend();
  const net = new (faceApi().FaceLandmark68Net)();
  try {
    await net.loadFromDisk(modelDir);
  } catch (cause) {
    throw new AgeGenderError('MODEL_INVALID', `cannot load the 68-landmark net from ${modelDir}`, { cause });
  }
  let disposed = false;
  return {
    async locate(image, box) {
      if (disposed) throw new AgeGenderError('MODEL_NOT_LOADED', 'landmark net was disposed');
      const x0 = Math.max(0, Math.floor(box.x));
      const y0 = Math.max(0, Math.floor(box.y));
      const x1 = Math.min(image.width, Math.ceil(box.x + box.width));
      const y1 = Math.min(image.height, Math.ceil(box.y + box.height));
      if (x1 - x0 < 8 || y1 - y0 < 8) return null;
      const input = toRgbTensor(image);
      const crop = tf.slice(input, [y0, x0, 0], [y1 - y0, x1 - x0, 3]);
      let result: FaceApiLandmarks | FaceApiLandmarks[];
      try {
        result = await net.detectLandmarks(crop);
      } finally {
        tf.dispose([input, crop]);
      }
      const lm = Array.isArray(result) ? result[0] : result;
      if (!lm || lm.positions.length !== 68) return null;
      return lm.positions.map((p) => ({ x: p.x + x0, y: p.y + y0 }));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      net.dispose();
    },
  };
}

let shared: Promise<Landmarks68> | null = null;

/** One landmark net per thread, loaded on first use and kept for the thread's life (the photo path's refinement pass). */
export function sharedLandmarks68(): Promise<Landmarks68> {
  shared ??= loadLandmarks68().catch((error: unknown) => {
    shared = null;
    throw error;
  });
  return shared;
}
