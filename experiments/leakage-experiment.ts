// How much a per-image random split (what the reference notebook did) flatters the score, measured.
// One pool: every labelled file of the UTKFace folder as downloaded, copies, near-identical frames
// and conflicting labels included, as the notebook had them. It is split twice with the same seed,
// fractions and stratification: image by image, and in groups of near-duplicates (within prepare's
// group distance, 6). The same training runs on each; each is scored on its own val split.
//   node --conditions=agegender-source --import tsx experiments/leakage-experiment.ts --workspace workspace/utk --out workspace/leakage [--epochs 0] [--cut-point conv128_2] [--kind per-image|grouped]
// `--epochs 0` (the default) trains stage 1 only (frozen encoder, head on cached features). `--kind`
// runs one of the two splits only (two processes can then train them side by side, one per core);
// each writes its own `leakage-<kind>.json`.
// Throw-away models: they train on files of the project's test split, and are never shipped.
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic, writeJsonAtomic } from 'agegender/core';
import { countBy } from 'agegender/core';
import { DEFAULTS } from 'agegender/core';
import type { ManifestRow, SplitName } from 'agegender/core';
import { manifestToJsonl, readManifest } from 'agegender/workspace';
import { assignSplits, crossSplitNearPairs } from 'agegender/data';
import { isCutPoint } from 'agegender/model';
import { train } from 'agegender/train';

const { values } = parseArgs({
  options: {
    workspace: { type: 'string', default: 'workspace/utk' },
    out: { type: 'string', default: 'workspace/leakage' },
    folder: { type: 'string', default: 'UTKFace' },
    epochs: { type: 'string', default: '0' },
    'cut-point': { type: 'string', default: 'conv128_2' },
    seed: { type: 'string', default: '42' },
    kind: { type: 'string' },
  },
});
const KINDS = [['per-image', null], ['grouped', DEFAULTS.prepare.groupDistance]] as const;
if (values.kind !== undefined && !KINDS.some(([k]) => k === values.kind)) throw new Error(`unknown --kind ${values.kind}: per-image or grouped`);
const cutPoint = values['cut-point']!;
if (!isCutPoint(cutPoint)) throw new Error(`unknown --cut-point ${cutPoint}`);
const epochs = Number(values.epochs);
const seed = Number(values.seed);
const GROUP_DISTANCE = DEFAULTS.prepare.groupDistance;
/** Val files with a train file this close count as leaked (prepare's audit distance). */
const AUDIT_DISTANCE = DEFAULTS.prepare.auditDistance;

const source = resolve(values.workspace!);
const pool = (await readManifest(source)).filter(
  (r) => basename(dirname(r.source)) === values.folder && r.age !== null && r.gender !== null && r.ethnicity !== null && r.phash !== null,
);
if (pool.length === 0) throw new Error(`no labelled rows from a folder named ${values.folder} in ${source}/manifest.jsonl`);
console.log(`pool: ${pool.length} labelled files of ${values.folder}/ (statuses in the source workspace: ${JSON.stringify(countBy(pool, (r) => r.status))})`);

const command = `node --conditions=agegender-source --import tsx experiments/leakage-experiment.ts ${process.argv.slice(2).join(' ')}`.trim();
const results: Record<string, unknown>[] = [];
for (const [kind, groupDistance] of KINDS.filter(([k]) => values.kind === undefined || k === values.kind)) {
  const split = assignSplits(
    pool.map((r) => ({ labels: { age: r.age!, gender: r.gender!, ethnicity: r.ethnicity! }, phash: r.phash! })),
    { fractions: [0.7, 0.15, 0.15], seed, groupDistance },
  );
  const rows: ManifestRow[] = pool.map((r, i) => ({ ...r, status: 'kept', reason: '', split: split.splits[i]! }));
  const leak = valLeak(rows);
  console.log(`${kind}: ${JSON.stringify(countBy(rows, (r) => r.split ?? ''))}; val files with a train file within ${GROUP_DISTANCE}: ${leak.near}, within ${AUDIT_DISTANCE}: ${leak.audit}, with an identical pHash: ${leak.identical}`);
  const ws = join(resolve(values.out!), kind);
  await mkdir(ws, { recursive: true });
  await writeFileAtomic(join(ws, 'manifest.jsonl'), manifestToJsonl(rows));
  const result = await train({
    workspace: ws,
    out: join(ws, 'model'),
    cacheDir: join(source, 'cache', 'features'),
    epochs,
    cutPoint,
    seed,
    score: false,
    resume: true,
    command,
  });
  const meta = JSON.parse(await readFile(join(ws, 'model', 'metadata.json'), 'utf8')) as { training: { history: Array<Record<string, number>> } };
  const best = bestOf(meta.training.history);
  results.push({ kind, split: countBy(rows, (r) => r.split ?? ''), valLeak: leak, best, seconds: result.timings });
  console.log(`${kind}: best val (stage ${best.stage}, epoch ${best.epoch}) MAE ${best.valMae.toFixed(3)}, CS@8 ${(100 * best.valCs8).toFixed(2)}%, gender ${(100 * best.valGenderAccuracy).toFixed(2)}%`);
}
await writeJsonAtomic(join(resolve(values.out!), values.kind === undefined ? 'leakage.json' : `leakage-${values.kind}.json`), { command, pool: pool.length, epochs, cutPoint, seed, groupDistance: GROUP_DISTANCE, auditDistance: AUDIT_DISTANCE, results });

/** Val files that have a near-duplicate (and an identical pHash) among the training files. */
function valLeak(rows: readonly ManifestRow[]): { near: number; audit: number; identical: number; val: number } {
  const idx = rows.map((r, i) => (r.split === 'train' || r.split === 'val' ? i : -1)).filter((i) => i >= 0);
  const splits = idx.map((i) => rows[i]!.split as SplitName);
  const pairs = crossSplitNearPairs(idx.map((i) => rows[i]!.phash!), splits, AUDIT_DISTANCE);
  const [near, audit, identical] = [new Set<number>(), new Set<number>(), new Set<number>()];
  for (const p of pairs) {
    const v = splits[p.a] === 'val' ? p.a : p.b;
    audit.add(v);
    if (p.distance <= GROUP_DISTANCE) near.add(v);
    if (p.distance === 0) identical.add(v);
  }
  return { near: near.size, audit: audit.size, identical: identical.size, val: splits.filter((s) => s === 'val').length };
}

/** The epoch the run kept: lowest val MAE over both stages. */
function bestOf(history: ReadonlyArray<Record<string, number>>): { stage: number; epoch: number; valMae: number; valCs8: number; valGenderAccuracy: number } {
  const best = [...history].sort((a, b) => a['valMae']! - b['valMae']!)[0]!;
  return { stage: best['stage']!, epoch: best['epoch']!, valMae: best['valMae']!, valCs8: best['valCs8']!, valGenderAccuracy: best['valGenderAccuracy']! };
}
