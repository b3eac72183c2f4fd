/**
 * Flip test-time augmentation on two cores for the TF.js runtime: the wasm backend runs one thread
 * per instance in Node, so the mirror images go to a worker thread holding a copy of the network
 * (mirror-worker.ts) while the calling thread runs the originals. Same arithmetic as the one-batch
 * way, so the same outputs to float rounding (`test/unit/model-runtime.test.ts`).
 */
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { spawnModuleWorker } from '../core/worker.js';
import type { MirrorWorkerData } from './mirror-worker.js';
import type { AgeGenderNet } from './net.js';

interface Reply {
  id?: number;
  ready?: boolean;
  ageProbs?: Float32Array;
  genderProbs?: Float32Array;
  error?: string;
}

/** How long {@link MirrorHelper.start} waits for the worker to build its network. */
const START_TIMEOUT_MS = 30_000;

export class MirrorHelper {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: { ageProbs: Float32Array; genderProbs: Float32Array }) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: Reply) => {
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) return;
      if (msg.error || !msg.ageProbs || !msg.genderProbs) p.reject(new Error(`mirror worker: ${msg.error ?? 'no outputs'}`));
      else p.resolve({ ageProbs: msg.ageProbs, genderProbs: msg.genderProbs });
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', () => this.fail(new Error('mirror worker exited')));
    worker.unref(); // an idle helper never keeps the process alive
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** Starts the worker with a copy of `net`'s weights; resolves once it has built its network. */
  static async start(net: AgeGenderNet): Promise<MirrorHelper> {
    const weights = net.namedWeights().map((w) => ({ name: w.name, shape: w.tensor.shape, data: w.tensor.dataSync() as Float32Array }));
    const data: MirrorWorkerData = { weights, cutPoint: net.encoder.layout.cutPoint };
    const worker = spawnModuleWorker(import.meta.url, 'mirror-worker', data);
    await new Promise<void>((resolve, reject) => {
      // it is ready in ≈ 1 s; one that is not within the limit is given up (prediction then stays in-thread)
      const timer = setTimeout(() => reject(new Error(`mirror worker not ready after ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      const onError = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      const onMessage = (msg: Reply): void => {
        if (!msg.ready) return;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return new MirrorHelper(worker);
  }

  /** Softmax outputs of the network on the mirror images of a preprocessed batch (does not dispose `x`). */
  run(x: tf.Tensor4D): Promise<{ ageProbs: Float32Array; genderProbs: Float32Array }> {
    if (this.failure) return Promise.reject(this.failure);
    const mirrored = tf.tidy(() => tf.reverse(x, 2));
    const data = (mirrored.dataSync() as Float32Array).slice(); // own buffer (the cpu backend hands out its storage), transferred below
    mirrored.dispose();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref(); // busy: keep the process alive until the reply
      this.worker.postMessage({ id, data, shape: x.shape }, [data.buffer]);
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    }) as Promise<{ ageProbs: Float32Array; genderProbs: Float32Array }>;
  }

  async dispose(): Promise<void> {
    this.worker.postMessage('close');
    await this.worker.terminate();
  }
}
