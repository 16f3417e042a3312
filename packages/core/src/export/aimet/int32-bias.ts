import type { Int32BiasLink } from '../../contracts/aimet-encodings.js';
import type { Encoding, EncodingMap } from '../../contracts/encoding.js';
import type { GraphReader, Layer } from '../../contracts/graph.js';
import type { QuantPlanView } from '../../contracts/plan.js';
import { VALUE_FORWARDING_OPS } from '../../graph/op-roles.js';
import { outputChannelAxis } from '../../plan/placement.js';

export type { Int32BiasLink } from '../../contracts/aimet-encodings.js';

/*
 * AIMET 2.x's int32 biases, checked against qualcomm/aimet at 825f28429e0dc308a72110e23731894f5279b938,
 * TrainingExtensions/onnx/src/python/aimet_onnx/quantsim.py:
 * - `export(..., export_int32_bias=None)`: on by default for encoding versions ≥ 2.0.0, off below.
 * - `_concretize_int32_bias_quantizers`: for each op with a bias, skipped when the bias quantizer
 *   already has an encoding (kept as it is), when the weight quantizer is missing, disabled, not
 *   int or not calibrated, and when the input quantizer (`_get_enabled_quantizer(op.inputs[0])`)
 *   is; otherwise the bias quantizer gets bw 32, delta = scale, offset −2^31, and is per-channel
 *   exactly when the weight is.
 * - `_get_analytic_bias_scale` (Conv, ConvTranspose, Gemm, MatMul): scale = input scale × weight
 *   scale, both float32 (`QcQuantizeOp._get_scale`), one per output channel for a per-channel
 *   weight whose axis is the op's own (`_get_quantization_axes`: Conv 0, ConvTranspose 1, Gemm 1
 *   or 0 with transB, MatMul −1); another axis falls back to the statistical scale.
 * - `_get_weight_and_bias` with `connectedgraph_utils._get_matmul_add_bias_idx`: a MatMul with a
 *   constant weight whose only consumer is an Add of a rank-1 constant has that constant as bias.
 * - `_get_enabled_quantizer`: the tensor's own quantizer when enabled, else the producer's input 0
 *   through grid-preserving ops.
 * - `qc_quantize_op.py` (at 5ae7e5f15541424b4f68771a428500b7a73bd07f) `_export_2_0_0_encodings`:
 *   `int32` for a symmetric bias quantizer (zero point 0, left out), `uint32` with zero point 2^31
 *   otherwise; a 1-D tensor's channel axis is 0 (quantsim.py `_create_tensor_quantizer_params`).
 * The statistical scale (|b| / 2^31, for BatchNorm, LayerNorm, GroupNorm, InstanceNorm, RNNs and
 * other weight axes) is not written by quantsim.
 */

/** AIMET's int32 bias offset: the signed grid's −2^31. */
export const INT32_BIAS_OFFSET = -(2 ** 31);

/** The length of a rank-1 constant, or `undefined`. */
function rank1Length(graph: GraphReader, tensor: string | undefined): number | undefined {
  const t = tensor === undefined ? undefined : graph.tensors.get(tensor);
  if (!t?.constantSource || t.shape?.length !== 1) return undefined;
  const n = t.shape[0];
  return typeof n === 'number' ? n : undefined;
}

/** The bias of a MatMul + Add (AIMET's `_get_matmul_add_bias_idx`), or `undefined`. */
function matmulAddBias(graph: GraphReader, layer: Layer): string | undefined {
  const out = layer.outputs[0];
  const consumers = out === undefined ? [] : (graph.tensors.get(out)?.consumers ?? []);
  if (consumers.length !== 1) return undefined;
  const add = consumers[0]?.node;
  if (add?.opType !== 'Add' || add.domain !== '' || add.inputs.length !== 2) return undefined;
  const other = add.inputs[1 - (consumers[0]?.index ?? 0)];
  return rank1Length(graph, other) === undefined ? undefined : other;
}

/**
 * The closest enabled quantizer of a layer's input 0, as AIMET's `_get_enabled_quantizer`: the
 * layer's own input quantizer, the tensor's output quantizer, else upstream through ops that
 * only move values.
 */
function inputQuantizer(graph: GraphReader, plan: QuantPlanView, layer: Layer): string | undefined {
  const own = plan.get(`input:${layer.name}:0`);
  if (own?.enabled) return own.id;
  let tensor = layer.inputs[0];
  for (let hops = 0; tensor && hops < 64; hops++) {
    const q = plan.get(`activation:${tensor}`);
    if (q?.enabled) return q.id;
    const producer = graph.tensors.get(tensor)?.producer;
    if (producer?.domain !== '' || !VALUE_FORWARDING_OPS.has(producer.opType)) return undefined;
    tensor = producer.inputs[0];
  }
  return undefined;
}

/**
 * The biases AIMET 2.x exports as int32, with the quantizers their scale comes from: the bias of
 * every Conv, ConvTranspose and Gemm with a constant weight, and the rank-1 constant added to a
 * MatMul with a constant weight (MatMul + Add). Pass them to {@link toAimetEncodings} (to write
 * int32 biases) and to {@link matchEncodings} (to accept them on load).
 *
 * ### Examples
 * ```ts
 * const links = int32BiasLinks(model.graph, plan);
 * const file = toAimetEncodings(plan, encodings, { version: '2.0.0', biasLinks: links });
 * ```
 */
export function int32BiasLinks(graph: GraphReader, plan: QuantPlanView): Int32BiasLink[] {
  const links: Int32BiasLink[] = [];
  for (const layer of graph.layers) {
    if (layer.node.domain !== '') continue;
    const opType = layer.opType;
    if (opType !== 'Conv' && opType !== 'ConvTranspose' && opType !== 'Gemm' && opType !== 'MatMul') continue;
    const weight = layer.params.find((p) => p.role === 'weight');
    // AIMET's input is op.inputs[0]; a MatMul whose constant is input 0 has no activation there.
    if (weight?.inputIndex !== 1) continue;
    const bias = opType === 'MatMul' ? matmulAddBias(graph, layer) : layer.params.find((p) => p.role === 'bias')?.tensor;
    const channels = rank1Length(graph, bias);
    if (bias === undefined || channels === undefined) continue;
    links.push({
      bias,
      layer: layer.name,
      opType,
      weight: `param:${weight.tensor}`,
      input: inputQuantizer(graph, plan, layer),
      // The output-channel axis of input 1, as AIMET's `_get_quantization_axes` gives it (normalised).
      channelAxis: outputChannelAxis(layer, 1, weight.shape?.length) as number,
      channels,
    });
  }
  return links;
}

/** The int32 encoding of a linked bias, or why AIMET writes none. */
export type Int32BiasResult =
  | { readonly encoding: Encoding; readonly inputScale: number; readonly weightScales: readonly number[] }
  | { readonly reason: string };

/**
 * The int32 encoding AIMET writes for a linked bias from the input's and weight's encodings:
 * scale = float32(s_in) × float32(s_w) rounded to float32 (one per channel for a per-channel
 * weight, axis 0), offset −2^31; symmetric (int32, zero point 0) unless the plan's bias quantizer
 * is asymmetric (uint32, zero point 2^31).
 */
export function int32BiasEncoding(link: Int32BiasLink, plan: QuantPlanView, encodings: EncodingMap): Int32BiasResult {
  const w = plan.get(link.weight);
  const wEnc = w?.enabled && w.dtype === 'int' ? encodings.get(link.weight) : undefined;
  if (wEnc?.dtype !== 'int') return { reason: `its weight (${link.weight}) is not quantized to integers` };
  const inEnc = link.input ? encodings.get(link.input) : undefined;
  if (!link.input || !inEnc || inEnc.dtype !== 'int' || plan.get(link.input)?.dtype !== 'int')
    return { reason: `the input of ${link.layer} is not quantized to integers` };
  const sIn = inEnc.channels.length === 1 ? inEnc.channels[0]?.scale : undefined;
  if (sIn === undefined) return { reason: `the input of ${link.layer} (${link.input}) is not per-tensor` };
  const perChannel = wEnc.axis !== undefined;
  if (perChannel && (wEnc.axis !== link.channelAxis || wEnc.channels.length !== link.channels))
    return {
      reason: `the weight ${link.weight} is per-channel on axis ${wEnc.axis} (${wEnc.channels.length} channels), not on the output channels (axis ${link.channelAxis}, ${link.channels}); AIMET then uses a statistical scale, which quantsim does not write`,
    };
  const weightScales = wEnc.channels.map((c) => c.scale);
  const product = (s: number) => Math.fround(Math.fround(sIn) * Math.fround(s));
  const scales = perChannel ? weightScales.map(product) : [product(weightScales[0] ?? 0)];
  if (scales.some((s) => !(s > 0) || !Number.isFinite(s)))
    return { reason: `s_in·s_w is not a positive float32 for ${link.layer}` };
  const symmetric = plan.get(`param:${link.bias}`)?.symmetric ?? true;
  const encoding: Encoding = {
    dtype: 'int',
    bitwidth: 32,
    symmetric,
    ...(perChannel ? { axis: 0 } : {}),
    channels: scales.map((scale) => ({
      scale,
      offset: INT32_BIAS_OFFSET,
      min: scale * INT32_BIAS_OFFSET,
      max: scale * (2 ** 31 - 1),
    })),
  };
  return { encoding, inputScale: sIn, weightScales };
}

/**
 * The int32 bias encodings to write, in link order: one for each link whose bias quantizer has
 * no encoding of its own (AIMET keeps an existing bias encoding) and is not a float quantizer,
 * and whose input and weight are quantized to integers.
 */
export function int32BiasEncodings(
  links: readonly Int32BiasLink[],
  plan: QuantPlanView,
  encodings: EncodingMap,
): { link: Int32BiasLink; encoding: Encoding }[] {
  const out: { link: Int32BiasLink; encoding: Encoding }[] = [];
  for (const link of links) {
    const own = plan.get(`param:${link.bias}`);
    if (own?.dtype === 'float' || (own?.enabled && encodings.has(own.id))) continue;
    const result = int32BiasEncoding(link, plan, encodings);
    if ('encoding' in result) out.push({ link, encoding: result.encoding });
  }
  return out;
}
