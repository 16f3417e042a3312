import { create } from '@bufbuild/protobuf';
import { TensorProto_DataType as DT, type GraphProto, type NodeProto, type TensorProto, TensorProtoSchema } from 'onnx-buf';
import type { Encoding } from '../../contracts/encoding.js';
import { gridSteps } from '../../encode/grid.js';
import { fakeQuantizeWeights, quantizeToGrid } from '../../encode/quantize-to-grid.js';
import { InvalidArgumentError } from '../../errors/quantsim-error.js';
import type { Model } from '../../model/model.js';
import { type AttrValue, int32Tensor, makeNode, makeTensor, typedTensor } from '../../onnx/factory.js';
import { float16ToBytes } from '../../onnx/float16.js';
import { definedNames, overwriteWeights, renameReads, subgraphsOf, uniqueNames } from '../../onnx/graph-edit.js';
import { tensorToFloat32 } from '../../onnx/tensor-values.js';
import type { ExportForm } from './forms.js';
import { activationTypeForOrt } from './ort-exact.js';

/** Adds quantizer nodes and tensors to a graph, with names unique in the model. */
export class QdqWriter {
  readonly model: Model;
  readonly #graph: GraphProto;
  /** A name unique in the model. */
  readonly unique: (base: string) => string;

  /**
   * `unique`: share another writer's name generator (a writer for an If branch shares the main
   * graph's, so that names stay unique in the whole model).
   */
  constructor(model: Model, graph: GraphProto, unique?: (base: string) => string) {
    this.model = model;
    this.#graph = graph;
    this.unique = unique ?? uniqueNames(definedNames(graph));
  }

  /** The constant of this name in the writer's graph (an initializer or a Constant node's value). */
  constant(name: string): TensorProto | undefined {
    return this.model.constantTensor(name, this.#graph);
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
    // If branches read graph inputs by name from the outer scope: they switch too.
    const renamed = new Map([[tensor, quantized]]);
    for (const n of this.#graph.node) for (const a of n.attribute) for (const g of subgraphsOf(a)) renameReads(g, renamed);
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
    const tensor = this.model.constantTensor(tensorName, this.#graph);
    // An int32 bias may have taken every reader already.
    if (!tensor || readers.length === 0) return;
    const values = tensorToFloat32(tensor, (t) => this.model.externalBytes(t) ?? new Uint8Array());
    const dims = tensor.dims.map(Number);
    let out: string;
    if (form.kind === 'float-grid') {
      // No integer type holds 17–32 bits: the weight keeps float storage, on its grid.
      overwriteWeights(tensor, fakeQuantizeWeights(values, dims, enc));
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
      const n = gridSteps(enc);
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
    this.#graph.node.push(makeNode(opType, input, output, attrs, { name: this.unique(`${output[0] ?? opType}_${opType}`) }));
  }
}
