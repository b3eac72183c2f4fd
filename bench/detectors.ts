// Face detectors side by side, in one run: share of photos with a face found (All-Age-Faces dev
// photos, colour and grey; with --synthetic, UTKFace test chips pasted into larger photos, as they are
// and grey), whether the top box lies on the face the shipped YuNet-s finds, false positives per
// face-free image, ms per photo (one thread, median, colour AAF photos).
//   node --conditions=agegender-source --import tsx bench/detectors.ts [--photos 100] [--every 40] [--aaf dir]
//     [--synthetic n --workspace workspace/utk] [--yunet-n file] [--only text]
// Photos: every 40th (--every) AAF file name in sorted order (the dev set; never trained on). Synthetic
// photos: those of `bench:photos -- --synthetic n` (seed 17); a face counts as found there when a box at
// the threshold holds the pasted chip's centre. Face-free
// images: 40 synthetic textures (uniform noise, blurred noise, gradients, checkerboards, stripes;
// seeded) plus test/fixtures/photos/no-face.jpg. Each detector runs once per image at its lowest
// threshold; the higher thresholds are read off the same detections. `--only` keeps the detectors
// whose name contains the text (YuNet-s always runs: it is the reference for "on the face").
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadFaceDetector, loadYunetDetector, type RawImage } from 'agegender';
import { boxCentre, boxHolds } from 'agegender/pipeline';
import { join, resolve } from 'node:path';
import { benchOptions, countOption, existingPath } from './args.js';
import { aafSample, faceFreeImages, grey, syntheticSample } from './detectors-images.js';
import { loadBlazeDetector, loadFaceBoxesDetector, loadTinyFaceDetector, type BenchDetector, type BenchFace } from './detectors-tfjs.js';

const usage = `Usage: node --conditions=agegender-source --import tsx bench/detectors.ts [options]

  --photos <n>        AAF photos (default 100)
  --every <k>         every k-th AAF file name in sorted order (default 40)
  --aaf <dir>         AAF photo folder (default ../shared/datasets/aaf/photos)
  --synthetic <n>     synthetic photos from UTKFace test chips (default 0)
  --workspace <dir>   prepared UTKFace workspace for --synthetic (default workspace/utk)
  --yunet-n <file>    YuNet-n ONNX file (default ../shared/models/yunet/yunet_n_dynamic.onnx)
  --only <text>       only the detectors whose name contains the text (YuNet-s always runs)
  -h, --help          this text`;
const { values, photos, every, syntheticCount, aaf } = benchOptions('bench/detectors.ts', usage, process.argv.slice(2), () => {
  const { values } = parseArgs({
    options: {
      photos: { type: 'string', default: '100' },
      every: { type: 'string', default: '40' },
      synthetic: { type: 'string', default: '0' },
      workspace: { type: 'string', default: 'workspace/utk' },
      aaf: { type: 'string', default: '../shared/datasets/aaf/photos' },
      'yunet-n': { type: 'string', default: '../shared/models/yunet/yunet_n_dynamic.onnx' },
      only: { type: 'string', default: '' },
    },
  });
  const syntheticCount = countOption(values.synthetic, '--synthetic', 0)!;
  if (syntheticCount > 0) existingPath(join(values.workspace, 'manifest.jsonl'), 'prepared UTKFace workspace (--workspace)', 'file');
  return { values, photos: countOption(values.photos, '--photos')!, every: countOption(values.every, '--every')!, syntheticCount, aaf: existingPath(values.aaf, 'AAF photo folder (--aaf)') };
});

interface Candidate {
  name: string;
  /** Thresholds reported, highest first; the detector keeps faces at ≥ the last one. */
  thresholds: number[];
  load?: (min: number) => Promise<BenchDetector>;
  /** Why it was not run (no `load`). */
  skipped?: string;
}

const blaze = (model: string, output = 0) => (min: number) => loadBlazeDetector(model, min, output);
const candidates: Candidate[] = [
  { name: 'YuNet-s (shipped)', thresholds: [0.6], load: () => loadYunetDetector() },
  { name: 'YuNet-n', thresholds: [0.6], load: () => loadYunetDetector({ modelFile: values['yunet-n']! }) },
  { name: 'face-api SSD MobileNetV1 (+ 68-point landmarks)', thresholds: [0.5, 0.3], load: (min) => loadFaceDetector({ detector: 'ssd', minConfidence: min }) },
  { name: 'face-api TinyFaceDetector 224', thresholds: [0.5, 0.3], load: (min) => loadTinyFaceDetector(224, min) },
  { name: 'face-api TinyFaceDetector 320', thresholds: [0.5, 0.3], load: (min) => loadTinyFaceDetector(320, min) },
  { name: 'face-api TinyFaceDetector 416', thresholds: [0.5, 0.3], load: (min) => loadTinyFaceDetector(416, min) },
  { name: 'face-api TinyFaceDetector 608', thresholds: [0.5, 0.3], load: (min) => loadTinyFaceDetector(608, min) },
  { name: 'face-api MTCNN', thresholds: [], skipped: 'not run: @vladmandic/face-api 1.7 ships no MTCNN weights or code (its README: removed as non-functional)' },
  { name: 'Human blazeface-front (128)', thresholds: [0.75, 0.5, 0.2], load: blaze('blazeface-front') },
  { name: 'Human blazeface-back (256)', thresholds: [0.75, 0.5, 0.2], load: blaze('blazeface-back') },
  { name: 'Human facemesh-detection-short (128)', thresholds: [0.75, 0.5, 0.2], load: blaze('facemesh-detection-short') },
  { name: 'Human facemesh-detection-full (192), first output (as Human reads it)', thresholds: [0.75, 0.5, 0.2], load: blaze('facemesh-detection-full', 0) },
  { name: 'Human facemesh-detection-full (192), second output', thresholds: [0.75, 0.5, 0.2], load: blaze('facemesh-detection-full', 1) },
  { name: 'Human faceboxes', thresholds: [0.5, 0.2], load: (min) => loadFaceBoxesDetector(min) },
];

/** The top face's box holds the reference box's centre, and the reference box holds its centre. */
function onFace(faces: readonly BenchFace[], ref: BenchFace | undefined): boolean {
  const top = faces[0];
  if (!top || !ref) return false;
  return boxHolds(top.box, boxCentre(ref.box)) && boxHolds(ref.box, boxCentre(top.box));
}

/** A box at the threshold holds the point (the pasted chip's centre in a synthetic photo). */
const holdsPoint = (faces: readonly BenchFace[], p: { x: number; y: number }): boolean => faces.some((f) => boxHolds(f.box, p));

type ImageSets = Record<'colour' | 'grey' | 'synthetic' | 'syntheticGrey' | 'empty', RawImage[]>;
type Detections = Record<keyof ImageSets, BenchFace[][]> & { ms: number[] };

async function runAll(d: BenchDetector, sets: ImageSets): Promise<Detections> {
  const sorted = (faces: BenchFace[]): BenchFace[] => [...faces].sort((a, b) => b.score - a.score);
  const out: Detections = { colour: [], grey: [], synthetic: [], syntheticGrey: [], empty: [], ms: [] };
  for (const p of sets.colour) {
    const t0 = performance.now();
    out.colour.push(sorted(await d.detect(p)));
    out.ms.push(performance.now() - t0);
  }
  for (const key of ['grey', 'synthetic', 'syntheticGrey', 'empty'] as const) for (const p of sets[key]) out[key].push(sorted(await d.detect(p)));
  return out;
}

const pct = (k: number, n: number): string => `${((100 * k) / n).toFixed(1)}%`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const colour = await aafSample(aaf, photos, every);
const synthetic = syntheticCount > 0 ? await syntheticSample(resolve(values.workspace), syntheticCount) : [];
const sets: ImageSets = { colour, grey: colour.map(grey), synthetic: synthetic.map((s) => s.image), syntheticGrey: synthetic.map((s) => grey(s.image)), empty: await faceFreeImages() };
const n = colour.length;
const ns = synthetic.length;
let reference: BenchFace[][] = [];
console.log(`${n} AAF photos, ${ns} synthetic photos, ${sets.empty.length} face-free images; ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the start`);
const synthHead = ns > 0 ? ` synthetic found (${ns}) | synthetic grey found |` : '';
console.log(`| detector | score ≥ | AAF found (${n}) | on YuNet-s's face | AAF grey found |${synthHead} false positives / face-free image (${sets.empty.length}) | ms / photo (median) |`);
console.log(`|---|---|---|---|---|${ns > 0 ? '---|---|' : ''}---|---|`);
for (const c of candidates) {
  const isReference = c.name.startsWith('YuNet-s');
  if (!isReference && !c.name.includes(values.only!)) continue;
  if (!c.load) {
    console.log(`| ${c.name} | — | ${c.skipped ?? 'not run'} | | |${ns > 0 ? ' | |' : ''} | |`);
    continue;
  }
  const d = await c.load(c.thresholds.at(-1)!);
  const r = await runAll(d, sets);
  d.dispose();
  if (isReference) reference = r.colour.map((f) => f.filter((x) => x.score >= c.thresholds[0]!));
  for (const t of c.thresholds) {
    const keep = (faces: BenchFace[]): BenchFace[] => faces.filter((f) => f.score >= t);
    const found = r.colour.filter((f) => keep(f).length > 0).length;
    const on = r.colour.filter((f, i) => onFace(keep(f), reference[i]?.[0])).length;
    const greyFound = r.grey.filter((f) => keep(f).length > 0).length;
    const fp = r.empty.reduce((s, f) => s + keep(f).length, 0);
    const synthFound = (faces: BenchFace[][]): number => faces.filter((f, i) => holdsPoint(keep(f), synthetic[i]!.centre)).length;
    const synthCells = ns > 0 ? ` ${pct(synthFound(r.synthetic), ns)} | ${pct(synthFound(r.syntheticGrey), ns)} |` : '';
    console.log(`| ${c.name} | ${t} | ${pct(found, n)} | ${pct(on, n)} | ${pct(greyFound, n)} |${synthCells} ${(fp / sets.empty.length).toFixed(3)} | ${median(r.ms).toFixed(1)} |`);
  }
}
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`);
