// The photo path on a labelled photo folder (default: the All-Age-Faces dev set, ../shared/datasets/aaf;
// never train on it), this project (detect → align → predict, one core) and face-api (SSD MobileNetV1 at
// minConfidence 0.3 + AgeGenderNet, on TF.js wasm) side by side in one run, scored by the same code
// (evaluatePhotos / summarisePhotos): faces found, age MAE, CS@5, CS@8, gender accuracy on answered faces
// and coverage, median ms per photo, signed age error by decade; then photos/s of `predictFiles`
// in-process and with `--workers N`, on the same photos. Optional: UTKFace test chips with detection on and synthetic photos (bench/synthetic.ts).
//
//   npm run bench:photos -- [--dir <photos>] [--labels <csv>] [--limit N] [--faceapi-limit N]
//        [--models ours,faceapi] [--workers 2] [--workers-photos 300] [--out bench-results/photos]
//        [--model <our model dir>] [--synthetic N] [--chips N] [--workspace <prepared UTKFace workspace, default workspace/utk>]
//        [--split test|val]   (the chips' split for --chips / --synthetic; val for model choices, test for the reported figures)
//   --models none: only the chip / synthetic checks. --workers 1: no photos/s comparison.
//
// Results: a markdown table on stdout, and <out>/<model>/photo-evaluation.json + photo-predictions.csv,
// <out>/summary.json.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import {
  evaluatePhotos,
  initBackend,
  loadFaceDetector,
  loadImageInput,
  loadModel,
  parsePhotoLabels,
  predictFiles,
  spreadSubset,
  summarisePhotos,
  type PhotoEvaluationSummary,
  type PhotoLabel,
  type PhotoRecord,
} from 'agegender';
import { oneOf, writeFileAtomic } from 'agegender/core';
import { photoPartialPath } from 'agegender/workflow';
import { benchOptions, countOption, existingPath } from './args.js';

const usage = `Usage: npm run bench:photos -- [options]

  --dir <photos>          labelled photo folder (default ../shared/datasets/aaf/photos)
  --labels <csv>          labels (default labels.csv beside the folder)
  --limit <n>             n photos spread over the labels (default: every photo)
  --faceapi-limit <n>     photos for face-api (default --limit)
  --models <list>         ours,faceapi (default both; none: only the chip / synthetic checks)
  --workers <n>           photos/s of predictFiles on 1 and n workers (default 2; 1 skips it)
  --workers-photos <n>    photos for that comparison (default 300)
  --model <dir>           our model folder (default: the shipped model)
  --out <dir>             results folder (default bench-results/photos)
  --chips <n>             UTKFace chips with detection on
  --synthetic <n>         synthetic photos made from UTKFace chips
  --workspace <dir>       prepared UTKFace workspace for --chips / --synthetic (default workspace/utk)
  --split test|val        the chips' split for --chips / --synthetic (default test)
  -h, --help              this text`;
const knownModels = ['ours', 'faceapi', 'none'] as const;
const options = benchOptions('bench:photos', usage, process.argv.slice(2), () => {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: '../shared/datasets/aaf/photos' },
      labels: { type: 'string' },
      limit: { type: 'string' },
      'faceapi-limit': { type: 'string' },
      models: { type: 'string', default: 'ours,faceapi' },
      workers: { type: 'string', default: '2' },
      'workers-photos': { type: 'string', default: '300' },
      out: { type: 'string', default: 'bench-results/photos' },
      model: { type: 'string' },
      synthetic: { type: 'string' },
      chips: { type: 'string' },
      workspace: { type: 'string' },
      split: { type: 'string', default: 'test' },
    },
  });
  const models = values.models.split(',').filter((m) => m !== '');
  for (const m of models) oneOf(m, '--models', knownModels);
  const wanted = new Set(models);
  const photosNeeded = wanted.has('ours') || wanted.has('faceapi');
  const dir = photosNeeded ? existingPath(values.dir, 'photo folder (--dir)') : resolve(values.dir);
  const labels = values.labels ?? join(dirname(dir), 'labels.csv');
  const synthetic = countOption(values.synthetic, '--synthetic', 0);
  const chips = countOption(values.chips, '--chips', 0);
  // checked now, not after the photo rows have run for minutes
  if ((synthetic ?? 0) + (chips ?? 0) > 0) existingPath(join(values.workspace ?? 'workspace/utk', 'manifest.jsonl'), 'prepared UTKFace workspace (--workspace)', 'file');
  return {
    values,
    wanted,
    dir,
    labelsPath: photosNeeded ? existingPath(labels, 'labels (--labels)', 'file') : resolve(labels),
    limit: countOption(values.limit, '--limit'),
    faceapiLimit: countOption(values['faceapi-limit'], '--faceapi-limit'),
    workers: countOption(values.workers, '--workers')!,
    workersPhotos: countOption(values['workers-photos'], '--workers-photos')!,
    synthetic,
    chips,
    split: oneOf(values.split, '--split', ['test', 'val'] as const),
  };
});
const { values, wanted, dir, labelsPath, limit } = options;
const out = resolve(values.out);
const faceapiLimit = options.faceapiLimit ?? limit;
const load = (): string => `load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`;

await initBackend();
await mkdir(out, { recursive: true });
const rows: Array<{ name: string; summary: PhotoEvaluationSummary; note: string }> = [];
const allLabels = wanted.has('ours') || wanted.has('faceapi') ? parsePhotoLabels(await readFile(labelsPath, 'utf8'), labelsPath) : [];

if (wanted.has('ours')) {
  // One core: the model and the YuNet detector each on one onnxruntime intra-op thread.
  const model = await loadModel(values.model, { threads: 1 });
  const detector = await loadFaceDetector();
  try {
    // a bench run is timed whole: the records of one cut short are not resumed
    const partial = photoPartialPath(join(out, 'ours'));
    if (existsSync(partial)) {
      console.error(`discarding ${partial}, the records of a bench run cut short`);
      await rm(partial);
    }
    const before = load();
    const { result, records } = await evaluatePhotos({
      model,
      detector,
      photos: dir,
      labels: labelsPath,
      out: join(out, 'ours'),
      ...(limit === undefined ? {} : { limit }),
      onProgress: (done, total) => {
        if (done % 250 === 0 || done === total) console.error(`ours: ${done}/${total} (${load()})`);
      },
    });
    const name = `agegender (${result.model}) on ${result.runtime}, ${result.detector}`;
    rows.push({ name, summary: result.summary, note: `${before} → ${load()}` });
    // face-api on fewer photos: ours on exactly those photos too, for a like-for-like row
    if (wanted.has('faceapi') && faceapiLimit !== undefined && faceapiLimit < records.length) {
      const same = new Set(spreadSubset(allLabels, faceapiLimit).map((l) => l.file));
      rows.push({ name: `${name}, on face-api's ${same.size} photos`, summary: summarisePhotos(records.filter((r) => same.has(r.file))), note: 'same run, subset' });
    }
  } finally {
    detector.dispose();
    model.dispose();
  }
}

interface FaceApiResult {
  detection: { box: { width: number; height: number } };
  age: number;
  gender: string;
  genderProbability: number;
}
interface FaceApiBench {
  nets: { ssdMobilenetv1: { loadFromDisk(d: string): Promise<void> }; ageGenderNet: { loadFromDisk(d: string): Promise<void> } };
  SsdMobilenetv1Options: new (o: { minConfidence: number }) => unknown;
  detectAllFaces(input: tf.Tensor3D, options: unknown): { withAgeAndGender(): Promise<FaceApiResult[]> };
}

/** face-api as its README uses it: detectAllFaces(SSD, minConfidence 0.3).withAgeAndGender(); the largest face is scored. */
async function faceApiRecords(labels: readonly PhotoLabel[]): Promise<PhotoRecord[]> {
  const require = createRequire(import.meta.url);
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiBench;
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.ageGenderNet.loadFromDisk(modelDir);
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.3 });
  const records: PhotoRecord[] = [];
  for (const label of labels) {
    const started = performance.now();
    try {
      const image = await loadImageInput(join(dir, label.file), label.file);
      const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      let faces: FaceApiResult[];
      try {
        faces = await faceapi.detectAllFaces(input, options).withAgeAndGender();
      } finally {
        input.dispose();
      }
      const ms = performance.now() - started;
      const area = (f: FaceApiResult): number => f.detection.box.width * f.detection.box.height;
      const face = faces.reduce<FaceApiResult | null>((best, f) => (!best || area(f) > area(best) ? f : best), null);
      const female = face ? (face.gender === 'female' ? face.genderProbability : 1 - face.genderProbability) : null;
      records.push({ ...label, faces: faces.length, predictedAge: face?.age ?? null, femaleProbability: female, predictedGender: face?.gender ?? null, ms, error: null });
    } catch (error) {
      records.push({ ...label, faces: 0, predictedAge: null, femaleProbability: null, predictedGender: null, ms: null, error: error instanceof Error ? error.message : String(error) });
    }
    if (records.length % 250 === 0 || records.length === labels.length) console.error(`face-api: ${records.length}/${labels.length} (${load()})`);
  }
  return records;
}

if (wanted.has('faceapi')) {
  const before = load();
  const labels = spreadSubset(allLabels, faceapiLimit);
  const records = await faceApiRecords(labels);
  const summary = summarisePhotos(records);
  await mkdir(join(out, 'faceapi'), { recursive: true });
  await writeFileAtomic(join(out, 'faceapi', 'records.json'), `${JSON.stringify(records)}\n`);
  rows.push({ name: 'face-api SSD MobileNetV1 (minConfidence 0.3) + AgeGenderNet on TF.js wasm', summary, note: `${before} → ${load()}` });
}

let workersLine: string | null = null;
const workers = options.workers;
if (workers > 1 && wanted.has('ours')) {
  // predictFiles on the same photos in-process (1) and on `workers` workers, one after the other: photos/s
  // with model loading included, and in steady state (first result → last, loading excluded).
  const files = spreadSubset(allLabels, Math.min(options.workersPhotos, limit ?? Infinity)).map((l) => join(dir, l.file));
  const lines: string[] = [];
  for (const w of [1, workers]) {
    const stamps: number[] = [];
    const s = await predictFiles(files, { workers: w, onResult: () => stamps.push(performance.now()), ...(values.model ? { modelDir: values.model } : {}) });
    const steady = (stamps.length - 1) / ((stamps.at(-1)! - stamps[0]!) / 1000);
    lines.push(`workers ${w}: ${(s.files / s.seconds).toFixed(2)} photos/s with model loading, ${steady.toFixed(2)} photos/s in steady state`);
  }
  workersLine = `predictFiles on ${files.length} photos [${load()}]: ${lines.join('; ')}`;
}

const pct = (v: number | null, d = 1): string => (v === null ? '–' : `${(v * 100).toFixed(d)}%`);
const fix = (v: number | null, d = 2): string => (v === null ? '–' : v.toFixed(d));
const signed = (v: number | null): string => (v === null ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}`);
if (rows.length > 0) console.log(`${new Date().toISOString().slice(0, 10)}; photos: ${dir}; labels: ${labelsPath}\n`);
if (rows.length > 0) console.log('| model | photos | faces found | age MAE | CS@5 | CS@8 | gender acc (answered) | coverage | median ms/photo | note |');
if (rows.length > 0) console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const { name, summary: s, note } of rows) {
  console.log(`| ${name} | ${s.photos} | ${pct(s.found.share)} (${s.found.count}) | ${fix(s.age.mae)} | ${pct(s.age.cs5)} | ${pct(s.age.cs8)} | ${pct(s.gender.accuracy)} | ${pct(s.gender.coverage)} | ${fix(s.ms.median, 0)} | ${note} |`);
}
if (rows.length > 0) {
  const decades = rows[0]!.summary.byDecade.filter((d) => rows.some((r) => r.summary.byDecade.find((x) => x.decade === d.decade)!.count > 0));
  console.log(`\nSigned age error (predicted − labelled, years) by decade of the labelled age, on the faces found:\n`);
  console.log(`| model | ${decades.map((d) => d.decade).join(' | ')} |\n|---|${decades.map(() => '---').join('|')}|`);
  for (const { name, summary } of rows) {
    const cells = decades.map((d) => {
      const x = summary.byDecade.find((y) => y.decade === d.decade)!;
      return `${signed(x.meanError)} (n ${x.count})`;
    });
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
}
if (workersLine) console.log(`\n${workersLine}`);

let synthetic: unknown = null;
if (values.synthetic !== undefined || values.chips !== undefined) {
  const { runSyntheticBench } = await import('./synthetic.js');
  synthetic = await runSyntheticBench({
    synthetic: options.synthetic ?? 0,
    chips: options.chips ?? 0,
    ...(values.workspace ? { workspace: values.workspace } : {}),
    ...(values.model ? { modelDir: values.model } : {}),
    split: options.split,
    out: join(out, 'synthetic'),
    log: (line: string) => console.log(line),
  });
}
await writeFileAtomic(join(out, 'summary.json'), `${JSON.stringify({ date: new Date().toISOString(), dir, labels: labelsPath, rows, workers: workersLine, synthetic }, null, 2)}\n`);
