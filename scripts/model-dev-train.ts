// Dev run: a workspace made from file names (before `agegender prepare` exists), then train().
//   node --import tsx scripts/model-dev-train.ts <workspace> <n> <out> [stage2Epochs]
import { makeWorkspace } from '../test/unit/train-fixtures.js';
import { train } from '../src/train/train.js';

const [ws, n, out, e] = process.argv.slice(2);
await makeWorkspace(ws!, Number(n));
const r = await train({ workspace: ws!, out: out!, epochs: Number(e ?? 2), cacheDir: 'workspace/utk/cache/features', stage1Epochs: 10 });
console.log(JSON.stringify(r.metrics, null, 1).slice(0, 1500));
