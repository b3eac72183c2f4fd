// Loads a TF.js graph model (model.json + weight shards) from files, for the npm-shipped competitor
// and probe models (bench/models.ts, experiments/encoder-probe.ts): tf.loadGraphModel wants a URL or handler.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export async function graphModel(jsonPath: string): Promise<tf.GraphModel> {
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as { modelTopology: object; weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  const bins = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(join(dirname(jsonPath), p))));
  const all = Buffer.concat(bins);
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer }));
}
