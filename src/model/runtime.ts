/**
 * Inference runtimes: what runs the forward pass of a loaded model. Training always uses TF.js
 * (it needs gradients); prediction runs the same network exported to ONNX (onnx-export.ts) on
 * onnxruntime when it can:
 *
 *   auto (default) → onnxruntime      onnxruntime-node, native CPU kernels (≈ 5× faster than wasm here)
 *                  → onnxruntime-web  WebAssembly (SIMD, multi-threaded on worker threads): no native
 *                                     code at all, and faster than TF.js wasm, which is single-threaded in Node
 *                  → tfjs             the backend from initBackend(): tfjs-node(-gpu) when installed, else wasm
 *
 * All take the same preprocessed input (TF.js `preprocessChips`), so they give the same numbers
 * to float rounding (`test/unit/model-runtime.test.ts`).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../core/errors.js';
import type { AgeGenderNet } from './net.js';
import { exportOnnx, ONNX_INPUT, ONNX_OUTPUTS } from './onnx-export.js';

export type RuntimeName = 'onnxruntime' | 'onnxruntime-web' | 'tfjs';
export type RuntimePreference = 'auto' | RuntimeName;
export const RUNTIME_PREFERENCES: readonly RuntimePreference[] = Object.freeze(['auto', 'onnxruntime', 'onnxruntime-web', 'tfjs']);

export interface RuntimeOptions {
  /** Which runtime to use; default `auto`. The env variable `AGEGENDER_RUNTIME` overrides it. */
  runtime?: RuntimePreference;
  /**
   * onnxruntime threads: intra-op threads for onnxruntime-node (default: its choice, the physical cores); wasm
   * threads for onnxruntime-web (default: the available cores, at most 4; process-wide, fixed by the first
   * model loaded). Use 1 inside worker pools.
   */
  threads?: number;
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
  /** e.g. `onnxruntime 1.30.0 (cpu)`, `onnxruntime-web 1.30.0 (wasm, 2 threads)` or `tfjs wasm`. */
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
  /** `why`: set when this is a fallback from onnxruntime (the reason is shown in the description). */
  constructor(
    private readonly net: AgeGenderNet,
    private readonly flipTta: boolean,
    why?: string,
  ) {
    this.description = `tfjs ${tf.getBackend()}${why ? ` (${why})` : ''}`;
  }

  async run(x: tf.Tensor4D): Promise<EngineOutput> {
    const n = x.shape[0];
    const [ageP, genP] = tf.tidy(() => {
      const input = this.flipTta ? tf.concat([x, tf.reverse(x, 2)], 0) : x;
      const { cut, pooled } = this.net.encoder.stem(input);
      const o = this.net.forwardFromCut(cut, pooled);
      let age = tf.softmax(o.ageLogits);
      let gender = tf.softmax(o.genderLogits);
      if (this.flipTta) {
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
    }
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** The part of the onnxruntime API (onnxruntime-common, shared by onnxruntime-node and onnxruntime-web) used here. */
interface OrtTensor {
  readonly data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor | undefined>>;
  release(): Promise<void>;
}
interface OrtApi {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  env: { versions?: { common?: string }; wasm?: { numThreads?: number } };
}

/** An onnxruntime session (native or wasm) over the exported graph. */
class OrtEngine implements InferenceEngine {
  constructor(
    readonly name: 'onnxruntime' | 'onnxruntime-web',
    readonly description: string,
    private readonly ort: OrtApi,
    private readonly session: OrtSession,
  ) {}

  /** Runs one at a time: the session's own threads already use every core. */
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
    if (!age || !gender) throw new AgeGenderError('MODEL_INVALID', `${this.name} returned no age/gender outputs`);
    // Copied out: output tensors' CPU data may live in onnxruntime-owned memory, and they are not disposed here
    // (dispose() would free it under any view still held).
    return { ageProbs: Float32Array.from(age.data as Float32Array), femaleProbs: femaleColumn(gender.data as Float32Array, n) };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** The runtime asked for: option, overridden by `AGEGENDER_RUNTIME`; validated. */
export function runtimePreference(options: RuntimeOptions = {}): RuntimePreference {
  const env = process.env['AGEGENDER_RUNTIME'];
  const want = (env && env.length > 0 ? env : options.runtime) ?? 'auto';
  if (!RUNTIME_PREFERENCES.includes(want as RuntimePreference)) {
    throw new AgeGenderError('INVALID_ARGUMENT', `Expected the runtime to be one of ${RUNTIME_PREFERENCES.join(', ')} but received ${JSON.stringify(want)}`, { subject: env ? 'AGEGENDER_RUNTIME' : 'runtime' });
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

type OrtRuntime = 'onnxruntime' | 'onnxruntime-web';
const ORT_PACKAGES: Record<OrtRuntime, string> = { onnxruntime: 'onnxruntime-node', 'onnxruntime-web': 'onnxruntime-web' };

const ortModules = new Map<OrtRuntime, Promise<{ ort: OrtApi; version: string } | { error: unknown }>>();

/** Loads an onnxruntime package once; resolves the error instead when it is not installed or cannot load. */
function loadOrt(runtime: OrtRuntime): Promise<{ ort: OrtApi; version: string } | { error: unknown }> {
  let loading = ortModules.get(runtime);
  if (!loading) {
    loading = import(ORT_PACKAGES[runtime]).then(
      (mod: { default?: OrtApi } & OrtApi) => {
        const ort = mod.default ?? mod;
        return { ort, version: ort.env.versions?.common ?? 'unknown' };
      },
      (error: unknown) => ({ error }),
    );
    ortModules.set(runtime, loading);
  }
  return loading;
}

/** onnxruntime-web's wasm thread count is process-wide and fixed when its first session starts. */
let wasmThreads: number | null = null;

/** Default wasm threads: every available core, at most 4 (onnxruntime-web's own default is half the cores). */
export function defaultWasmThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

interface EngineFailure {
  code: 'MODEL_NOT_LOADED' | 'MODEL_INVALID';
  why: string;
  cause?: unknown;
}

/** Builds an onnxruntime engine over the exported net, or says why it cannot (the net is left alone). */
async function tryOrtEngine(runtime: OrtRuntime, net: AgeGenderNet, flipTta: boolean, threads: number | undefined, skipped: readonly string[]): Promise<OrtEngine | EngineFailure> {
  if (runtime === 'onnxruntime') {
    const problem = ortStartProblem();
    if (problem) return { code: 'MODEL_NOT_LOADED', why: `it cannot start here: ${problem}` };
  }
  const loaded = await loadOrt(runtime);
  if ('error' in loaded) return { code: 'MODEL_NOT_LOADED', why: `${ORT_PACKAGES[runtime]} cannot be loaded: ${errorText(loaded.error)}`, cause: loaded.error };
  const { ort, version } = loaded;
  let sessionOptions: Record<string, unknown>;
  let description: string;
  const why = skipped.length > 0 ? `; ${skipped.join('; ')}` : '';
  if (runtime === 'onnxruntime') {
    sessionOptions = { graphOptimizationLevel: 'all', interOpNumThreads: 1, ...(threads ? { intraOpNumThreads: threads } : {}), logSeverityLevel: 3 };
    description = `onnxruntime ${version} (cpu${why})`;
  } else {
    // Its threads are worker threads, which inherit the process's execArgv: under `node --input-type=… -e`
    // every worker dies at start (ERR_INPUT_TYPE_NOT_ALLOWED), so such a process gets one thread and no workers.
    const workersCanStart = !process.execArgv.some((a) => a.startsWith('--input-type'));
    if (wasmThreads === null && ort.env.wasm) ort.env.wasm.numThreads = wasmThreads = workersCanStart ? (threads ?? defaultWasmThreads()) : 1;
    sessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 };
    description = `onnxruntime-web ${version} (wasm, ${wasmThreads ?? 1} thread${wasmThreads === 1 ? '' : 's'}${why})`;
  }
  try {
    const session = await ort.InferenceSession.create(exportOnnx(net.namedWeights(), { flipTta }), sessionOptions);
    return new OrtEngine(runtime, description, ort, session);
  } catch (cause) {
    return { code: 'MODEL_INVALID', why: `it could not build the network: ${errorText(cause)}`, cause };
  }
}

/**
 * Builds the engine for a net. With onnxruntime the net is exported, handed to a session and then
 * disposed (the session holds the weights); with tfjs the engine keeps the net. `auto` tries
 * onnxruntime-node, then onnxruntime-web, then falls back to tfjs (saying why in its description);
 * a runtime asked for by name that cannot run is an error.
 */
export async function createEngine(net: AgeGenderNet, options: EngineOptions = {}): Promise<InferenceEngine> {
  const want = runtimePreference(options);
  const flipTta = options.flipTta ?? false;
  if (want === 'tfjs') return new TfjsEngine(net, flipTta);
  const reasons: string[] = [];
  for (const runtime of want === 'auto' ? (['onnxruntime', 'onnxruntime-web'] as const) : [want]) {
    const engine = await tryOrtEngine(runtime, net, flipTta, options.threads, reasons);
    if (engine instanceof OrtEngine) {
      net.dispose();
      return engine;
    }
    if (want !== 'auto') {
      net.dispose();
      throw new AgeGenderError(engine.code, `${runtime} was asked for but ${engine.why}`, { subject: ORT_PACKAGES[runtime], ...(engine.cause ? { cause: engine.cause } : {}) });
    }
    reasons.push(`${runtime} unavailable: ${engine.why}`);
  }
  return new TfjsEngine(net, flipTta, reasons.join('; '));
}
