// Warms the feature cache for every chip in the given folders, or for the kept train + val rows of
// a workspace manifest (one shard of them):
//   node --conditions=agegender-source --import tsx scripts/model-extract.ts <cacheDir> <shard>/<shards> <folder>...
//   node --conditions=agegender-source --import tsx scripts/model-extract.ts <cacheDir> <shard>/<shards> --manifest <workspace>
// <cacheDir> is the folder `train` reads: <workspace>/cache/features unless `train` is given another.
// Options (before the folders): --no-mirror, --jitter (the two jittered copies `train --jitter` reads,
// for the train rows only with --manifest), --photo (the two photo-like copies `train --photo-augment` reads, likewise), --cut-point conv256_1|conv256_down|conv128_2|conv128_1 (as `train --cut-point`;
// default: train's default, so the cache it warms is the one `train` reads).
// `agegender train` computes whatever is missing itself; this only lets it run ahead, in parallel.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from 'agegender/workspace';
import { initBackend } from 'agegender/model';
import { FaceRecEncoder, loadFaceApiWeights } from 'agegender/model';
import { ensureFeatures } from 'agegender/train';
import { TRAIN_DEFAULTS } from 'agegender/train';

const args = process.argv.slice(2);
const mirror = !args.includes('--no-mirror');
const jitter = args.includes('--jitter');
const photo = args.includes('--photo');
const augmented = jitter || photo;
const cutAt = args.indexOf('--cut-point');
const cutPoint = cutAt >= 0 ? args[cutAt + 1] : TRAIN_DEFAULTS.cutPoint;
const [cacheDir, shardSpec, ...folders] = args.filter((a, i) => a !== '--no-mirror' && a !== '--jitter' && a !== '--photo' && (cutAt < 0 || (i !== cutAt && i !== cutAt + 1)));
if (!cacheDir || !shardSpec || folders.length === 0) throw new Error('usage: model-extract <cacheDir> k/n <folder>...');
const [k, n] = shardSpec.split('/').map(Number) as [number, number];
await initBackend({ verbose: true });
const enc = new FaceRecEncoder(await loadFaceApiWeights(), { cutPoint });
console.log(`cut point ${enc.layout.cutPoint}`);
const files =
  folders[0] === '--manifest'
    ? (await readManifest(folders[1]!)).filter((r) => r.status === 'kept' && (r.split === 'train' || (!augmented && r.split === 'val'))).map((r) => r.source)
    : folders.flatMap((f) => readdirSync(f).filter((x) => x.endsWith('.jpg')).sort().map((x) => join(f, x)));
const mine = files.filter((_, i) => i % n === k).map((source) => ({ source }));
const t0 = Date.now();
let last = 0;
await ensureFeatures(enc, mine, cacheDir, {
  mirror,
  variants: photo ? 'photo' : jitter ? 'jitter' : 'mirror',
  onProgress: (p) => {
    if (p.done - last >= 500 || p.done === p.total) {
      last = p.done;
      console.log(`${new Date().toISOString()} shard ${k}/${n} ${p.done}/${p.total} computed ${p.computed} ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    }
  },
});
console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
