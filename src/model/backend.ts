/**
 * Backend selection: `tfjs-node-gpu` → `tfjs-node` (when the user has installed them; optional,
 * never required) → wasm (always available). Also registers the wasm gradient kernel that
 * training convolutions needs (`Conv2DBackpropFilter`), which the wasm backend does not ship.
 *
 * @example
 *   const { backend } = await initBackend(); // 'wasm' on a stock install
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** tfjs backend name now active. */
  backend: BackendName;
  /** Which package provided it. */
  provider: 'tfjs-node-gpu' | 'tfjs-node' | 'tfjs-backend-wasm' | 'tfjs-cpu';
}

let ready: Promise<BackendInfo> | null = null;

/** Options for {@link initBackend}. */
export interface InitBackendOptions {
  /** Force a backend; default: best available. Env `AGEGENDER_BACKEND` overrides too. */
  prefer?: 'auto' | 'wasm' | 'cpu';
  /** Print the chosen backend to stderr (default false). */
  verbose?: boolean;
}

/** Dynamic import of an optional package; resolves null when not installed. */
async function tryImport(name: string): Promise<unknown> {
  try {
    return await import(name);
  } catch {
    return null;
  }
}

/** Path of the folder holding the tfjs wasm binaries (node_modules/@tensorflow/tfjs-backend-wasm/dist/). */
export function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@tensorflow/tfjs-backend-wasm');
  // main is …/tfjs-backend-wasm/dist/tf-backend-wasm.node.js (or similar) inside dist/
  let dir = dirname(main);
  while (!dir.endsWith('dist') && dirname(dir) !== dir) dir = dirname(dir);
  return dir.endsWith('dist') ? dir : join(dirname(main), 'dist');
}

async function select(options: InitBackendOptions): Promise<BackendInfo> {
  const prefer = (process.env['AGEGENDER_BACKEND'] as InitBackendOptions['prefer'] | undefined) ?? options.prefer ?? 'auto';
  if (prefer === 'auto') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const) {
      const mod = await tryImport(pkg);
      if (mod && (await tf.setBackend('tensorflow').catch(() => false))) {
        await tf.ready();
        return { backend: 'tensorflow', provider: pkg === '@tensorflow/tfjs-node-gpu' ? 'tfjs-node-gpu' : 'tfjs-node' };
      }
    }
  }
  if (prefer !== 'cpu') {
    const dir = wasmDistDir();
    setWasmPaths({
      'tfjs-backend-wasm.wasm': join(dir, 'tfjs-backend-wasm.wasm'),
      'tfjs-backend-wasm-simd.wasm': join(dir, 'tfjs-backend-wasm-simd.wasm'),
      'tfjs-backend-wasm-threaded-simd.wasm': join(dir, 'tfjs-backend-wasm-threaded-simd.wasm'),
    }, false);
    // Threads need browser workers; in Node the single-threaded SIMD build is what works.
    setThreadsCount(1);
    if (await withoutRethrowingListeners(() => tf.setBackend('wasm').catch(() => false))) {
      await tf.ready();
      registerWasmGradKernels();
      return { backend: 'wasm', provider: 'tfjs-backend-wasm' };
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { backend: 'cpu', provider: 'tfjs-cpu' };
}

const CRASH_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Runs `start` (the wasm backend's initialisation) and removes the process-wide `uncaughtException`
 * and `unhandledRejection` listeners it added. Emscripten's Node glue in tfjs-backend-wasm installs
 * two that only rethrow, so every later uncaught error was reported from their throw site: the
 * module's one minified line, tens of kB printed before the error's message. Without them Node
 * reports the error itself, and exits as it would have.
 */
async function withoutRethrowingListeners<T>(start: () => Promise<T>): Promise<T> {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(CRASH_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  try {
    return await start();
  } finally {
    for (const event of CRASH_EVENTS) {
      for (const listener of emitter.listeners(event)) if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
}

/**
 * Picks and initialises the best backend once per process; later calls return the same answer.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  ready ??= select(options).then((info) => {
    if (options.verbose) process.stderr.write(`agegender: tfjs backend ${info.backend} (${info.provider})\n`);
    return info;
  });
  return ready;
}

/**
 * Conv2DBackpropFilter for wasm: dW[kh,kw,ci,co] = Σ_{b,y,x} x[b, y*s+kh*d, x*s+kw*d, ci] · dy[b,y,x,co].
 * That is a conv2d whose "batch" is the input channel axis: input = xᵀ (ci, H, W, b),
 * filter = dyᵀ (oh, ow, b, co), stride = the dilation, dilation = the forward stride.
 * Padding is applied explicitly so 'same' and 'valid' both work.
 */
function registerWasmGradKernels(): void {
  const existing = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  if (existing) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D };
      const a = attrs as unknown as {
        strides: number | [number, number];
        pad: 'valid' | 'same' | number;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        filterShape: [number, number, number, number];
      };
      if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm): NCHW is not supported');
      const [kh, kw] = a.filterShape;
      const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
      const out = tf.tidy(() => {
        const [, h, w] = x.shape;
        const [, oh, ow] = dy.shape;
        let padTop = 0;
        let padLeft = 0;
        let padBottom = 0;
        let padRight = 0;
        if (a.pad === 'same') {
          const padAlongH = Math.max((oh - 1) * sh + kh - h, 0);
          const padAlongW = Math.max((ow - 1) * sw + kw - w, 0);
          padTop = Math.floor(padAlongH / 2);
          padBottom = padAlongH - padTop;
          padLeft = Math.floor(padAlongW / 2);
          padRight = padAlongW - padLeft;
        } else if (typeof a.pad === 'number') {
          padTop = padBottom = padLeft = padRight = a.pad;
        }
        let xp: tf.Tensor4D = x;
        if (padTop || padBottom || padLeft || padRight) {
          xp = tf.pad(x, [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]]);
        }
        // Crop so the "valid" conv with dilation = stride gives exactly kh × kw.
        const needH = (oh - 1) * sh + kh;
        const needW = (ow - 1) * sw + kw;
        if (xp.shape[1] !== needH || xp.shape[2] !== needW) {
          xp = tf.slice(xp, [0, 0, 0, 0], [-1, needH, needW, -1]);
        }
        const xt = tf.transpose(xp, [3, 1, 2, 0]); // ci, H, W, b
        const dyt = tf.transpose(dy, [1, 2, 0, 3]); // oh, ow, b, co
        const r = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', [sh, sw]); // ci, kh, kw, co
        return tf.transpose(r, [1, 2, 0, 3]);
      });
      return out as unknown as tf.TensorInfo;
    },
  });
}

/** Exposed for tests: the registered kernel exists on the active backend. */
export function hasConvFilterGrad(): boolean {
  return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
}
