import { create } from '@bufbuild/protobuf';
import { type GraphProto, type NodeProto, OperatorSetIdProtoSchema, type TensorProto } from 'onnx-buf';
import type { QdqElementType } from '../contracts/backend.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import { gridSteps } from '../encode/grid.js';
import { fakeQuantizeWeights } from '../encode/quantize-to-grid.js';
import { InvalidArgumentError, QuantsimError } from '../errors/quantsim-error.js';
import { scopeProto, twinNodes, viewOfScope } from '../graph/scopes.js';
import type { Model } from '../model/model.js';
import { dtypeCode } from '../onnx/dtype.js';
import { makeNode, makeTensor, typedTensor } from '../onnx/factory.js';
import { floatToHalfBits } from '../onnx/float16.js';
import { definedNames, overwriteWeights, renameReads, subgraphsOf, uniqueNames } from '../onnx/graph-edit.js';
import { halfToFloat, tensorToFloat32 } from '../onnx/tensor-values.js';
import type { QuantPlan } from '../plan/plan.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import type { QuantizerSpec } from '../plan/spec.js';
import { sortNodes } from '../transform/sort-nodes.js';
import { chooseForm, onnxQuantization, type QuantizerForm } from './qdq-form.js';

/** Options of {@link buildSimulatedModel}. */
export interface SimulatedModelOptions {
  /** Q/DQ types the backend runs; other quantizers use the float fake-quant form. */
  readonly qdqTypes: ReadonlySet<QdqElementType>;
}

/** The simulated model and how each quantizer was expressed. */
export interface SimulatedModel {
  readonly model: Model;
  /** Quantizer id → form used. */
  readonly forms: ReadonlyMap<string, QuantizerForm>;
}

/**
 * Builds the simulated model: the (BatchNorm-folded) float model with a quantizer after every
 * quantized activation and on every quantized weight. Activation quantizers are
 * QuantizeLinear/DequantizeLinear pairs for 4-, 8- and 16-bit grids that ONNX can express, and
 * a float subgraph (`Δ · clamp(round(x / Δ), offset, offset + N)`) otherwise. Tensor names are
 * kept: the float value is renamed `<name>__float` and the quantized one takes the original name.
 */
export function buildSimulatedModel(
  prepared: PreparedModel,
  plan: QuantPlan,
  encodings: EncodingMap,
  options: SimulatedModelOptions,
): SimulatedModel {
  const model = prepared.model.clone();
  const graph = model.proto.graph as GraphProto;
  const opset = prepared.model.opset;
  const forms = new Map<string, QuantizerForm>();
  const { unique, cloneOf, sinks, sinkOf } = sinksByScope(prepared, graph);

  for (const spec of plan.quantizers) {
    if (!spec.enabled) continue;
    const enc = encodings.get(spec.id);
    if (!enc) continue;
    const form = chooseForm(enc, opset, options.qdqTypes);
    forms.set(spec.id, form);
    if (spec.kind === 'param') quantizeParam(spec, enc, form);
    else if (spec.kind === 'activation') quantizeActivation(spec, enc, form);
    else quantizeInput(spec, enc, form);
  }

  function quantizeActivation(spec: QuantizerSpec, enc: Encoding, form: QuantizerForm): void {
    const t = viewOfScope(prepared.graph, spec.scope)?.tensor(spec.tensor);
    const sink = sinkOf(spec.scope);
    if (!t || !sink) return;
    const emit = (input: string, output: string) => emitQuantizer(sink, input, output, enc, form, spec.id);
    const producer = t.producer;
    if (producer) {
      const p = cloneOf.get(producer.proto);
      if (!p) return;
      // Readers in nested branches see the quantized value too: they read it by name.
      const floatName = unique(`${spec.tensor}__float`);
      p.output = p.output.map((o) => (o === spec.tensor ? floatName : o));
      emit(floatName, spec.tensor);
      return;
    }
    if (spec.scope !== undefined) return;
    // A graph input keeps its name: its readers switch to the quantized copy.
    const quantized = unique(`${spec.tensor}__quantized`);
    for (const c of t.consumers) {
      const n = cloneOf.get(c.node.proto);
      if (n) n.input[c.index] = quantized;
    }
    // If branches read graph inputs by name from the outer scope: they switch too.
    const renamed = new Map([[spec.tensor, quantized]]);
    for (const n of graph.node) for (const a of n.attribute) for (const g of subgraphsOf(a)) renameReads(g, renamed);
    emit(spec.tensor, quantized);
  }

  function quantizeInput(spec: QuantizerSpec, enc: Encoding, form: QuantizerForm): void {
    const layer = spec.layer ? prepared.graph.node(spec.layer) : undefined;
    const n = layer ? cloneOf.get(layer.proto) : undefined;
    const sink = sinkOf(undefined);
    if (!n || !sink || spec.inputIndex === undefined) return;
    const quantized = unique(`${spec.tensor}__input_${spec.inputIndex}_${layer?.index}`);
    // Reads the value as it arrives (after the producer's own quantizer, if any).
    emitQuantizer(sink, n.input[spec.inputIndex] as string, quantized, enc, form, spec.id);
    n.input[spec.inputIndex] = quantized;
  }

  function quantizeParam(spec: QuantizerSpec, enc: Encoding, form: QuantizerForm): void {
    const tensor = model.constantTensor(spec.tensor, scopeProto(prepared.graph, graph, cloneOf, spec.scope));
    if (!tensor) return;
    if (form.kind === 'identity') return;
    const values = tensorToFloat32(tensor, (tp) => model.externalBytes(tp) ?? new Uint8Array());
    overwriteWeights(tensor, simulatedParamValues(values, tensor.dims.map(Number), enc, form));
  }

  let usesMicrosoft = false;
  for (const [g, sink] of sinks) {
    g.node = [...g.node, ...sink.nodes];
    g.initializer = [...g.initializer, ...sink.initializers];
    usesMicrosoft ||= sink.usesMicrosoft;
    // ONNX Runtime sorts the main graph itself, but requires If branches in topological order.
    if (g !== graph) sortNodes(g);
  }
  if (usesMicrosoft && !model.proto.opsetImport.some((o) => o.domain === 'com.microsoft'))
    model.proto.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }));
  return { model, forms };
}

/**
 * The quantizer sinks of a copy of the prepared model (whose main graph is `graph`): one per graph,
 * made on first use, so that quantizers of an If branch go into that branch (see
 * `QuantizerSpec.scope`). Also the copy's twins of the prepared model's nodes, and a name
 * allocator unique in the whole model.
 */
export function sinksByScope(
  prepared: PreparedModel,
  graph: GraphProto,
): {
  unique: (base: string) => string;
  cloneOf: Map<NodeProto, NodeProto>;
  sinks: ReadonlyMap<GraphProto, QuantizerSink>;
  sinkOf: (scope: string | undefined) => QuantizerSink | undefined;
} {
  const opset = prepared.model.opset;
  const unique = uniqueNames(definedNames(prepared.model.proto.graph as GraphProto, new Set(prepared.graph.tensors.keys())));
  const cloneOf = twinNodes(prepared.model.proto.graph as GraphProto, graph);
  const sinks = new Map<GraphProto, QuantizerSink>();
  const sinkOf = (scope: string | undefined): QuantizerSink | undefined => {
    const g = scopeProto(prepared.graph, graph, cloneOf, scope);
    if (!g) return undefined;
    let sink = sinks.get(g);
    if (!sink) {
      sink = { opset, unique, nodes: [], initializers: [], usesMicrosoft: false };
      sinks.set(g, sink);
    }
    return sink;
  };
  return { unique, cloneOf, sinks, sinkOf };
}

/** Where {@link emitQuantizer} writes: new nodes and initializers, and a tensor-name allocator. */
export interface QuantizerSink {
  /** The model's default-domain opset. */
  readonly opset: number;
  /** A tensor name not used yet, based on `base`. */
  unique(base: string): string;
  /** Nodes emitted so far, in order. */
  readonly nodes: NodeProto[];
  /** Initializers emitted so far (scales, zero points, clamp bounds). */
  readonly initializers: TensorProto[];
  /** Set when a `com.microsoft` Q/DQ was emitted (the model then needs that opset import). */
  usesMicrosoft: boolean;
}

/**
 * Writes the nodes of one activation quantizer, `input` → `output`, in the given form: Q/DQ, the
 * float fake-quant subgraph, an fp16 round trip, or an Identity.
 *
 * @throws InvalidArgumentError for an integer encoding without channels.
 */
export function emitQuantizer(
  sink: QuantizerSink,
  input: string,
  output: string,
  enc: Encoding,
  form: QuantizerForm,
  id: string,
): void {
  if (form.kind === 'identity') {
    sink.nodes.push(node('Identity', [input], [output]));
    return;
  }
  if (form.kind === 'fp16') {
    const mid = sink.unique(`${output}__fp16`);
    sink.nodes.push(
      node('Cast', [input], [mid], { to: dtypeCode('float16') }),
      node('Cast', [mid], [output], { to: dtypeCode('float32') }),
    );
    return;
  }
  const ch = enc.channels[0];
  if (!ch)
    throw new InvalidArgumentError(`Quantizer ${id} has an integer encoding without channels.`, {
      hint: 'Calibrate the quantizer (or load its encoding) before simulating it.',
    });
  if (form.kind === 'fake-quant') {
    // Δ · round(clamp(x / Δ, offset, offset + N)): clamping first keeps |x / Δ| below 2^22, where
    // adding and subtracting 1.5·2^23 rounds a float32 half to even, exactly like ONNX Round.
    // That form needs only Add and Sub, so it runs at any opset and on backends without a
    // Round kernel (WebGPU); wider grids use Round (opset 11+) or floor(x + 0.5).
    const n = gridSteps(enc);
    const delta = scalar(sink.unique(`${output}__scale`), ch.scale);
    const lo = scalar(sink.unique(`${output}__qmin`), ch.offset);
    const hi = scalar(sink.unique(`${output}__qmax`), ch.offset + n);
    sink.initializers.push(delta, lo, hi);
    const div = sink.unique(`${output}__div`);
    const low = sink.unique(`${output}__max`);
    const clamped = sink.unique(`${output}__min`);
    const rounded = sink.unique(`${output}__round`);
    sink.nodes.push(
      node('Div', [input, delta.name], [div]),
      node('Max', [div, lo.name], [low]),
      node('Min', [low, hi.name], [clamped]),
    );
    if (Math.max(Math.abs(ch.offset), Math.abs(ch.offset + n)) < 2 ** 22) {
      const magic = scalar(sink.unique(`${output}__magic`), MAGIC);
      sink.initializers.push(magic);
      const shifted = sink.unique(`${output}__shift`);
      sink.nodes.push(node('Add', [clamped, magic.name], [shifted]), node('Sub', [shifted, magic.name], [rounded]));
    } else if (sink.opset >= 11) sink.nodes.push(node('Round', [clamped], [rounded]));
    else {
      const half = scalar(sink.unique(`${output}__half`), 0.5);
      sink.initializers.push(half);
      const shifted = sink.unique(`${output}__shift`);
      sink.nodes.push(node('Add', [clamped, half.name], [shifted]), node('Floor', [shifted], [rounded]));
    }
    sink.nodes.push(node('Mul', [rounded, delta.name], [output]));
    return;
  }
  const q = onnxQuantization(enc);
  if (!q)
    throw new QuantsimError('UNSUPPORTED', `Quantizer ${id} has no ONNX Q/DQ form for its encoding.`, {
      hint: 'This is a bug in quantsim: such encodings take the fake-quant form.',
    });
  const s = makeTensor(sink.unique(`${output}__qscale`), 'float32', [], [ch.scale]);
  const z = typedTensor(sink.unique(`${output}__qzero`), form.type, [], [q.zeroPoints[0] ?? 0]);
  sink.initializers.push(s, z);
  const mid = sink.unique(`${output}__q`);
  if (form.domain === 'com.microsoft') sink.usesMicrosoft = true;
  sink.nodes.push(
    node('QuantizeLinear', [input, s.name, z.name], [mid], {}, form.domain),
    node('DequantizeLinear', [mid, s.name, z.name], [output], {}, form.domain),
  );
}

/** A parameter's values as the simulation computes with them (fake-quantized, or rounded to fp16). */
export function simulatedParamValues(
  values: Float32Array,
  dims: readonly number[],
  enc: Encoding,
  form: QuantizerForm,
): Float32Array {
  if (form.kind === 'identity') return values;
  return form.kind === 'fp16'
    ? Float32Array.from(values, (v) => halfToFloat(floatToHalfBits(v)))
    : fakeQuantizeWeights(values, dims, enc);
}

function node(opType: string, input: string[], output: string[], attrs: Record<string, number> = {}, domain = ''): NodeProto {
  return makeNode(opType, input, output, attrs, { domain });
}

/** 1.5·2^23: float32 addition of it rounds any |x| < 2^22 to an integer, ties to even. */
const MAGIC = 12582912;

function scalar(name: string, value: number): TensorProto {
  return makeTensor(name, 'float32', [], [value]);
}
