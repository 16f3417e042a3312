import type { NodeProto } from 'onnx-buf';
import type { Encoding } from '../../contracts/encoding.js';
import type { Layer, TensorView } from '../../contracts/graph.js';
import { roundHalfEven } from '../../encode/rounding.js';
import { VALUE_FORWARDING_OPS } from '../../graph/op-roles.js';
import { tensorToFloat32 } from '../../onnx/tensor-values.js';
import { outputChannelAxis } from '../../plan/placement.js';
import type { QuantPlan } from '../../plan/plan.js';
import type { ExportForm } from './forms.js';
import type { QdqWriter } from './writer.js';

/**
 * Writes the int32 bias of a Conv, ConvTranspose or Gemm whose weight and input are quantized:
 * b_q = round(b / (s_in·s_w)) (half to even, as numpy's round in ONNX Runtime's quantizer),
 * scale s_in·s_w computed in float32, zero point 0. The layer keeps its float bias when the
 * product would overflow int32 or a scale is zero, and a Gemm does when alpha or beta is not 1.
 * `tensorOf` finds the tensors the layer's graph sees (for a layer in an If branch: the branch's,
 * then the enclosing graphs'); `builder` writes into that graph.
 */
export function writeInt32Bias(
  layer: Layer,
  node: NodeProto,
  tensorOf: (name: string) => TensorView | undefined,
  plan: QuantPlan,
  forms: ReadonlyMap<string, { enc: Encoding; form: ExportForm }>,
  builder: QdqWriter,
): void {
  if (layer.node.domain !== '' || !['Conv', 'ConvTranspose', 'Gemm'].includes(layer.opType)) return;
  const [x, w, b] = [layer.inputs[0], layer.inputs[1], layer.inputs[2]];
  if (!x || !w || !b || node.input[2] !== b) return;
  const attr = (name: string) => layer.node.attributes.find((a) => a.name === name);
  if (
    layer.opType === 'Gemm' &&
    ['alpha', 'beta'].some((n) => {
      const a = attr(n);
      return a !== undefined && a.f !== 1;
    })
  )
    return;
  const weight = forms.get(`param:${w}`);
  if (weight?.form.kind !== 'qdq') return;
  const channelAxis = outputChannelAxis(layer, 1, undefined);
  if (weight.enc.axis !== undefined && weight.enc.axis !== channelAxis) return;
  const input = inputEncoding(layer, tensorOf, plan, forms);
  const sIn = input?.channels[0]?.scale;
  if (sIn === undefined) return;
  const tensor = builder.constant(b);
  if (tensor?.dims.length !== 1) return;
  const values = tensorToFloat32(tensor, (t) => builder.model.externalBytes(t) ?? new Uint8Array());
  const sW = weight.enc.channels.map((c) => c.scale);
  const perChannel = weight.enc.axis !== undefined;
  if (perChannel && values.length % sW.length !== 0) return;
  // The scales are stored as float32 and multiplied in float32, as ONNX Runtime's quantizer
  // (and its BiasQuantization graph transformer) computes them: the product must match exactly.
  // ConvTranspose with groups: output channel c uses weight channel c mod (C_out / group).
  const product = (w: number) => Math.fround(Math.fround(sIn) * Math.fround(w));
  const scales = perChannel ? Array.from(values, (_, c) => product(sW[c % sW.length] as number)) : [product(sW[0] as number)];
  const ints: number[] = [];
  for (let c = 0; c < values.length; c++) {
    const s = (perChannel ? scales[c] : scales[0]) as number;
    if (!(s > 0) || !Number.isFinite(s)) return;
    const q = roundHalfEven(Math.fround((values[c] as number) / s));
    if (Math.abs(q) > 2 ** 31 - 1) return;
    ints.push(q);
  }
  const out = builder.int32Bias(b, `${b}__int32_${layer.node.index}`, ints, scales, perChannel);
  node.input[2] = out;
}

/**
 * The encoding of the activation a layer reads at input 0: its own input quantizer, or the
 * quantizer of the tensor it reads, looking through ops that only move data (their outputs keep
 * their input's encoding and carry no quantizer). Only per-tensor integer grids count.
 */
function inputEncoding(
  layer: Layer,
  tensorOf: (name: string) => TensorView | undefined,
  plan: QuantPlan,
  forms: ReadonlyMap<string, { enc: Encoding; form: ExportForm }>,
): Encoding | undefined {
  const usable = (id: string) => {
    const f = forms.get(id);
    return f?.form.kind === 'qdq' && f.enc.axis === undefined ? f.enc : undefined;
  };
  if (plan.get(`input:${layer.name}:0`)) {
    const own = usable(`input:${layer.name}:0`);
    if (own) return own;
  }
  let tensor = layer.inputs[0];
  for (let hops = 0; tensor && hops < 64; hops++) {
    if (plan.get(`activation:${tensor}`)) return usable(`activation:${tensor}`);
    const producer = tensorOf(tensor)?.producer;
    if (producer?.domain !== '' || !VALUE_FORWARDING_OPS.has(producer.opType)) return undefined;
    tensor = producer.inputs[0];
  }
  return undefined;
}
