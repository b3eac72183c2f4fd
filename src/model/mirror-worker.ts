/**
 * Worker thread body for {@link MirrorHelper}: builds the same network from the weights it is sent
 * (`workerData`), then answers each `{ data, shape }` (preprocessed mirror images) with the
 * softmax outputs `{ ageProbs, genderProbs }` (the protocol is core/worker.ts's `serveRequests`).
 * With flip test-time augmentation on the single-threaded wasm backend, the mirror half of each
 * batch runs here, on another core.
 */
import { workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { serveRequests } from '../core/worker.js';
import { initBackend } from './backend.js';
import { AgeGenderNet } from './net.js';

export interface MirrorWorkerData {
  weights: Array<{ name: string; shape: number[]; data: Float32Array }>;
  cutPoint: string;
}

/** Preprocessed mirror images. */
export interface MirrorRequest {
  data: Float32Array;
  shape: [number, number, number, number];
}

export interface MirrorReply {
  ageProbs: Float32Array;
  genderProbs: Float32Array;
}

const init = workerData as MirrorWorkerData;
const backend = await initBackend();
const named: tf.NamedTensorMap = Object.fromEntries(init.weights.map((w) => [w.name, tf.tensor(w.data, w.shape, 'float32')]));
const net = new AgeGenderNet(named, { cutPoint: init.cutPoint });
tf.dispose(Object.values(named));

// replies are copied: small, and a backend's own storage is never detached
serveRequests<MirrorRequest, MirrorReply>(
  (msg) => {
    const [age, gender] = tf.tidy(() => {
      const o = net.forwardPreprocessed(tf.tensor4d(msg.data, msg.shape));
      return [tf.softmax(o.ageLogits), tf.softmax(o.genderLogits)];
    });
    const ageProbs = age.dataSync() as Float32Array;
    const genderProbs = gender.dataSync() as Float32Array;
    tf.dispose([age, gender]);
    return { ageProbs, genderProbs };
  },
  { ready: backend.backend, onClose: () => net.dispose() },
);
