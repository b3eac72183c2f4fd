// Weight averaging ("model soup", Wortsman et al. 2022) of models fine-tuned from the same
// pretrained encoder with the same seed (so the heads start from the same weights): every tensor is
// the weighted mean of the ingredients' tensors. Same topology and cost as one model. The result is a
// model folder whose metrics are the first ingredient's until `agegender tune --no-test` is run on it.
//   node --conditions=agegender-source --import tsx experiments/soup.ts \
//     --out workspace/utk/exp/soup-a models/default workspace/utk/exp/cons1-jitter-e5 [--weights 0.5,0.5]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeHalf, initBackend, MODEL_FILES, readModelFolder } from 'agegender/model';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, weights: { type: 'string' } },
});
if (!values.out || positionals.length < 2) throw new Error('usage: soup.ts --out <dir> <model> <model> [...] [--weights a,b,...]');
const weights = values.weights ? values.weights.split(',').map(Number) : positionals.map(() => 1 / positionals.length);
if (weights.length !== positionals.length || weights.some((w) => !Number.isFinite(w) || w < 0)) throw new Error('--weights: one non-negative number per model');
const total = weights.reduce((a, b) => a + b, 0);

await initBackend();
const folders = await Promise.all(positionals.map((dir) => readModelFolder(dir)));
const first = folders[0]!;
const manifest = JSON.stringify(first.modelJson.weightsManifest);
for (const [i, f] of folders.entries()) {
  if (JSON.stringify(f.modelJson.weightsManifest) !== manifest) throw new Error(`${positionals[i]}: its weights manifest differs from ${positionals[0]}`);
  if (JSON.stringify(f.modelJson.modelTopology) !== JSON.stringify(first.modelJson.modelTopology)) throw new Error(`${positionals[i]}: its topology differs`);
}
const parts: Uint16Array[] = [];
for (const spec of first.modelJson.weightsManifest[0]!.weights) {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const mean = new Float32Array(size);
  for (const [i, f] of folders.entries()) {
    const values = f.weights[spec.name]!.dataSync();
    const w = weights[i]! / total;
    for (let k = 0; k < size; k++) mean[k]! += w * values[k]!;
  }
  parts.push(encodeHalf(mean));
}
const bytes = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
let off = 0;
for (const p of parts) {
  bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
  off += p.byteLength;
}
const out = resolve(values.out);
await mkdir(out, { recursive: true });
const name = out.split('/').at(-1)!;
const command = `node --conditions=agegender-source --import tsx experiments/soup.ts --out ${values.out} ${positionals.join(' ')} --weights ${weights.join(',')}`;
const { inference: _inference, ...metadata } = first.metadata as unknown as Record<string, unknown>;
await writeFile(join(out, MODEL_FILES.weights), bytes);
await writeFile(join(out, MODEL_FILES.model), JSON.stringify(first.modelJson));
await writeFile(join(out, MODEL_FILES.metadata), JSON.stringify({ ...metadata, name, command, createdAt: new Date().toISOString(), soup: { ingredients: positionals, weights } }, null, 2));
await writeFile(join(out, MODEL_FILES.metrics), await readFile(join(positionals[0]!, MODEL_FILES.metrics)));
console.log(`${name}: ${positionals.length} ingredients, weights ${weights.join(', ')} → ${out}`);
