import { create } from '@bufbuild/protobuf';
import { type GraphProto, type NodeProto, OperatorSetIdProtoSchema, type TensorProto } from 'onnx-buf';
import type { QdqElementType } from '../contracts/backend.js';
import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import { gridSteps } from '../encode/grid.js';
import { fakeQuantizeWeights } from '../encode/quantize-to-grid.js';
import { InvalidArgumentError, QuantsimError } from '../errors/quantsim-error.js';
import type { Model } from '../model/model.js';
import { dtypeCode } from '../onnx/dtype.js';
import { makeNode, makeTensor, typedTensor } from '../onnx/factory.js';
import { floatToHalfBits } from '../onnx/float16.js';
import { overwriteWeights, uniqueNames } from '../onnx/graph-edit.js';
import { halfToFloat, tensorToFloat32 } from '../onnx/tensor-values.js';
import type { QuantPlan } from '../plan/plan.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import type { QuantizerSpec } from '../plan/spec.js';
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
  const unique = uniqueNames(new Set(prepared.graph.tensors.keys()));
  const original = prepared.model.proto.graph?.node ?? [];
  const cloneOf = new Map<NodeProto, NodeProto>(original.map((n, i) => [n, graph.node[i] as NodeProto]));
  const added: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  let usesMicrosoft = false;

  const emitQuantizer = (input: string, output: string, enc: Encoding, form: QuantizerForm, id: string) => {
    if (form.kind === 'identity') {
      added.push(node('Identity', [input], [output]));
      return;
    }
    if (form.kind === 'fp16') {
      const mid = unique(`${output}__fp16`);
      added.push(
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
      const delta = scalar(unique(`${output}__scale`), ch.scale);
      const lo = scalar(unique(`${output}__qmin`), ch.offset);
      const hi = scalar(unique(`${output}__qmax`), ch.offset + n);
      initializers.push(delta, lo, hi);
      const div = unique(`${output}__div`);
      const low = unique(`${output}__max`);
      const clamped = unique(`${output}__min`);
      const rounded = unique(`${output}__round`);
      added.push(
        node('Div', [input, delta.name], [div]),
        node('Max', [div, lo.name], [low]),
        node('Min', [low, hi.name], [clamped]),
      );
      if (Math.max(Math.abs(ch.offset), Math.abs(ch.offset + n)) < 2 ** 22) {
        const magic = scalar(unique(`${output}__magic`), MAGIC);
        initializers.push(magic);
        const shifted = unique(`${output}__shift`);
        added.push(node('Add', [clamped, magic.name], [shifted]), node('Sub', [shifted, magic.name], [rounded]));
      } else if (opset >= 11) added.push(node('Round', [clamped], [rounded]));
      else {
        const half = scalar(unique(`${output}__half`), 0.5);
        initializers.push(half);
        const shifted = unique(`${output}__shift`);
        added.push(node('Add', [clamped, half.name], [shifted]), node('Floor', [shifted], [rounded]));
      }
      added.push(node('Mul', [rounded, delta.name], [output]));
      return;
    }
    const q = onnxQuantization(enc);
    if (!q)
      throw new QuantsimError('UNSUPPORTED', `Quantizer ${id} has no ONNX Q/DQ form for its encoding.`, {
        hint: 'This is a bug in quantsim: such encodings take the fake-quant form.',
      });
    const s = makeTensor(unique(`${output}__qscale`), 'float32', [], [ch.scale]);
    const z = typedTensor(unique(`${output}__qzero`), form.type, [], [q.zeroPoints[0] ?? 0]);
    initializers.push(s, z);
    const mid = unique(`${output}__q`);
    if (form.domain === 'com.microsoft') usesMicrosoft = true;
    added.push(
      node('QuantizeLinear', [input, s.name, z.name], [mid], {}, form.domain),
      node('DequantizeLinear', [mid, s.name, z.name], [output], {}, form.domain),
    );
  };

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
    const t = prepared.graph.tensor(spec.tensor);
    const producer = t?.producer;
    if (producer) {
      const p = cloneOf.get(producer.proto);
      if (!p) return;
      const floatName = unique(`${spec.tensor}__float`);
      p.output = p.output.map((o) => (o === spec.tensor ? floatName : o));
      emitQuantizer(floatName, spec.tensor, enc, form, spec.id);
      return;
    }
    // A graph input keeps its name: its readers switch to the quantized copy.
    const quantized = unique(`${spec.tensor}__quantized`);
    for (const c of t?.consumers ?? []) {
      const n = cloneOf.get(c.node.proto);
      if (n) n.input[c.index] = quantized;
    }
    emitQuantizer(spec.tensor, quantized, enc, form, spec.id);
  }

  function quantizeInput(spec: QuantizerSpec, enc: Encoding, form: QuantizerForm): void {
    const layer = spec.layer ? prepared.graph.node(spec.layer) : undefined;
    const n = layer ? cloneOf.get(layer.proto) : undefined;
    if (!n || spec.inputIndex === undefined) return;
    const quantized = unique(`${spec.tensor}__input_${spec.inputIndex}_${layer?.index}`);
    // Reads the value as it arrives (after the producer's own quantizer, if any).
    emitQuantizer(n.input[spec.inputIndex] as string, quantized, enc, form, spec.id);
    n.input[spec.inputIndex] = quantized;
  }

  function quantizeParam(spec: QuantizerSpec, enc: Encoding, form: QuantizerForm): void {
    const tensor = model.constantTensor(spec.tensor);
    if (!tensor) return;
    const values = tensorToFloat32(tensor, (tp) => model.externalBytes(tp) ?? new Uint8Array());
    const dims = tensor.dims.map(Number);
    if (form.kind === 'identity') return;
    const simulated =
      form.kind === 'fp16'
        ? Float32Array.from(values, (v) => halfToFloat(floatToHalfBits(v)))
        : fakeQuantizeWeights(values, dims, enc);
    overwriteWeights(tensor, simulated);
  }

  graph.node = [...graph.node, ...added];
  graph.initializer = [...graph.initializer, ...initializers];
  if (usesMicrosoft && !model.proto.opsetImport.some((o) => o.domain === 'com.microsoft'))
    model.proto.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'com.microsoft', version: 1n }));
  return { model, forms };
}

function node(opType: string, input: string[], output: string[], attrs: Record<string, number> = {}, domain = ''): NodeProto {
  return makeNode(opType, input, output, attrs, { domain });
}

/** 1.5·2^23: float32 addition of it rounds any |x| < 2^22 to an integer, ties to even. */
const MAGIC = 12582912;

function scalar(name: string, value: number): TensorProto {
  return makeTensor(name, 'float32', [], [value]);
}
