/**
 * Flip test-time augmentation on two cores for the TF.js runtime: the wasm backend runs one thread
 * per instance in Node, so the mirror images go to a worker thread holding a copy of the network
 * (mirror-worker.ts) while the calling thread runs the originals. Same arithmetic as the one-batch
 * way, so the same outputs to float rounding (`test/unit/model-runtime.test.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { WorkerPool } from '../core/worker.js';
import type { MirrorReply, MirrorRequest, MirrorWorkerData } from './mirror-worker.js';
import type { AgeGenderNet } from './net.js';

/** How long {@link MirrorHelper.start} waits for the worker to build its network. */
const START_TIMEOUT_MS = 30_000;

export class MirrorHelper {
  private constructor(private readonly worker: WorkerPool<MirrorRequest, MirrorReply>) {}

  /** Starts the worker with a copy of `net`'s weights; resolves once it has built its network. */
  static async start(net: AgeGenderNet): Promise<MirrorHelper> {
    const weights = net.namedWeights().map((w) => ({ name: w.name, shape: w.tensor.shape, data: w.tensor.dataSync() as Float32Array }));
    const data: MirrorWorkerData = { weights, cutPoint: net.encoder.layout.cutPoint };
    // an idle helper never keeps the process alive; a dead one fails every later run (prediction then stays in-thread)
    const worker = new WorkerPool<MirrorRequest, MirrorReply>({ base: import.meta.url, name: 'mirror-worker', workerData: data, unrefWhenIdle: true, toError: (e) => new Error(`mirror worker: ${e.message}`) });
    try {
      await worker.ready(START_TIMEOUT_MS); // it is ready in ≈ 1 s; one that is not within the limit is given up
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    return new MirrorHelper(worker);
  }

  /** Softmax outputs of the network on the mirror images of a preprocessed batch (does not dispose `x`). */
  run(x: tf.Tensor4D): Promise<MirrorReply> {
    if (this.worker.failure) return Promise.reject(this.worker.failure);
    const mirrored = tf.tidy(() => tf.reverse(x, 2));
    const data = (mirrored.dataSync() as Float32Array).slice(); // own buffer (the cpu backend hands out its storage), transferred below
    mirrored.dispose();
    return this.worker.request({ data, shape: x.shape }, [data.buffer]);
  }

  async dispose(): Promise<void> {
    await this.worker.close();
  }
}
