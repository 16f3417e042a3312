import { create } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  TensorProto_DataType as DT,
  type GraphProto,
  type NodeProto,
  NodeProtoSchema,
  type TensorProto,
  TensorProtoSchema,
} from 'onnx-buf';
import type { QdqElementType } from '../contracts/backend.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import { InvalidArgumentError } from '../errors/quantsim-error.js';
import { UnsupportedBitwidthError, type UnsupportedBitwidthQuantizer } from '../errors/unsupported-bitwidth-error.js';
import type { Layer } from '../graph/graph-view.js';
import type { Model } from '../model/model.js';
import { dtypeCode } from '../onnx/dtype.js';
import { float16ToBytes } from '../onnx/float16.js';
import { type AttrValue, makeAttribute, makeTensor } from '../onnx/model-builder.js';
import { float32ToBytes, tensorToFloat32 } from '../onnx/tensor-values.js';
import type { QuantPlan } from '../quant/plan.js';
import type { PreparedModel } from '../quant/prepared-model.js';
import type { QuantizerSpec } from '../quant/spec.js';
import type { ExportOptions } from '../sim/export-simulation.js';
import { typedTensor } from '../sim/simulated-model.js';
import { fakeQuantizeWeights, quantizeToGrid } from '../sim/weights.js';
import { convertOpset } from '../transform/convert-opset.js';
import { sortNodes } from '../transform/sort-nodes.js';
import { onnxQuantParams, zeroPointFromOffset } from './onnx-quant-params.js';
import { activationTypeForOrt, keepOrtExact } from './ort-exact-qdq.js';

/**
 * The default-domain opset of the exported QDQ model: the first at which standard
 * QuantizeLinear/DequantizeLinear take int4/uint4 and int16/uint16 (and the first that ONNX
 * Runtime runs them at), so one opset serves every bitwidth.
 */
export const QDQ_EXPORT_OPSET = 21;

/** Bitwidths with an ONNX QuantizeLinear element type. */
const NATIVE_BITWIDTHS: ReadonlySet<number> = new Set([4, 8, 16]);

/** Ops whose output holds the same values as their (first) input: the bias's input scale is found through them. */
const PASS_THROUGH: ReadonlySet<string> = new Set([
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
  'Identity',
  'Split',
  'Slice',
  'Gather',
  'GatherElements',
  'GatherND',
  'Expand',
  'Tile',
  'DepthToSpace',
  'SpaceToDepth',
  'MaxPool',
  'Dropout',
  'Resize',
  'Upsample',
]);

/** The integer grid of a quantizer in its ONNX storage type. */
interface QdqGrid {
  readonly type: QdqElementType;
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly axis: number | undefined;
  /** The encoding's own integer range inside `type`, when it is narrower (the Clip form). */
  readonly clip: { readonly lo: number; readonly hi: number } | undefined;
}

/** How a quantizer is written into the QDQ model. */
type ExportForm =
  /** QuantizeLinear/DequantizeLinear (a Clip between them for bitwidths ONNX has no type for); weights as integers behind DequantizeLinear. */
  | { readonly kind: 'qdq'; readonly grid: QdqGrid }
  /** 17–32 bits with `clip`: no integer type is wide enough, so Div, Round, Clip, Mul in float. */
  | { readonly kind: 'float-grid' }
  /** fp16: a Cast to float16 and back (weights stored as float16 behind a Cast). */
  | { readonly kind: 'fp16' };

/**
 * Builds the deployable QDQ model: the BatchNorm-folded float model converted to opset
 * {@link QDQ_EXPORT_OPSET}, with every enabled quantizer that has an encoding written the way
 * ONNX Runtime's own quantizer writes one, so that runtimes fuse them into integer kernels:
 *
 * - activations and layer inputs: a QuantizeLinear/DequantizeLinear pair in the standard domain
 *   with the encoding's element type, scale and zero point ({@link onnxQuantParams}: signed types
 *   for symmetric encodings, unsigned for asymmetric ones), except that 8-bit signed activation
 *   grids are stored as uint8 with the zero point shifted by 128 (the same grid; see
 *   `ort-exact-qdq.ts`, which also keeps ONNX Runtime's fusions exact, docs/deployment-fidelity.md);
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
  const formOf = new Map(active.map((a) => [a.spec.id, a]));
  const convertedNode = (layer: Layer) => replacements.get(layer.node.proto)?.[0];

  // Biases first: they read the plan, and the weights' rewiring must not hide their layers.
  for (const layer of prepared.graph.layers) {
    const node = convertedNode(layer);
    if (node) writeInt32Bias(layer, node, prepared, plan, formOf, builder);
  }
  for (const { spec, enc, form } of active) if (spec.kind === 'param') builder.param(spec.tensor, enc, form);
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
  for (const { spec, enc, form } of active) if (spec.kind === 'activation') builder.activation(spec.tensor, enc, form);
  keepOrtExact(model, graph, (base) => builder.unique(base));

  dropOrphanedConstants(graph, readBefore);
  sortNodes(graph);
  return model;
}

/** The ONNX grid of an integer encoding; bitwidths without a type use the next wider one with a Clip range. */
function qdqGrid(enc: Encoding): QdqGrid {
  if (NATIVE_BITWIDTHS.has(enc.bitwidth)) {
    const p = onnxQuantParams(enc);
    return { type: p.type, scale: p.scale, zeroPoint: p.zeroPoint, axis: p.axis, clip: undefined };
  }
  const b = enc.bitwidth;
  const signed = enc.symmetric;
  const wide = b < 8 ? 8 : 16;
  const n = 2 ** b - 1 - (enc.strictSymmetric && enc.symmetric ? 1 : 0);
  const zeroPoint = enc.channels.map((c) => zeroPointFromOffset(c.offset, b, signed));
  const first = enc.channels[0];
  if (!first)
    throw new InvalidArgumentError('An integer encoding has no channels.', {
      hint: 'Calibrate the quantizer before exporting it.',
    });
  // The grid point q stands for Δ·(q + offset) and is stored as q + offset + zero point.
  const lo = first.offset + (zeroPoint[0] as number);
  const half = 2 ** (wide - 1);
  const [min, max] = signed ? [-half, half - 1] : [0, 2 * half - 1];
  if (enc.channels.some((c, i) => c.offset + (zeroPoint[i] as number) !== lo) || lo < min || lo + n > max)
    throw new InvalidArgumentError(`A ${b}-bit encoding has offsets outside its grid [-(2^${b} - 1), 0].`, {
      hint: 'Offsets must be integers in [-(2^bitwidth - 1), 0]; calibrate again.',
    });
  return {
    type: `${signed ? 'int' : 'uint'}${wide}` as QdqElementType,
    scale: enc.channels.map((c) => c.scale),
    zeroPoint,
    axis: enc.axis,
    clip: { lo, hi: lo + n },
  };
}

/**
 * Writes the int32 bias of a Conv, ConvTranspose or Gemm whose weight and input are quantized:
 * b_q = round(b / (s_in·s_w)) (half to even, as numpy's round in ONNX Runtime's quantizer),
 * scale s_in·s_w computed in float32, zero point 0. The layer keeps its float bias when the
 * product would overflow int32 or a scale is zero, and a Gemm does when alpha or beta is not 1.
 */
function writeInt32Bias(
  layer: Layer,
  node: NodeProto,
  prepared: PreparedModel,
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
  const channelAxis = layer.opType === 'Conv' ? 0 : layer.opType === 'ConvTranspose' ? 1 : attr('transB')?.i ? 0 : 1;
  if (weight.enc.axis !== undefined && weight.enc.axis !== channelAxis) return;
  const input = inputEncoding(layer, prepared, plan, forms);
  const sIn = input?.channels[0]?.scale;
  if (sIn === undefined) return;
  const tensor = builder.model.constantTensor(b);
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
  prepared: PreparedModel,
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
    const producer = prepared.graph.tensor(tensor)?.producer;
    if (producer?.domain !== '' || !PASS_THROUGH.has(producer.opType)) return undefined;
    tensor = producer.inputs[0];
  }
  return undefined;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Adds quantizer nodes and tensors to a graph, with names unique in the model. */
class QdqWriter {
  readonly model: Model;
  readonly #graph: GraphProto;
  readonly #names = new Set<string>();

  constructor(model: Model, graph: GraphProto) {
    this.model = model;
    this.#graph = graph;
    for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) this.#names.add(v.name);
    for (const t of graph.initializer) this.#names.add(t.name);
    const visit = (g: GraphProto) => {
      for (const n of g.node) {
        for (const o of n.output) this.#names.add(o);
        for (const a of n.attribute) for (const s of subgraphs(a)) visit(s);
      }
      for (const t of g.initializer) this.#names.add(t.name);
    };
    visit(graph);
  }

  unique(base: string): string {
    let n = base;
    for (let k = 2; this.#names.has(n); k++) n = `${base}_${k}`;
    this.#names.add(n);
    return n;
  }

  /** A quantized activation keeps its name; the producer's output becomes `<name>__float`. */
  activation(tensor: string, enc: Encoding, form: ExportForm): void {
    const producer = this.#graph.node.find((n) => n.output.includes(tensor));
    if (producer) {
      const float = this.unique(`${tensor}__float`);
      producer.output = producer.output.map((o) => (o === tensor ? float : o));
      this.#emit(float, tensor, enc, form, tensor);
      return;
    }
    if (!this.#graph.input.some((v) => v.name === tensor)) return;
    // A graph input keeps its name: its readers switch to the quantized copy.
    const quantized = this.unique(`${tensor}__quantized`);
    const readers = this.#graph.node.flatMap((n) =>
      n.input.flatMap((name, index) => (name === tensor ? [{ node: n, index }] : [])),
    );
    this.#emit(tensor, quantized, enc, form, tensor);
    for (const r of readers) r.node.input[r.index] = quantized;
  }

  /** An input quantizer: only the given readers (inputs of one layer) switch to the quantized copy. */
  input(
    tensor: string,
    readers: readonly { node: NodeProto; index: number }[],
    base: string,
    enc: Encoding,
    form: ExportForm,
  ): void {
    const quantized = this.unique(base);
    this.#emit(tensor, quantized, enc, form, base);
    for (const r of readers) r.node.input[r.index] = quantized;
  }

  /** A parameter: stored as integers behind DequantizeLinear (or float16 behind Cast); its readers switch over. */
  param(tensorName: string, enc: Encoding, form: ExportForm): void {
    const readers = this.#graph.node.flatMap((n) =>
      n.input.flatMap((name, index) => (name === tensorName ? [{ node: n, index }] : [])),
    );
    const tensor = this.model.constantTensor(tensorName);
    // An int32 bias may have taken every reader already.
    if (!tensor || readers.length === 0) return;
    const values = tensorToFloat32(tensor, (t) => this.model.externalBytes(t) ?? new Uint8Array());
    const dims = tensor.dims.map(Number);
    let out: string;
    if (form.kind === 'float-grid') {
      // No integer type holds 17–32 bits: the weight keeps float storage, on its grid.
      tensor.rawData = float32ToBytes(fakeQuantizeWeights(values, dims, enc)) as Uint8Array<ArrayBuffer>;
      tensor.floatData = [];
      tensor.dataLocation = 0;
      tensor.externalData = [];
      return;
    }
    if (form.kind === 'fp16') {
      const half = this.#add(
        create(TensorProtoSchema, {
          name: this.unique(`${tensorName}__fp16`),
          dataType: DT.FLOAT16,
          dims: tensor.dims,
          rawData: float16ToBytes(values) as Uint8Array<ArrayBuffer>,
        }),
      );
      out = this.unique(`${tensorName}__dequantized`);
      this.#node('Cast', [half], [out], { to: DT.FLOAT });
    } else {
      const g = form.grid;
      const grid = quantizeToGrid(values, dims, enc);
      const inner = g.axis === undefined ? values.length : dims.slice(g.axis + 1).reduce((a, b) => a * b, 1);
      // Δ·(q + offset) = Δ·(stored − zero point): the stored integer is the grid value plus the zero point.
      const stored = Array.from(
        grid,
        (v, i) => v + (g.zeroPoint[g.axis === undefined ? 0 : Math.floor(i / inner) % g.zeroPoint.length] as number),
      );
      const shape = g.axis === undefined ? [] : [g.scale.length];
      const w = this.#add(typedTensor(this.unique(`${tensorName}__quantized`), g.type, dims, stored));
      const s = this.#add(makeTensor(this.unique(`${tensorName}__scale`), 'float32', shape, g.scale));
      const z = this.#add(typedTensor(this.unique(`${tensorName}__zero_point`), g.type, shape, g.zeroPoint));
      out = this.unique(`${tensorName}__dequantized`);
      this.#node('DequantizeLinear', [w, s, z], [out], g.axis === undefined ? {} : { axis: g.axis });
    }
    for (const r of readers) r.node.input[r.index] = out;
  }

  /** An int32 bias behind DequantizeLinear (axis 0 when per channel); returns the dequantized name. */
  int32Bias(bias: string, base: string, values: readonly number[], scales: readonly number[], perChannel: boolean): string {
    const shape = perChannel ? [scales.length] : [];
    const q = this.#add(int32Tensor(this.unique(base), [values.length], values));
    const s = this.#add(makeTensor(this.unique(`${bias}__scale`), 'float32', shape, scales));
    const z = this.#add(
      int32Tensor(
        this.unique(`${bias}__zero_point`),
        shape,
        scales.map(() => 0),
      ),
    );
    const out = this.unique(`${bias}__dequantized`);
    this.#node('DequantizeLinear', [q, s, z], [out], perChannel ? { axis: 0 } : {});
    return out;
  }

  #emit(input: string, output: string, enc: Encoding, form: ExportForm, base: string): void {
    if (form.kind === 'fp16') {
      const half = this.unique(`${base}__fp16`);
      this.#node('Cast', [input], [half], { to: DT.FLOAT16 });
      this.#node('Cast', [half], [output], { to: DT.FLOAT });
      return;
    }
    const ch = enc.channels[0];
    if (!ch)
      throw new InvalidArgumentError(`The encoding of ${base} has no channels.`, {
        hint: 'Calibrate the quantizer before exporting it.',
      });
    if (form.kind === 'float-grid') {
      const n = 2 ** enc.bitwidth - 1 - (enc.strictSymmetric && enc.symmetric ? 1 : 0);
      const delta = this.#add(makeTensor(this.unique(`${base}__scale`), 'float32', [], [ch.scale]));
      const lo = this.#add(makeTensor(this.unique(`${base}__qmin`), 'float32', [], [ch.offset]));
      const hi = this.#add(makeTensor(this.unique(`${base}__qmax`), 'float32', [], [ch.offset + n]));
      const div = this.unique(`${base}__div`);
      const rounded = this.unique(`${base}__round`);
      const clipped = this.unique(`${base}__clip`);
      this.#node('Div', [input, delta], [div]);
      this.#node('Round', [div], [rounded]);
      this.#node('Clip', [rounded, lo, hi], [clipped]);
      this.#node('Mul', [clipped, delta], [output]);
      return;
    }
    const g = activationTypeForOrt(form.grid);
    const shape = g.axis === undefined ? [] : [g.scale.length];
    const s = this.#add(makeTensor(this.unique(`${base}__scale`), 'float32', shape, g.scale));
    const z = this.#add(typedTensor(this.unique(`${base}__zero_point`), g.type, shape, g.zeroPoint));
    const axis: Record<string, AttrValue> = g.axis === undefined ? {} : { axis: g.axis };
    const q = this.unique(`${base}__quantized`);
    this.#node('QuantizeLinear', [input, s, z], [q], axis);
    if (!g.clip) {
      this.#node('DequantizeLinear', [q, s, z], [output], axis);
      return;
    }
    if (g.type === 'int16' || g.type === 'uint16') {
      // ONNX Runtime has no 16-bit integer Clip kernel (it expands Clip to Where, which has none),
      // so 9–15-bit grids clamp after dequantizing, to the grid's end points: the same values.
      const zp = g.zeroPoint[0] as number;
      const scale = Math.fround(g.scale[0] as number);
      const lo = this.#add(makeTensor(this.unique(`${base}__grid_min`), 'float32', [], [Math.fround((g.clip.lo - zp) * scale)]));
      const hi = this.#add(makeTensor(this.unique(`${base}__grid_max`), 'float32', [], [Math.fround((g.clip.hi - zp) * scale)]));
      const dq = this.unique(`${base}__dequantized`);
      this.#node('DequantizeLinear', [q, s, z], [dq], axis);
      this.#node('Clip', [dq, lo, hi], [output]);
      return;
    }
    // The encoding's grid is narrower than the stored type: clamp the integers to it.
    const lo = this.#add(typedTensor(this.unique(`${base}__grid_min`), g.type, [], [g.clip.lo]));
    const hi = this.#add(typedTensor(this.unique(`${base}__grid_max`), g.type, [], [g.clip.hi]));
    const clipped = this.unique(`${base}__clipped`);
    this.#node('Clip', [q, lo, hi], [clipped]);
    this.#node('DequantizeLinear', [clipped, s, z], [output], axis);
  }

  #add(tensor: TensorProto): string {
    this.#graph.initializer.push(tensor);
    return tensor.name;
  }

  #node(opType: string, input: string[], output: string[], attrs: Record<string, AttrValue> = {}): void {
    // Appended at the end (later quantizers see them as readers); sortNodes puts them in place.
    this.#graph.node.push(
      create(NodeProtoSchema, {
        opType,
        domain: '',
        name: this.unique(`${output[0] ?? opType}_${opType}`),
        input,
        output,
        attribute: Object.entries(attrs).map(([k, v]) => makeAttribute(k, v)),
      }),
    );
  }
}

function int32Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dataType: dtypeCode('int32'),
    dims: dims.map((d) => BigInt(d)),
    rawData: new Uint8Array(Int32Array.from(values).buffer) as Uint8Array<ArrayBuffer>,
  });
}

function subgraphs(a: NodeProto['attribute'][number]): GraphProto[] {
  if (a.type === AttributeProto_AttributeType.GRAPH && a.g) return [a.g];
  if (a.type === AttributeProto_AttributeType.GRAPHS) return a.graphs;
  return [];
}

function readNames(graph: GraphProto, into = new Set<string>()): Set<string> {
  for (const n of graph.node) {
    for (const i of n.input) if (i !== '') into.add(i);
    for (const a of n.attribute) for (const g of subgraphs(a)) readNames(g, into);
  }
  for (const o of graph.output) into.add(o.name);
  return into;
}

/**
 * The float weights that now sit behind a DequantizeLinear are read by nothing: they are removed
 * (initializers, Constant nodes, and Identity nodes that only forwarded them), so that the file
 * holds each weight once, as integers. Constants that were unused before the export stay.
 */
function dropOrphanedConstants(graph: GraphProto, readBefore: ReadonlySet<string>): void {
  const inputs = new Set(graph.input.map((v) => v.name));
  for (;;) {
    const read = readNames(graph);
    const orphan = (name: string | undefined) => name !== undefined && readBefore.has(name) && !read.has(name);
    const before = graph.node.length + graph.initializer.length;
    graph.node = graph.node.filter(
      (n) =>
        !(
          (n.opType === 'Constant' || n.opType === 'Identity') &&
          n.domain === '' &&
          n.output.length === 1 &&
          orphan(n.output[0])
        ),
    );
    graph.initializer = graph.initializer.filter((t) => inputs.has(t.name) || !orphan(t.name));
    if (graph.node.length + graph.initializer.length === before) {
      // Declarations of the removed tensors go too.
      const defined = new Set([
        ...graph.input.map((v) => v.name),
        ...graph.initializer.map((t) => t.name),
        ...graph.node.flatMap((n) => n.output),
      ]);
      graph.valueInfo = graph.valueInfo.filter((v) => defined.has(v.name) || !readBefore.has(v.name));
      return;
    }
  }
}
