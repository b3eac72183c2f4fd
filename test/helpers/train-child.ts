// Child process for the kill -9 / --resume test: trains on a tiny workspace.
//   node --import tsx test/helpers/train-child.ts <workspace> <out> <cacheDir> [resume]
import { train } from '../../src/train/train.js';

const [workspace, out, cacheDir, resume] = process.argv.slice(2);
await train({ workspace: workspace!, out: out!, cacheDir: cacheDir!, stage1Epochs: 6, epochs: 3, patience: 10, resume: resume === 'resume', score: false, log: () => {} });
