// `agegender predict --no-detect` throughput (predictFiles, without the printing) on 1,000 UTKFace chips in one call (target ≥ 50
// images/s), on the default runtime (onnxruntime-node, with the model's flip TTA) and on tfjs wasm
// (on 1 and N worker threads, it is single-threaded in Node; without TTA and with it); then photos with detection.
//   npm run bench:predict   (AGEGENDER_MODEL: model folder; AGEGENDER_UTKFACE_DIR: dataset;
//   BENCH_PREDICT_N: chips, default 1000)
// Uses the shipped model when it exists; otherwise it saves the same network with an untrained head
// (same compute, so the same speed) to a temporary folder, and says so.
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { predictFiles } from 'agegender/pipeline';
import { defaultWorkerCount } from 'agegender/pipeline';
import { benchOptions, countEnv, existingPath } from './args.js';

const usage = `Usage: npm run bench:predict   (no options; -h, --help: this text)

Environment: BENCH_PREDICT_N (chips, default 1000), AGEGENDER_UTKFACE_DIR (dataset, default
../shared/datasets/utkface), AGEGENDER_MODEL (model folder, default the shipped model).`;
const { N, utk } = benchOptions('bench:predict', usage, process.argv.slice(2), () => {
  parseArgs({ options: {} });
  const dataset = resolve(process.env['AGEGENDER_UTKFACE_DIR'] ?? resolve(process.cwd(), '../shared/datasets/utkface'), 'UTKFace');
  return { N: countEnv('BENCH_PREDICT_N', 1000), utk: existingPath(dataset, 'UTKFace chips (AGEGENDER_UTKFACE_DIR)') };
});

const mod = await import('agegender/model');
let modelDir = resolve(process.env['AGEGENDER_MODEL'] ?? mod.defaultModelDir());
let temp: string | null = null;
if (!existsSync(join(modelDir, 'model.json'))) {
  await mod.initBackend();
  const { AgeGenderNet } = await import('agegender/model');
  const { loadFaceApiWeights } = await import('agegender/model');
  const { saveModel } = await import('agegender/model');
  temp = await mkdtemp(join(tmpdir(), 'agegender-bench-model-'));
  const net = new AgeGenderNet(await loadFaceApiWeights());
  await saveModel(net, temp, { formatVersion: 1, name: 'untrained', encoder: 'faceapi-facerec-resnet34', inputSize: 200, createdAt: new Date().toISOString(), command: 'bench', datasetManifestHash: null, metrics: {} });
  net.dispose();
  console.log(`model: none at ${modelDir}; using the same network with an untrained head (same compute), saved to ${temp}`);
  modelDir = temp;
} else {
  console.log(`model: ${modelDir}`);
}

try {
  const all = readdirSync(utk).filter((f) => f.endsWith('.jpg')).sort();
  const step = Math.max(1, Math.floor(all.length / N));
  const files = all.filter((_f, i) => i % step === 0).slice(0, N).map((f) => join(utk, f));
  // The CPU may be shared: the 1-minute load average says how much these figures can be trusted.
  const load = (): string => ` (load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores)`;
  // The default runtime (onnxruntime-node when installed) with the model's settings, in one process; then
  // tfjs wasm, single-threaded in Node, so on 1 and N worker threads, without TTA and with it (in-process,
  // TTA puts the mirror images on a worker thread when a core is free).
  type Run = { runtime: 'auto' | 'tfjs'; workers: number; tta: boolean };
  const tfjsWorkers = [...new Set([1, defaultWorkerCount()])];
  const runs: Run[] = [{ runtime: 'auto', workers: 1, tta: true }, ...[false, true].flatMap((tta) => tfjsWorkers.map((workers) => ({ runtime: 'tfjs' as const, workers, tta })))];
  for (const { runtime, workers, tta } of runs) {
    process.env['AGEGENDER_RUNTIME'] = runtime; // read by loadModel, here and in the worker threads
    const s = await predictFiles(files, { detect: false, modelDir, workers, load: tta ? {} : { flipTta: false } });
    const ips = s.files / s.seconds;
    const flags = `--runtime ${runtime}${tta ? '' : ' --no-tta'} --workers ${workers}`;
    console.log(`predict --no-detect ${flags} [${s.runtime}]: ${s.files} chips in ${s.seconds.toFixed(2)} s = ${ips.toFixed(1)} images/s, model loading included (target ≥ 50: ${ips >= 50 ? 'PASS' : 'FAIL'}); ${s.failed} failed, ${s.faces} predictions${load()}`);
  }
  delete process.env['AGEGENDER_RUNTIME'];
  const photos = ['three-faces.jpg', 'many-faces.jpg', 'no-face.jpg'].map((f) => join('test', 'fixtures', 'photos', f));
  const model = await mod.loadModel(modelDir);
  const { loadFaceDetector } = await import('agegender/pipeline');
  const detector = await loadFaceDetector();
  try {
    await predictFiles(photos.slice(0, 1), { model, detector }); // warm-up
    const d = await predictFiles(photos, { model, detector });
    console.log(`predict with detection + alignment: ${d.files} photos, ${d.faces} faces in ${d.seconds.toFixed(2)} s = ${(d.files / d.seconds).toFixed(2)} photos/s${load()}`);
  } finally {
    detector.dispose();
    model.dispose();
  }
} finally {
  if (temp) await rm(temp, { recursive: true, force: true });
}
