/**
 * Writes the network (after preprocessing) as an ONNX graph, so inference can run on
 * onnxruntime's native CPU kernels instead of TF.js wasm. The graph is generated from the same
 * block lists and weights as `AgeGenderNet`, op for op:
 *
 *   input  N×150×150×3 float (preprocessed, NHWC, exactly `FaceRecEncoder.preprocess`'s output)
 *   output ageProbs N×101 (softmax over age bins), genderProbs N×2 (male, female)
 *
 * Conventions translated: TF.js NHWC → ONNX NCHW (one Transpose at the input), conv filters
 * [kh, kw, in, out] → [out, in, kh, kw], 'same' 3×3 stride 1 → pads 1, 'valid' → no pads.
 *
 * @example
 *   const bytes = exportOnnx(net.namedWeights());
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
const { onnx } = onnxProto;
import type * as tf from '@tensorflow/tfjs';
import { AgeGenderError } from '../core/errors.js';
import { AGE_BINS } from './ageBins.js';
import { cutLayout, INPUT_SIZE } from './encoder.js';
export const ONNX_OPSET = 17;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUTS = Object.freeze({ age: 'ageProbs', gender: 'genderProbs' });

/** One named weight tensor to write into the ONNX graph. */
export interface WeightSource {
  name: string;
  tensor: Pick<tf.Tensor, 'shape' | 'dataSync'>;
}

/** Small graph builder: unique value names, initializers, nodes. */
class GraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  private counter = 0;

  fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  constant(name: string, dims: number[], values: Float32Array): string {
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) });
    return name;
  }

  int64s(name: string, values: number[]): string {
    const buf = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(buf.buffer) });
    return name;
  }

  op(opType: string, inputs: string[], attrs: Record<string, number | number[]> = {}, hint = opType.toLowerCase()): string {
    const out = this.fresh(hint);
    const attribute: OnnxTypes.IAttributeProto[] = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v) ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v } : Number.isInteger(v) ? { name, type: onnx.AttributeProto.AttributeType.INT, i: v } : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v },
    );
    this.nodes.push({ opType, input: inputs, output: [out], attribute, name: out });
    return out;
  }
}

/** [kh, kw, in, out] (TF.js) → [out, in, kh, kw] (ONNX). */
function toOihw(shape: number[], data: Float32Array): { dims: number[]; values: Float32Array } {
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o]!;
  return { dims: [co, ci, kh, kw], values: out };
}

export interface OnnxExportOptions {
  /**
   * Flip test-time augmentation inside the graph: the batch and its horizontal mirror (width axis of
   * the preprocessed input, as TF.js `reverse(x, 2)`) run as one batch of 2N, and each output is the
   * mean of a chip's two rows.
   */
  flipTta?: boolean;
  /** Where the trained network's stem ends (default conv256_1): decides which stage outputs are pooled. */
  cutPoint?: string;
}

/**
 * Serialises the network to ONNX bytes. `weights`: `AgeGenderNet.namedWeights()` (folded encoder
 * weights under face-api names + `head/*`).
 */
export function exportOnnx(weights: readonly WeightSource[], options: OnnxExportOptions = {}): Uint8Array {
  const layout = cutLayout(options.cutPoint);
  const poolAt = new Set(layout.poolAt);
  const byName = new Map(weights.map((w) => [w.name, w.tensor]));
  const g = new GraphBuilder();
  const get = (name: string): { shape: number[]; data: Float32Array } => {
    const t = byName.get(name);
    if (!t) throw new AgeGenderError('MODEL_INVALID', `cannot export to ONNX: weight ${name} missing`);
    return { shape: t.shape, data: t.dataSync() as Float32Array };
  };

  const conv = (x: string, prefix: string, stride: 1 | 2, relu: boolean): string => {
    const f = get(`${prefix}/conv/filters`);
    const b = get(`${prefix}/conv/bias`);
    const { dims, values } = toOihw(f.shape, f.data);
    const k = dims[2]!;
    // TF 'same' with stride 1 and an odd kernel pads (k-1)/2 on each side; stride 2 is 'valid'.
    const p = stride === 1 ? (k - 1) / 2 : 0;
    const y = g.op('Conv', [x, g.constant(`${prefix}/W`, dims, values), g.constant(`${prefix}/B`, [dims[0]!], b.data)], { kernel_shape: [k, k], strides: [stride, stride], pads: [p, p, p, p] }, 'conv');
    return relu ? g.op('Relu', [y]) : y;
  };
  const shapes = new Map<string, [number, number, number]>(); // value → [C, H, W]
  const residual = (x: string, name: string, shape: [number, number, number]): [string, [number, number, number]] => {
    let out = conv(x, `${name}/conv1`, 1, true);
    out = conv(out, `${name}/conv2`, 1, false);
    return [g.op('Relu', [g.op('Add', [out, x])]), shape];
  };
  const residualDown = (x: string, name: string, shape: [number, number, number]): [string, [number, number, number]] => {
    const [c, h, w] = shape;
    const co = get(`${name}/conv1/conv/filters`).shape[3]!;
    let out = conv(x, `${name}/conv1`, 2, true);
    out = conv(out, `${name}/conv2`, 1, false);
    // conv 3×3 stride 2 valid: floor((h − 3) / 2) + 1; avg pool 2 stride 2 valid: floor(h / 2)
    const ch = Math.floor((h - 3) / 2) + 1;
    const cw = Math.floor((w - 3) / 2) + 1;
    const ph = Math.floor(h / 2);
    const pw = Math.floor(w / 2);
    let pooled = g.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
    if (ph !== ch || pw !== cw) {
      // face-api pads the conv path with zero rows/columns at the end
      out = g.op('Pad', [out, g.int64s(g.fresh('pads'), [0, 0, 0, 0, 0, 0, ph - ch, pw - cw])]);
    }
    if (co !== c) pooled = g.op('Pad', [pooled, g.int64s(g.fresh('pads'), [0, 0, 0, 0, 0, co - c, 0, 0])]);
    return [g.op('Relu', [g.op('Add', [pooled, out])]), [co, ph, pw]];
  };
  const gap = (x: string): string => g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: 1 });

  let input = ONNX_INPUT;
  if (options.flipTta) {
    // reversed width axis: Slice with step −1 from the last column to before the first
    const mirrored = g.op('Slice', [ONNX_INPUT, g.int64s('flip_starts', [-1]), g.int64s('flip_ends', [-(2 ** 53)]), g.int64s('flip_axes', [2]), g.int64s('flip_steps', [-1])], {}, 'mirror');
    input = g.op('Concat', [ONNX_INPUT, mirrored], { axis: 0 }, 'with_mirror');
  }
  let x = g.op('Transpose', [input], { perm: [0, 3, 1, 2] }, 'nchw');
  x = conv(x, 'conv32_down', 2, true);
  x = g.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2] });
  const first = Math.floor((INPUT_SIZE - 7) / 2) + 1;
  let shape: [number, number, number] = [32, Math.floor((first - 3) / 2) + 1, Math.floor((first - 3) / 2) + 1];
  const pools: string[] = [];
  for (const b of layout.stemBlocks) {
    [x, shape] = b.includes('_down') ? residualDown(x, b, shape) : residual(x, b, shape);
    shapes.set(x, shape);
    if (poolAt.has(b)) pools.push(gap(x));
  }
  const topPools: string[] = []; // pooled inside the top (cut conv128_2: conv256_down), after the last block's GAP
  for (const b of layout.topBlocks) {
    [x, shape] = b.includes('_down') ? residualDown(x, b, shape) : residual(x, b, shape);
    if (poolAt.has(b)) topPools.push(gap(x));
  }
  const features = g.op('Concat', [gap(x), ...topPools, ...pools], { axis: 1 });

  const vec = (name: string): string => {
    const t = get(name);
    return g.constant(name, t.shape, t.data);
  };
  const z = g.op('Div', [g.op('Sub', [features, vec('head/mu')]), vec('head/sigma')]);
  const hidden = g.op('Relu', [g.op('Gemm', [z, vec('head/w1'), vec('head/b1')])]);
  const ageLogits = g.op('Gemm', [hidden, vec('head/wAge'), vec('head/bAge')]);
  const genderLogits = g.op('Gemm', [hidden, vec('head/wGender'), vec('head/bGender')]);
  const softmax = (logits: string, out: string): void => {
    if (!options.flipTta) {
      g.nodes.push({ opType: 'Softmax', input: [logits], output: [out], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }], name: `${out}_softmax` });
      return;
    }
    // rows [0, N) are the chips, [N, 2N) their mirrors: split in two equal parts, average
    const probs = g.op('Softmax', [logits], { axis: 1 });
    const [a, b] = [g.fresh(`${out}_plain`), g.fresh(`${out}_mirror`)];
    g.nodes.push({ opType: 'Split', input: [probs], output: [a, b], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }], name: `${out}_split` });
    g.nodes.push({ opType: 'Mul', input: [g.op('Add', [a, b]), g.constant(`${out}_half`, [], new Float32Array([0.5]))], output: [out], attribute: [], name: `${out}_mean` });
  };
  softmax(ageLogits, ONNX_OUTPUTS.age);
  softmax(genderLogits, ONNX_OUTPUTS.gender);

  const tensorType = (dims: Array<number | string>): OnnxTypes.ITypeProto => ({
    tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } },
  });
  const model: OnnxTypes.IModelProto = {
    irVersion: 8,
    producerName: 'agegender',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: 'agegender',
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: ONNX_INPUT, type: tensorType(['N', INPUT_SIZE, INPUT_SIZE, 3]) }],
      output: [
        { name: ONNX_OUTPUTS.age, type: tensorType(['N', AGE_BINS]) },
        { name: ONNX_OUTPUTS.gender, type: tensorType(['N', 2]) },
      ],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
