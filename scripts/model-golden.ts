// Records the shipped model's predictions on a few fixed chips into test/golden/model-predictions.json.
//   AGEGENDER_RUNTIME=tfjs node --conditions=agegender-source --import tsx scripts/model-golden.ts [modelDir]   (recorded on tfjs wasm)
// Chips: the repo fixture plus four UTKFace chips from the test split (named, resolved at test time).
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel } from 'agegender/model';

export const GOLDEN_UTK = ['25_0_0_20170102233320979.jpg.chip.jpg', '80_0_0_20170111211457352.jpg.chip.jpg', '1_0_3_20161219224941016.jpg.chip.jpg', '29_1_2_20170104021748445.jpg.chip.jpg', '58_1_1_20170120133757255.jpg.chip.jpg'];

/** The UTKFace chips folder: $AGEGENDER_UTKFACE_DIR (the folder holding UTKFace/, or the chips themselves) or ../shared/datasets/utkface. */
function utkfaceChips(): string {
  const dir = process.env['AGEGENDER_UTKFACE_DIR'] ?? resolve(process.cwd(), '../shared/datasets/utkface');
  const chips = existsSync(join(dir, 'UTKFace')) ? join(dir, 'UTKFace') : dir;
  if (!existsSync(chips)) throw new Error(`UTKFace not found at ${dir}: set AGEGENDER_UTKFACE_DIR to a folder holding UTKFace chips`);
  return chips;
}

const model = await loadModel(process.argv[2]);
const inputs = [{ id: 'fixture:chip-35-male.jpg', path: 'test/fixtures/photos/chip-35-male.jpg' }, ...GOLDEN_UTK.map((n) => ({ id: `utkface:${n}`, path: join(utkfaceChips(), n) }))];
const out = [];
for (const i of inputs) out.push({ id: i.id, prediction: await model.predict(i.path) });
await writeFile('test/golden/model-predictions.json', `${JSON.stringify({ model: model.metadata.name, createdAt: model.metadata.createdAt, datasetManifestHash: model.metadata.datasetManifestHash, genderThreshold: model.genderThreshold, predictions: out }, null, 2)}\n`);
model.dispose();
console.log(JSON.stringify(out, null, 1));
