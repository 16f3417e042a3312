import type { GraphProto, NodeProto } from 'onnx-buf';
import type { Encoding, EncodingMap } from '../../contracts/encoding.js';
import { onnxQuantParams } from '../../encode/onnx-quant-params.js';
import { InvalidArgumentError } from '../../errors/quantsim-error.js';
import { UnsupportedBitwidthError, type UnsupportedBitwidthQuantizer } from '../../errors/unsupported-bitwidth-error.js';
import type { Layer } from '../../graph/graph-view.js';
import { bodiesOf, bodyProto, insideIfOnly } from '../../graph/scopes.js';
import type { Model } from '../../model/model.js';
import { pruneOrphans, readNames, subgraphsOf } from '../../onnx/graph-edit.js';
import type { QuantPlan } from '../../plan/plan.js';
import type { PreparedModel } from '../../plan/prepared-model.js';
import type { QuantizerSpec } from '../../plan/spec.js';
import { convertOpset } from '../../transform/convert-opset.js';
import { sortNodes } from '../../transform/sort-nodes.js';
import type { ExportOptions } from '../export-simulation.js';

/**
 * The default-domain opset of the exported QDQ model: the first at which standard
 * QuantizeLinear/DequantizeLinear take int4/uint4 and int16/uint16 (and the first that ONNX
 * Runtime runs them at), so one opset serves every bitwidth.
 */
export const QDQ_EXPORT_OPSET = 21;

/**
 * Builds the deployable QDQ model: the BatchNorm-folded float model converted to opset
 * {@link QDQ_EXPORT_OPSET}, with every enabled quantizer that has an encoding written the way
 * ONNX Runtime's own quantizer writes one, so that runtimes fuse them into integer kernels:
 *
 * - activations and layer inputs: a QuantizeLinear/DequantizeLinear pair in the standard domain
 *   with the encoding's element type, scale and zero point ({@link onnxQuantParams}: signed types
 *   for symmetric encodings, unsigned for asymmetric ones), except that 8-bit signed activation
 *   grids are stored as uint8 with the zero point shifted by 128 (the same grid; see
 *   `ort-exact.ts`, which also keeps ONNX Runtime's fusions exact, docs/deployment-fidelity.md);
 * - weights: stored as integers (int4/uint4/int8/uint8/int16/uint16) behind a DequantizeLinear,
 *   per-axis (scale and zero point vectors with `axis`) for per-channel encodings;
 * - biases of Conv, ConvTranspose and Gemm whose weight and input activation are quantized:
 *   int32 with scale = input scale × weight scale (per channel where the weight is), zero point
 *   0, behind a DequantizeLinear, whether or not the plan quantizes the bias (as ONNX Runtime's
 *   `quantize_static` does; its fused kernels assume exactly that scale);
 * - fp16 quantizers: a Cast to float16 and back; float32 and disabled quantizers: nothing.
 *
 * Bitwidths without an ONNX type (2, 3, 5, 6, 7, 9–15, 17–32) raise an
 * {@link UnsupportedBitwidthError} listing them all, unless `options.unsupportedBitwidth` is
 * `'clip'`: then 2–15 bits are written as a QuantizeLinear of the next wider type (8 or 16 bits),
 * a Clip to the encoding's own integer range and a DequantizeLinear (weights: the narrow grid's
 * integers stored in the wider type), and 17–32 bits, wider than any QuantizeLinear type, as
 * Div, Round, Clip and Mul in float.
 *
 * Strict symmetric encodings follow {@link onnxQuantParams}: an 8-bit one gets int8 with zero
 * point −1, so weights are exact, while an activation's QuantizeLinear can still reach one step
 * above the grid (+2^(b−1)·Δ instead of (2^(b−1) − 1)·Δ) for inputs beyond its range.
 *
 * Tensor names of the float model are kept: a quantized activation keeps its name and the float
 * value is renamed `<name>__float`.
 *
 * @throws UnsupportedBitwidthError for bitwidths without an ONNX type (without `clip`).
 * @throws UnsupportedError when the model cannot be converted to opset 21.
 * @throws InvalidArgumentError for an unknown `unsupportedBitwidth` option.
 */
export function buildQdqModel(prepared: PreparedModel, plan: QuantPlan, encodings: EncodingMap, options: ExportOptions): Model {
  const mode = options.unsupportedBitwidth ?? 'error';
  if (mode !== 'error' && mode !== 'clip')
    throw new InvalidArgumentError(`unsupportedBitwidth must be 'error' or 'clip', received ${JSON.stringify(mode)}.`, {
      hint: "Use { unsupportedBitwidth: 'clip' } to write Q, Clip, DQ for bitwidths ONNX has no type for.",
    });

  const active: { spec: QuantizerSpec; enc: Encoding; form: ExportForm }[] = [];
  const unsupported: UnsupportedBitwidthQuantizer[] = [];
  for (const spec of plan.quantizers) {
    const enc = spec.enabled ? encodings.get(spec.id) : undefined;
    if (!enc) continue;
    if (enc.dtype === 'float') {
      if (enc.bitwidth === 16) active.push({ spec, enc, form: { kind: 'fp16' } });
      continue;
    }
    if (!NATIVE_BITWIDTHS.has(enc.bitwidth) && mode === 'error') {
      unsupported.push({ id: spec.id, bitwidth: enc.bitwidth });
      continue;
    }
    const form: ExportForm = enc.bitwidth > 16 ? { kind: 'float-grid' } : { kind: 'qdq', grid: qdqGrid(enc) };
    active.push({ spec, enc, form });
  }
  if (unsupported.length > 0) throw new UnsupportedBitwidthError(unsupported);

  // A model already past opset 21 keeps its opset: its Q/DQ take every type as well.
  const { model, replacements } = convertOpset(prepared.model, Math.max(QDQ_EXPORT_OPSET, prepared.model.opset));
  const graph = model.proto.graph as GraphProto;
  const readBefore = readNames(graph);
  const builder = new QdqWriter(model, graph);
  // Quantizers of If branches are written into their branch, by the same writer code.
  const branchWriters = new Map<string, { graph: GraphProto; writer: QdqWriter; readBefore: Set<string> }>();
  const writerOf = (scope: string | undefined): QdqWriter | undefined => {
    if (scope === undefined) return builder;
    let entry = branchWriters.get(scope);
    if (!entry) {
      const body = bodiesOf(prepared.graph).get(scope);
      const g = body ? convertedBranch(graph, body.owner.outputs[0] ?? '', body.attribute) : undefined;
      if (!g) return undefined;
      entry = { graph: g, writer: new QdqWriter(model, g, builder.unique), readBefore: readNames(g) };
      branchWriters.set(scope, entry);
    }
    return entry.writer;
  };
  const formOf = new Map(active.map((a) => [a.spec.id, a]));
  const convertedNode = (layer: Layer) => replacements.get(layer.node.proto)?.[0];

  // Biases first: they read the plan, and the weights' rewiring must not hide their layers.
  for (const layer of prepared.graph.layers) {
    const node = convertedNode(layer);
    if (node) writeInt32Bias(layer, node, (n) => prepared.graph.tensor(n), plan, formOf, builder);
  }
  // The same in If branches: a branch sees its own tensors, then those of the graphs around it.
  for (const body of bodiesOf(prepared.graph).values()) {
    if (!insideIfOnly(prepared.graph, body.path)) continue;
    const views = [body.view];
    for (let b = bodiesOf(prepared.graph).get(body.parent.path); b; b = bodiesOf(prepared.graph).get(b.parent.path))
      views.push(b.view);
    views.push(prepared.graph);
    const tensorOf = (n: string) => views.map((v) => v.tensor(n)).find((t) => t?.producer || t?.role === 'graph-input');
    const writer = writerOf(body.path);
    const g = writer ? branchWriters.get(body.path)?.graph : undefined;
    if (!writer || !g) continue;
    for (const layer of body.view.layers) {
      const node = g.node.find((n) => n.output[0] === layer.outputs[0] && n.opType === layer.opType);
      if (node) writeInt32Bias(layer, node, tensorOf, plan, formOf, writer);
    }
  }
  for (const { spec, enc, form } of active) if (spec.kind === 'param') writerOf(spec.scope)?.param(spec.tensor, enc, form);
  for (const { spec, enc, form } of active) {
    if (spec.kind !== 'input' || spec.inputIndex === undefined || !spec.layer) continue;
    const layer = prepared.graph.node(spec.layer);
    const original = layer?.inputs[spec.inputIndex];
    const nodes = layer ? replacements.get(layer.proto) : undefined;
    if (!layer || !original || !nodes) continue;
    // A layer that reads the tensor twice (Mul(x, x)) gets the quantizer on the one input only.
    const twice = layer.inputs.filter((i) => i === original).length > 1;
    const readers = twice
      ? [{ node: nodes[0] as NodeProto, index: spec.inputIndex }]
      : nodes.flatMap((n) => n.input.flatMap((name, index) => (name === original ? [{ node: n, index }] : [])));
    builder.input(original, readers, `${original}__input_${spec.inputIndex}_${layer.index}`, enc, form);
  }
  for (const { spec, enc, form } of active)
    if (spec.kind === 'activation') writerOf(spec.scope)?.activation(spec.tensor, enc, form);
  keepOrtExact(model, graph, builder.unique);

  for (const b of branchWriters.values()) {
    pruneOrphans(b.graph, b.readBefore);
    sortNodes(b.graph);
  }
  pruneOrphans(graph, readBefore);
  sortNodes(graph);
  return model;
}

/**
 * The branch `attribute` of the If whose first output is `output`, anywhere in `graph` (after
 * opset conversion, which keeps output names but may add nodes to branches).
 */
function convertedBranch(graph: GraphProto, output: string, attribute: string): GraphProto | undefined {
  for (const n of graph.node) {
    if (n.opType === 'If' && n.output[0] === output) return bodyProto(n, attribute);
    for (const a of n.attribute)
      for (const g of subgraphsOf(a)) {
        const found = convertedBranch(g, output, attribute);
        if (found) return found;
      }
  }
  return undefined;
}

import { type ExportForm, NATIVE_BITWIDTHS, qdqGrid } from './forms.js';
import { writeInt32Bias } from './int32-bias.js';
import { keepOrtExact } from './ort-exact.js';
import { QdqWriter } from './writer.js';
