// LIME benchmark: 1,000 samples on one 200×200 chip (target ≤ 20 s) and top-5 agreement across 3 seeds
// (target ≥ 0.8). Uses the shipped model (or AGEGENDER_MODEL) and a UTKFace chip (or AGEGENDER_BENCH_IMAGE).
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AgeGenderError } from 'agegender/core';
import { prepareChip } from 'agegender/explain';
import { lime, topKAgreement } from 'agegender/explain';
import { slic } from 'agegender/explain';
import { loadModelFrom } from 'agegender/model';
import { createPredictPool, defaultWorkerCount } from 'agegender/pipeline';
import { pooledModel } from 'agegender/pipeline';
import { benchOptions, countOption, existingPath } from './args.js';

// --workers N scores LIME's perturbed images on N worker threads. Default: in-process when the model
// runs on onnxruntime (its own threads use every core), one worker per core on tfjs wasm (single-threaded).
const usage = `Usage: npm run bench:explain -- [--workers <n>]

  --workers <n>   score LIME's perturbed images on n worker threads (default: in-process on
                  onnxruntime, one worker per core on tfjs wasm)
  -h, --help      this text

Environment: AGEGENDER_MODEL (model folder), AGEGENDER_BENCH_IMAGE (the chip), AGEGENDER_UTKFACE_DIR
(dataset, default ../shared/datasets/utkface; its 101st chip when AGEGENDER_BENCH_IMAGE is unset).`;
const { workersOption, image } = benchOptions('bench:explain', usage, process.argv.slice(2), () => {
  const { values } = parseArgs({ options: { workers: { type: 'string' } } });
  const bench = process.env.AGEGENDER_BENCH_IMAGE;
  let image = bench === undefined ? undefined : existingPath(bench, 'chip (AGEGENDER_BENCH_IMAGE)', 'file');
  if (image === undefined) {
    const utk = existingPath(resolve(process.env.AGEGENDER_UTKFACE_DIR ?? resolve(process.cwd(), '../shared/datasets/utkface'), 'UTKFace'), 'UTKFace chips (AGEGENDER_UTKFACE_DIR)');
    const chip = readdirSync(utk).filter((f) => f.endsWith('.jpg')).sort()[100];
    if (chip === undefined) throw new AgeGenderError('INVALID_ARGUMENT', 'UTKFace chips (AGEGENDER_UTKFACE_DIR): fewer than 101 .jpg files', { subject: utk });
    image = join(utk, chip);
  }
  return { workersOption: countOption(values.workers, '--workers'), image };
});
const local = await loadModelFrom(process.env.AGEGENDER_MODEL);
const workers = workersOption ?? (local.runtime.startsWith('onnxruntime') ? 1 : defaultWorkerCount());
const pool = workers > 1 ? await createPredictPool({ modelDir: process.env.AGEGENDER_MODEL, workers }) : null;
const model = pool ? pooledModel(local, pool) : local;
console.log(`scoring on ${model.runtime}${pool ? '' : ', in-process'}`);
try {
  const chip = await prepareChip(image);
  const w0 = performance.now();
  await model.scoreRaw(Array.from({ length: 50 }, () => chip)); // warm-up, and the model's own speed
  console.log(`model: ${((performance.now() - w0) / 50).toFixed(1)} ms per image in a batch of 50 (first call, includes warm-up)`);
  const segmentation = slic(chip);
  const results = [];
  const times = [];
  for (const seed of [1, 2, 3]) {
    const t0 = performance.now();
    results.push(await lime(model, chip, { task: 'age', samples: 1000, seed, segmentation }));
    times.push((performance.now() - t0) / 1000);
    console.log(`seed ${seed}: ${times.at(-1)!.toFixed(2)} s, top-5 [${results.at(-1)!.top.join(', ')}], local R² ${results.at(-1)!.r2.toFixed(3)}`);
  }
  const agreement = topKAgreement(results.map((r) => r.top));
  const best = Math.min(...times);
  console.log(`image: ${image}`);
  console.log(`superpixels: ${segmentation.count}`);
  console.log(`LIME 1000 samples: ${times.map((t) => `${t.toFixed(2)} s`).join(', ')} (best ${best.toFixed(2)} s; target ≤ 20 s: ${best <= 20 ? 'PASS' : 'FAIL'})`);
  console.log(`top-5 per seed: ${results.map((r) => `[${r.top.join(', ')}]`).join(' ')}`);
  console.log(`top-5 agreement across 3 seeds: ${agreement.toFixed(3)} (target ≥ 0.8: ${agreement >= 0.8 ? 'PASS' : 'FAIL'})`);
} finally {
  model.dispose();
  await pool?.close();
}
