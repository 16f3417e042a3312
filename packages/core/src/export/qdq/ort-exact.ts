import type { GraphProto, NodeProto, TensorProto } from 'onnx-buf';
import type { QdqElementType } from '../../contracts/backend.js';
import type { Model } from '../../model/model.js';
import { dtypeName } from '../../onnx/dtype.js';
import { makeNode, makeTensor } from '../../onnx/factory.js';
import { tensorToFloat32 } from '../../onnx/tensor-values.js';

/*
 * ONNX Runtime's graph optimiser rewrites QDQ models at every level above 'disabled'. Most of its
 * rewrites compute what the Q/DQ graph computes (integer kernels on the same integers), but some
 * do not, and one breaks the session. This module writes the QDQ model so that ORT, at any level,
 * either leaves a pattern alone or rewrites it exactly. Each rule names the ORT transformer it
 * answers (onnxruntime/core/optimizer/qdq_transformer/); docs/deployment-fidelity.md has the table.
 * `build.ts` calls `keepOrtExact` on the finished graph; `writer.ts` stores activation
 * grids through `activationTypeForOrt`.
 */

/** The integer grid of a Q/DQ pair, as {@link activationTypeForOrt} reads and rewrites it. */
export interface PairGrid {
  readonly type: QdqElementType;
  readonly zeroPoint: readonly number[];
  readonly clip: { readonly lo: number; readonly hi: number } | undefined;
}

/**
 * The storage type of an activation's QuantizeLinear/DequantizeLinear pair: int8 grids are
 * stored as uint8 with the zero point (and any Clip range) shifted by 128, which is the same
 * grid: Δ·(y − z) takes the same values for y in [−128, 127] with z as for y + 128 in [0, 255]
 * with z + 128, and QuantizeLinear saturates at the same end points.
 *
 * ONNX Runtime does this rewrite itself (QDQS8ToU8Transformer, level 'extended'), but when
 * QDQPropagationTransformer has already copied the pair around a MaxPool the copy keeps its int8
 * output type while its zero point becomes uint8, and the session fails to load ("output_dtype
 * INT8 does not match y_zero_point type UINT8"). Writing uint8 leaves ORT nothing to convert.
 * Weights keep int8 (they are DequantizeLinear only, which that transformer leaves alone).
 */
export function activationTypeForOrt<G extends PairGrid>(grid: G): G {
  if (grid.type !== 'int8') return grid;
  return {
    ...grid,
    type: 'uint8',
    zeroPoint: grid.zeroPoint.map((z) => z + 128),
    clip: grid.clip ? { lo: grid.clip.lo + 128, hi: grid.clip.hi + 128 } : undefined,
  };
}

/**
 * Rewrites a finished QDQ graph so that ONNX Runtime's optimiser keeps its numerics at every
 * level:
 *
 * - **Softmax → QuantizeLinear**: ORT fuses DQ → Softmax → Q into `com.microsoft.QLinearSoftmax`
 *   (UnaryOpQDQRules, level 'extended'), whose kernel multiplies by floor(1 / y_scale) instead of
 *   dividing by y_scale and, for int8, wraps values above 127 instead of saturating: the top
 *   probability of a Softmax whose calibrated maximum is below 1 comes out as 0 or negative. A
 *   Clip with only a lower bound, a quarter step above the Q's lowest value, sits between them:
 *   every value it changes quantizes to the lowest value anyway, and ORT's selector refuses a
 *   Clip that the Q does not make redundant, so the Softmax stays float.
 * - **float bias on a Conv, ConvTranspose or Gemm with a dequantized input**: ORT quantizes it to
 *   int32 with scale s_in·s_w (WeightBiasQuantization, level 'basic'), and at 16 bits that
 *   product is so small that the bias overflows int32 (quantsim keeps a bias float exactly when
 *   it would). The bias moves to an Add after the layer, which that transformer does not see.
 */
export function keepOrtExact(model: Model, graph: GraphProto, unique: (base: string) => string): void {
  const producers = new Map<string, NodeProto>();
  for (const n of graph.node) for (const o of n.output) producers.set(o, n);
  const consumers = new Map<string, NodeProto[]>();
  for (const n of graph.node) for (const i of n.input) if (i !== '') consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const outputs = new Set(graph.output.map((o) => o.name));
  const constant = (name: string | undefined): TensorProto | undefined =>
    name === undefined || name === '' ? undefined : model.constantTensor(name);
  const values = (t: TensorProto) => tensorToFloat32(t, (x) => model.externalBytes(x) ?? new Uint8Array());
  const added: NodeProto[] = [];
  const addNode = (opType: string, input: string[], output: string[]) =>
    added.push(makeNode(opType, input, output, {}, { name: unique(`${output[0]}_${opType}`) }));

  for (const node of graph.node) {
    if (node.domain !== '') continue;
    if (node.opType === 'Softmax') guardSoftmax(node);
    else if (['Conv', 'ConvTranspose', 'Gemm'].includes(node.opType)) splitFloatBias(node);
  }
  graph.node.push(...added);

  function guardSoftmax(node: NodeProto): void {
    const out = node.output[0];
    if (!out || outputs.has(out)) return;
    const readers = consumers.get(out) ?? [];
    const q = readers[0];
    if (readers.length !== 1 || q?.opType !== 'QuantizeLinear' || q.domain !== '') return;
    const scale = constant(q.input[1]);
    const zp = constant(q.input[2]);
    if (!scale || !zp || scale.dims.length !== 0 || zp.dims.length !== 0) return;
    const s = values(scale)[0] as number;
    const type = dtypeName(zp.dataType);
    const z = values(zp)[0] as number;
    const qmin = type === 'int8' ? -128 : type === 'int16' ? -32768 : type === 'int4' ? -8 : 0;
    if (!(s > 0)) return;
    const lo = makeTensor(unique(`${out}__fusion_guard_min`), 'float32', [], [(qmin - z) * s + s / 4]);
    graph.initializer.push(lo);
    const guarded = unique(`${out}__fusion_guard`);
    addNode('Clip', [out, lo.name], [guarded]);
    q.input[0] = guarded;
  }

  /** Whether a tensor reaches a QuantizeLinear through single readers, Relu and Clip only (the transformer's own test). */
  function leadsToQuantize(tensor: string): boolean {
    for (let t = tensor, hops = 0; hops < 8; hops++) {
      const readers = consumers.get(t) ?? [];
      const next = readers[0];
      if (outputs.has(t) || readers.length !== 1 || !next) return false;
      if (next.opType === 'QuantizeLinear') return true;
      if ((next.opType !== 'Relu' && next.opType !== 'Clip') || !next.output[0]) return false;
      t = next.output[0];
    }
    return false;
  }

  function splitFloatBias(node: NodeProto): void {
    const [x, , b] = node.input;
    const out = node.output[0];
    if (!x || !b || !out || producers.get(x)?.opType !== 'DequantizeLinear' || !leadsToQuantize(out)) return;
    const bias = constant(b);
    if (bias?.dims.length !== 1) return;
    const attr = (name: string) => node.attribute.find((a) => a.name === name);
    if (node.opType === 'Gemm' && (attr('beta')?.f ?? 1) !== 1) return;
    // Conv and ConvTranspose add the bias per output channel (axis 1 of N, C, spatial…).
    const weight = constant(node.input[1]) ?? constant(producers.get(node.input[1] ?? '')?.input[0]);
    const rank = node.opType === 'Gemm' ? 1 : (weight?.dims.length ?? 0);
    if (node.opType !== 'Gemm' && rank < 3) return;
    const dims = node.opType === 'Gemm' ? [Number(bias.dims[0])] : [Number(bias.dims[0]), ...Array(rank - 2).fill(1)];
    const shaped = makeTensor(unique(`${b}__channel_bias`), 'float32', dims, Array.from(values(bias)));
    graph.initializer.push(shaped);
    const inner = unique(`${out}__without_bias`);
    node.input = node.input.slice(0, 2);
    node.output = [inner, ...node.output.slice(1)];
    addNode('Add', [inner, shaped.name], [out]);
  }
}
