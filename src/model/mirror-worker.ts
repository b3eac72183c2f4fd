/**
 * Worker thread body for {@link MirrorHelper}: builds the same network from the weights it is sent
 * (`workerData`), then answers `{ id, data, shape }` (preprocessed mirror images) with the softmax
 * outputs `{ id, ageProbs, genderProbs }` or `{ id, error }`. With flip test-time augmentation on
 * the single-threaded wasm backend, the mirror half of each batch runs here, on another core.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend.js';
import { AgeGenderNet } from './net.js';

export interface MirrorWorkerData {
  weights: Array<{ name: string; shape: number[]; data: Float32Array }>;
  cutPoint: string;
}

const port = parentPort;
if (!port) throw new Error('mirror-worker must run in a worker thread');
const init = workerData as MirrorWorkerData;
const backend = await initBackend();
const named: tf.NamedTensorMap = Object.fromEntries(init.weights.map((w) => [w.name, tf.tensor(w.data, w.shape, 'float32')]));
const net = new AgeGenderNet(named, { cutPoint: init.cutPoint });
tf.dispose(Object.values(named));

port.on('message', (msg: { id: number; data: Float32Array; shape: [number, number, number, number] } | 'close') => {
  if (msg === 'close') {
    net.dispose();
    port.close();
    return;
  }
  try {
    const [age, gender] = tf.tidy(() => {
      const o = net.forwardPreprocessed(tf.tensor4d(msg.data, msg.shape));
      return [tf.softmax(o.ageLogits), tf.softmax(o.genderLogits)];
    });
    const ageProbs = age.dataSync() as Float32Array;
    const genderProbs = gender.dataSync() as Float32Array;
    tf.dispose([age, gender]);
    port.postMessage({ id: msg.id, ageProbs, genderProbs }); // copied: small, and a backend's own storage is never detached
  } catch (error) {
    port.postMessage({ id: msg.id, error: error instanceof Error ? error.message : String(error) });
  }
});
port.postMessage({ ready: true, backend: backend.backend });
