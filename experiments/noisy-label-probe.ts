// Does dropping training faces whose labels look wrong help? A throw-away probe, never shipped.
//   1. folds:  node --conditions=agegender-source --import tsx experiments/noisy-label-probe.ts folds <workspace> <out-root>
//      writes <out-root>/fold0 and fold1: the same manifest, with one seeded half of the train rows
//      as `val` (the real val and test as `test`) and the feature cache linked. Then, for k = 0, 1:
//        agegender train --workspace <out-root>/fold<k> --out <out-root>/fold<k>/exp/s1 --epochs 0 --no-score --cut-point conv128_1
//        agegender evaluate --model <out-root>/fold<k>/exp/s1 --workspace <out-root>/fold<k> --split val --replicates 50
//      so every training face gets an age error from a head that did not train on it.
//   2. filter: node --conditions=agegender-source --import tsx experiments/noisy-label-probe.ts filter <workspace> <out-root> <fraction>
//      writes <out-root>/drop-abs-<pct> (the largest cross-fitted errors) and drop-rel-<pct> (the largest
//      relative to their age bucket's mean error), with those train rows marked as dropped; train stage 1
//      on each (`--epochs 0`) and compare its best val MAE with the unfiltered workspace's.
// Inputs are only read; each manifest is written atomically.
import { symlink, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from 'agegender/core';
import { mulberry32, shuffleInPlace } from 'agegender/core';
import type { ManifestRow } from 'agegender/core';
import { ageBucket } from 'agegender/data';
import { manifestToJsonl, readManifest } from 'agegender/workspace';
import { parsePredictionsCsv } from 'agegender/eval';

const [command, workspace, outRoot, fractionText] = process.argv.slice(2);
if (!command || !workspace || !outRoot || !['folds', 'filter'].includes(command)) throw new Error('usage: noisy-label-probe folds|filter <workspace> <out-root> [fraction]');
const rows = await readManifest(workspace);
const isTrain = (r: ManifestRow): boolean => r.status === 'kept' && r.split === 'train';

async function writeWorkspace(name: string, edited: ManifestRow[]): Promise<void> {
  const dir = join(outRoot!, name);
  await mkdir(dir, { recursive: true });
  if (!existsSync(join(dir, 'cache'))) await symlink(resolve(workspace!, 'cache'), join(dir, 'cache'));
  await writeFileAtomic(join(dir, 'manifest.jsonl'), manifestToJsonl(edited));
  console.log(`wrote ${dir}`);
}

if (command === 'folds') {
  const train = rows.flatMap((r, i) => (isTrain(r) ? [i] : []));
  const half = new Map(shuffleInPlace([...train], mulberry32(5)).map((i, k) => [i, k % 2]));
  for (const fold of [0, 1]) {
    const edited = rows.map((r, i): ManifestRow => (r.status !== 'kept' ? r : { ...r, split: isTrain(r) ? (half.get(i) === fold ? 'val' : 'train') : 'test' }));
    await writeWorkspace(`fold${fold}`, edited);
  }
} else {
  const fraction = Number(fractionText);
  if (!(fraction > 0 && fraction < 1)) throw new Error(`Expected a fraction between 0 and 1 but received ${fractionText}`);
  const predictions = (await Promise.all([0, 1].map(async (k) => parsePredictionsCsv(await readFile(join(outRoot, `fold${k}`, 'evaluation', 'val', 'predictions.csv'), 'utf8'))))).flat();
  const error = new Map(predictions.map((p) => [p.source, { abs: Math.abs(p.predictedAge - p.age), bucket: ageBucket(p.age) }]));
  const train = rows.filter(isTrain);
  const missing = train.filter((r) => !error.has(r.source)).length;
  if (missing) throw new Error(`${missing} training rows have no cross-fitted prediction: run both folds first`);
  const bucketErrors = new Map<string, number[]>();
  for (const { abs, bucket } of error.values()) {
    const errors = bucketErrors.get(bucket);
    if (errors) errors.push(abs);
    else bucketErrors.set(bucket, [abs]);
  }
  const bucketMae = new Map([...bucketErrors].map(([b, e]) => [b, e.reduce((s, x) => s + x, 0) / e.length]));
  const count = Math.round(train.length * fraction);
  const ranked = {
    abs: (r: ManifestRow): number => error.get(r.source)!.abs,
    rel: (r: ManifestRow): number => error.get(r.source)!.abs / bucketMae.get(error.get(r.source)!.bucket)!,
  };
  for (const [name, score] of Object.entries(ranked)) {
    const dropped = new Set([...train].sort((a, b) => score(b) - score(a)).slice(0, count).map((r) => r.source));
    const edited = rows.map((r): ManifestRow => (dropped.has(r.source) && isTrain(r) ? { ...r, status: 'conflict', reason: 'probe: dropped as a likely label error' } : r));
    await writeWorkspace(`drop-${name}-${Math.round(fraction * 100)}`, edited);
  }
}
