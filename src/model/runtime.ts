/**
 * Inference runtimes: what runs the forward pass of a loaded model. Training always uses TF.js
 * (it needs gradients); prediction prefers onnxruntime's native CPU kernels (≈ 5× faster than TF.js
 * wasm here) and falls back to TF.js when onnxruntime-node is not installed or cannot load.
 *
 *   auto (default) → onnxruntime (onnxruntime-node, the net exported by onnx-export.ts at load)
 *                  → tfjs (the backend from initBackend(): tfjs-node(-gpu) when installed, else wasm)
 *
 * Both take the same preprocessed input (TF.js `preprocessChips`), so they give the same numbers
 * to float rounding (`test/unit/model-runtime.test.ts`).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../core/errors.js';
import { MirrorHelper } from './mirror-helper.js';
import type { AgeGenderNet } from './net.js';
import { exportOnnx, ONNX_INPUT, ONNX_OUTPUTS } from './onnx-export.js';

export type RuntimeName = 'onnxruntime' | 'tfjs';
export type RuntimePreference = 'auto' | RuntimeName;
export const RUNTIME_PREFERENCES: readonly RuntimePreference[] = Object.freeze(['auto', 'onnxruntime', 'tfjs']);

export interface RuntimeOptions {
  /** Which runtime to use. Default: the env variable `AGEGENDER_RUNTIME` when set, else `auto`. */
  runtime?: RuntimePreference;
  /** onnxruntime intra-op threads (default: onnxruntime's choice, the physical cores). Use 1 inside worker pools (it also keeps TF.js to one thread). */
  threads?: number;
  /**
   * TF.js on wasm with flip TTA: run the mirror images on a worker thread, in parallel with the
   * originals (default: when there are ≥ 2 cores and `threads` is not 1). Same outputs either way.
   */
  parallelTta?: boolean;
}

export interface EngineOptions extends RuntimeOptions {
  /** Flip test-time augmentation: each chip and its mirror in one batch, outputs averaged. */
  flipTta?: boolean;
}

/** Softmax outputs for a batch: `ageProbs` N×101 row-major, `femaleProbs` N. */
export interface EngineOutput {
  ageProbs: Float32Array;
  femaleProbs: Float32Array;
}

export interface InferenceEngine {
  /** e.g. `onnxruntime 1.30.0 (cpu)` or `tfjs wasm`. */
  readonly description: string;
  readonly name: RuntimeName;
  /** Runs the network on a preprocessed batch (N×150×150×3, from `preprocessChips`), with flip TTA when built with it. Does not dispose `x`. */
  run(x: tf.Tensor4D): Promise<EngineOutput>;
  dispose(): Promise<void> | void;
}

/** Referenced after an await so the arguments stay reachable until then (see OnnxEngine.run). */
const retained: unknown[] = [];
function keepAlive(...values: unknown[]): void {
  retained.push(values);
  retained.length = 0;
}

function femaleColumn(genderProbs: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = genderProbs[i * 2 + 1]!;
  return out;
}

/** TF.js on the active backend; owns `net`. */
class TfjsEngine implements InferenceEngine {
  readonly name = 'tfjs' as const;
  readonly description: string;
  /**
   * `why`: set when this is a fallback from onnxruntime (the reason is shown in the description).
   * `mirror`: runs the mirror half of flip TTA on a worker thread.
   */
  constructor(
    private readonly net: AgeGenderNet,
    private readonly flipTta: boolean,
    why?: string,
    private mirror: MirrorHelper | null = null,
  ) {
    this.description = `tfjs ${tf.getBackend()}${mirror ? ' + mirror worker thread' : ''}${why ? ` (onnxruntime unavailable: ${why})` : ''}`;
  }

  async run(x: tf.Tensor4D): Promise<EngineOutput> {
    if (this.flipTta && this.mirror) {
      const mirrored = this.mirror.run(x); // sent first, so the worker computes while this thread does the originals
      const plain = await this.forward(x, false);
      let other: { ageProbs: Float32Array; femaleProbs: Float32Array };
      try {
        const m = await mirrored;
        other = { ageProbs: m.ageProbs, femaleProbs: femaleColumn(m.genderProbs, x.shape[0]) };
      } catch {
        // the worker died: carry on in this thread, without it from now on
        void this.mirror.dispose().catch(() => undefined);
        this.mirror = null;
        other = await this.forward(tf.tidy(() => tf.reverse(x, 2)), false, true);
      }
      for (let i = 0; i < plain.ageProbs.length; i++) plain.ageProbs[i] = (plain.ageProbs[i]! + other.ageProbs[i]!) * 0.5;
      for (let i = 0; i < plain.femaleProbs.length; i++) plain.femaleProbs[i] = (plain.femaleProbs[i]! + other.femaleProbs[i]!) * 0.5;
      return plain;
    }
    return this.forward(x, this.flipTta);
  }

  /** The network on `x` (with its mirror images in the same batch when `flipTta`); `disposeInput` frees `x` after. */
  private async forward(x: tf.Tensor4D, flipTta: boolean, disposeInput = false): Promise<EngineOutput> {
    const n = x.shape[0];
    const [ageP, genP] = tf.tidy(() => {
      const input = flipTta ? tf.concat([x, tf.reverse(x, 2)], 0) : x;
      const o = this.net.forwardPreprocessed(input);
      let age = tf.softmax(o.ageLogits);
      let gender = tf.softmax(o.genderLogits);
      if (flipTta) {
        // rows [0, N) are the chips, [N, 2N) their mirrors
        age = tf.mul(tf.add(tf.slice(age, [0, 0], [n, -1]), tf.slice(age, [n, 0], [n, -1])), 0.5);
        gender = tf.mul(tf.add(tf.slice(gender, [0, 0], [n, -1]), tf.slice(gender, [n, 0], [n, -1])), 0.5);
      }
      return [age, gender];
    });
    try {
      const ageProbs = (await ageP.data()) as Float32Array;
      const genderProbs = (await genP.data()) as Float32Array;
      return { ageProbs, femaleProbs: femaleColumn(genderProbs, x.shape[0]) };
    } finally {
      ageP.dispose();
      genP.dispose();
      if (disposeInput) x.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.net.dispose();
    await this.mirror?.dispose();
    this.mirror = null;
  }
}

/**
 * The TF.js engine; with flip TTA on wasm (single-threaded here) and a spare core, a worker thread
 * takes the mirror images (see {@link RuntimeOptions.parallelTta}). A worker that cannot start is
 * not an error: TTA then runs in this thread.
 */
async function tfjsEngine(net: AgeGenderNet, flipTta: boolean, options: EngineOptions, why?: string): Promise<TfjsEngine> {
  const parallel = options.parallelTta ?? (tf.getBackend() === 'wasm' && options.threads !== 1 && availableParallelism() >= 2);
  let mirror: MirrorHelper | null = null;
  if (flipTta && parallel) mirror = await MirrorHelper.start(net).catch(() => null);
  return new TfjsEngine(net, flipTta, why, mirror);
}

type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node (native CPU). */
class OnnxEngine implements InferenceEngine {
  readonly name = 'onnxruntime' as const;
  readonly description: string;
  constructor(
    private readonly ort: Ort,
    private readonly session: import('onnxruntime-node').InferenceSession,
    version: string,
  ) {
    this.description = `onnxruntime ${version} (cpu)`;
  }

  /** Runs one at a time: the session's intra-op threads already use every core. */
  private queue: Promise<unknown> = Promise.resolve();

  run(x: tf.Tensor4D): Promise<EngineOutput> {
    const next = this.queue.then(() => this.runNow(x));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(x: tf.Tensor4D): Promise<EngineOutput> {
    const n = x.shape[0];
    const data = (await x.data()) as Float32Array;
    const input = new this.ort.Tensor('float32', data, x.shape);
    const out = await this.session.run({ [ONNX_INPUT]: input });
    // onnxruntime-node reads the input's memory on its own thread without holding a reference to it:
    // keep the buffer reachable until the run is over, or a garbage collection mid-run frees it (segfault).
    keepAlive(input, data);
    const age = out[ONNX_OUTPUTS.age];
    const gender = out[ONNX_OUTPUTS.gender];
    if (!age || !gender) throw new AgeGenderError('MODEL_INVALID', 'onnxruntime returned no age/gender outputs');
    // Copied out: output tensors' CPU data may live in onnxruntime-owned memory, and they are not disposed here
    // (dispose() would free it under any view still held).
    return { ageProbs: Float32Array.from(age.data as Float32Array), femaleProbs: femaleColumn(gender.data as Float32Array, n) };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** The runtime asked for: the option when given, else `AGEGENDER_RUNTIME`, else `auto`; validated. */
export function runtimePreference(options: RuntimeOptions = {}): RuntimePreference {
  const env = process.env['AGEGENDER_RUNTIME'];
  const fromEnv = options.runtime === undefined && env !== undefined && env.length > 0;
  const want = options.runtime ?? (fromEnv ? env : 'auto');
  if (!RUNTIME_PREFERENCES.includes(want as RuntimePreference)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected the runtime to be one of ${RUNTIME_PREFERENCES.join(', ')} but received ${JSON.stringify(want)}`, { subject: fromEnv ? 'AGEGENDER_RUNTIME' : 'runtime' });
  }
  return want as RuntimePreference;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/**
 * onnxruntime-node 1.30 reads /proc/self/cmdline when it starts and recurses over it: a command
 * line of ≈ 28 KB overflows an 8 MB stack (a segfault; measured here, e.g. `predict` with 400
 * shell-expanded paths), a 4 MB worker stack sooner. Above this many bytes it is not started.
 * The CLI re-executes itself with its arguments in the environment instead (bin/agegender.js).
 */
export const ORT_MAX_CMDLINE_BYTES = 4096;

/** Why onnxruntime must not start in this process, or null when it may. */
export function ortStartProblem(): string | null {
  if (process.platform !== 'linux') return null;
  let bytes: number;
  try {
    bytes = readFileSync('/proc/self/cmdline').byteLength;
  } catch {
    return null;
  }
  return bytes > ORT_MAX_CMDLINE_BYTES ? `the process command line is ${bytes} bytes (onnxruntime-node crashes on long ones; the limit used is ${ORT_MAX_CMDLINE_BYTES})` : null;
}

let ortModule: Promise<{ ort: Ort; version: string } | { error: unknown }> | null = null;

/**
 * Loads onnxruntime-node once; resolves the error instead when it is not installed or cannot load.
 * Its telemetry is turned off first: otherwise the native library writes a device id and an event
 * database under ~/.cache/Microsoft/DeveloperTools/.onnxruntime (or $XDG_CACHE_HOME) when a session
 * starts. It reads ORT_DISABLE_TELEMETRY from the environment; a value the user set is kept.
 */
export function loadOrt(): Promise<{ ort: Ort; version: string } | { error: unknown }> {
  process.env['ORT_DISABLE_TELEMETRY'] ??= '1';
  ortModule ??= import('onnxruntime-node').then(
    (mod) => {
      const ort = ((mod as { default?: Ort }).default ?? mod) as Ort;
      const version = (ort.env as { versions?: { common?: string } }).versions?.common ?? 'unknown';
      return { ort, version };
    },
    (error: unknown) => ({ error }),
  );
  return ortModule;
}

/**
 * Builds the engine for a net. With onnxruntime the net is exported, handed to a session and then
 * disposed (the session holds the weights); with tfjs the engine keeps the net.
 */
export async function createEngine(net: AgeGenderNet, options: EngineOptions = {}): Promise<InferenceEngine> {
  const want = runtimePreference(options);
  const flipTta = options.flipTta ?? false;
  if (want === 'tfjs') return tfjsEngine(net, flipTta, options);
  const problem = ortStartProblem();
  if (problem) {
    if (want === 'onnxruntime') {
      net.dispose();
      throw new AgeGenderError('MODEL_NOT_LOADED', `onnxruntime was asked for but cannot start here: ${problem}`, { subject: 'onnxruntime-node' });
    }
    return tfjsEngine(net, flipTta, options, problem);
  }
  const loaded = await loadOrt();
  if ('error' in loaded) {
    if (want === 'onnxruntime') {
      net.dispose();
      throw new AgeGenderError('MODEL_NOT_LOADED', `onnxruntime was asked for but onnxruntime-node cannot be loaded: ${errorText(loaded.error)}`, { subject: 'onnxruntime-node', cause: loaded.error });
    }
    return tfjsEngine(net, flipTta, options, `onnxruntime-node cannot be loaded: ${errorText(loaded.error)}`);
  }
  const { ort, version } = loaded;
  let session: import('onnxruntime-node').InferenceSession;
  try {
    const bytes = exportOnnx(net.namedWeights(), { flipTta, cutPoint: net.encoder.layout.cutPoint });
    session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      interOpNumThreads: 1,
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      logSeverityLevel: 3,
    });
  } catch (cause) {
    if (want === 'onnxruntime') {
      net.dispose();
      throw new AgeGenderError('MODEL_INVALID', `onnxruntime could not build the network: ${errorText(cause)}`, { subject: 'onnxruntime-node', cause });
    }
    return tfjsEngine(net, flipTta, options, `it could not build the network: ${errorText(cause)}`);
  }
  net.dispose();
  return new OnnxEngine(ort, session, version);
}
