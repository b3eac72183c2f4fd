/**
 * The 68 iBUG landmarks of a face, from face-api's `face_landmark_68` net (weights inside
 * `@vladmandic/face-api`, run on TF.js), read inside a face box. The photo path uses them on its
 * refinement pass to cut the chip the way UTKFace's chips were cut: dlib's `get_face_chip`, a
 * least-squares similarity of landmarks 17–67 to dlib's mean face (align-dlib.ts).
 *
 * The photo path takes the net from its detector (FaceDetector.landmarks68), so that the detector's
 * `dispose()` frees it.
 *
 * @example
 *   const net = await loadLandmarks68();
 *   const points = await net.locate(chip, face.box); // 68 points in `chip`'s pixels, or null
 *   net.dispose();
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../model/backend.js';
import { AgeGenderError } from '../core/errors.js';
import type { RawImage } from '../io/types.js';
import { faceApi, faceApiModelDir, toRgbTensor, type FaceApiLandmarkNet, type FaceApiLandmarks, type FaceBox, type Point } from './detect.js';

export interface Landmarks68 {
  /** The 68 landmarks of the face in `box` (clipped to the image), in the image's pixels; null when the box is too small. */
  locate(image: RawImage, box: FaceBox): Promise<Point[] | null>;
  dispose(): void;
}

/** Loads the landmark net from `modelDir` (default: the folder inside `@vladmandic/face-api`). `dispose()` frees its tensors. */
export async function loadLandmarks68(modelDir: string = faceApiModelDir()): Promise<Landmarks68> {
  await initBackend();
  const net = new (faceApi().FaceLandmark68Net)();
  try {
    await net.loadFromDisk(modelDir);
  } catch (cause) {
    net.dispose();
    throw new AgeGenderError('MODEL_INVALID', `cannot load the 68-landmark net from ${modelDir}`, { cause });
  }
  return landmarks68Of(net);
}

/** {@link Landmarks68} over a loaded face-api landmark net; its `dispose()` disposes `net`. */
export function landmarks68Of(net: FaceApiLandmarkNet): Landmarks68 {
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

/**
 * A landmark net loaded on the first `get()` and kept until `dispose()` (a detector's, for the photo
 * path's refinement pass: FaceDetector.landmarks68). `get()` after `dispose()` throws
 * MODEL_NOT_LOADED; a load still running when `dispose()` is called is disposed when it ends.
 */
export function lazyLandmarks68(load: () => Promise<Landmarks68> = () => loadLandmarks68()): { get(): Promise<Landmarks68>; dispose(): void } {
  let loading: Promise<Landmarks68> | null = null;
  let loaded: Landmarks68 | null = null;
  let disposed = false;
  return {
    get() {
      if (disposed) return Promise.reject(new AgeGenderError('MODEL_NOT_LOADED', 'landmark net was disposed'));
      loading ??= load().then(
        (net) => {
          if (disposed) net.dispose(); // disposed while loading
          else loaded = net;
          return net;
        },
        (error: unknown) => {
          loading = null;
          throw error;
        },
      );
      return loading;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      loaded?.dispose(); // at once, so that the tensors are back when dispose() returns
      loaded = null;
    },
  };
}

let shared: Promise<Landmarks68> | null = null;

/**
 * One landmark net per thread, loaded on first use and kept until it is disposed, for callers that
 * use the net outside a detector (the photo path uses its detector's: FaceDetector.landmarks68, freed
 * by the detector's `dispose()`; it falls back to this one only for a detector without it).
 * `(await sharedLandmarks68()).dispose()` frees its tensors; the next call loads a fresh net.
 *
 * @example
 *   const net = await sharedLandmarks68();
 *   const points = await net.locate(chip, face.box);
 *   net.dispose(); // back to the tensors held before the first call
 */
export function sharedLandmarks68(): Promise<Landmarks68> {
  if (shared) return shared;
  const loading: Promise<Landmarks68> = loadLandmarks68().then(
    (net) => ({
      locate: (image, box) => net.locate(image, box),
      dispose() {
        if (shared === loading) shared = null;
        net.dispose();
      },
    }),
    (error: unknown) => {
      if (shared === loading) shared = null;
      throw error;
    },
  );
  shared = loading;
  return loading;
}
