import type { GraphProto, TensorProto, TypeProto, ValueInfoProto } from 'onnx-buf';
import type { Dim, NodeView, ParamRef, ShapeSource, TensorRole, TensorView } from '../contracts/graph.js';
import type { ParamRole } from '../contracts/spec.js';
import { type DTypeName, dtypeName } from '../onnx/dtype.js';
import { fixedOutputType, PARAM_INPUTS, typeSourceInput } from './op-roles.js';

/*
 * The tensor table of a graph view: every tensor with its producer, consumers, declared or
 * inferred element type, shape and role (graph input, parameter, constant, activation), and
 * each layer's parameters.
 */

function typeInfo(type: TypeProto | undefined): { dtype?: DTypeName; shape?: Dim[] } {
  if (type?.value.case !== 'tensorType') return {};
  const t = type.value.value;
  const dtype = dtypeName(t.elemType);
  const shape = t.shape
    ? t.shape.dim.map(
        (d): Dim => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : null),
      )
    : undefined;
  return { ...(dtype ? { dtype } : {}), ...(shape ? { shape } : {}) };
}

interface MutableTensor {
  name: string;
  dtype: DTypeName | undefined;
  dtypeSource: 'declared' | 'inferred' | undefined;
  shape: Dim[] | undefined;
  shapeSource: ShapeSource | undefined;
  producer: NodeView | undefined;
  consumers: { node: NodeView; index: number }[];
  role: TensorRole;
  isGraphOutput: boolean;
  constantSource: 'initializer' | 'constant-node' | undefined;
}

export function buildTensors(
  graph: GraphProto,
  nodes: readonly NodeView[],
  initializers: ReadonlyMap<string, TensorProto>,
  constantNodeOutputs: ReadonlyMap<string, TensorProto>,
  measured: ReadonlyMap<string, readonly number[]> | undefined,
  outerTypes?: ReadonlyMap<string, DTypeName>,
): Map<string, TensorView> {
  const tensors = new Map<string, MutableTensor>();
  const get = (name: string): MutableTensor => {
    let t = tensors.get(name);
    if (!t) {
      t = {
        name,
        dtype: undefined,
        dtypeSource: undefined,
        shape: undefined,
        shapeSource: undefined,
        producer: undefined,
        consumers: [],
        role: 'activation',
        isGraphOutput: false,
        constantSource: undefined,
      };
      tensors.set(name, t);
    }
    return t;
  };
  const declare = (v: ValueInfoProto, source: ShapeSource) => {
    const t = get(v.name);
    const info = typeInfo(v.type);
    if (info.dtype && !t.dtype) {
      t.dtype = info.dtype;
      t.dtypeSource = 'declared';
    }
    if (info.shape && !t.shape) {
      t.shape = info.shape;
      t.shapeSource = source;
    }
  };
  const fromTensor = (tp: TensorProto, source: 'initializer' | 'constant-node') => {
    const t = get(tp.name || '');
    t.dtype = dtypeName(tp.dataType);
    t.dtypeSource = 'declared';
    t.shape = tp.dims.map((d) => Number(d));
    t.shapeSource = source;
    t.role = 'constant';
    t.constantSource = source;
  };
  const initializerIsInput = new Set(graph.input.map((v) => v.name));
  for (const [name, tp] of initializers) {
    fromTensor({ ...tp, name } as TensorProto, 'initializer');
    // An initializer that is also a graph input can be overridden at run time: not a constant.
    if (initializerIsInput.has(name)) get(name).role = 'graph-input';
  }
  for (const v of graph.input) {
    if (initializers.has(v.name)) continue;
    declare(v, 'graph-input');
    get(v.name).role = 'graph-input';
  }
  for (const v of graph.valueInfo) declare(v, 'value_info');
  for (const v of graph.output) {
    declare(v, 'graph-output');
    get(v.name).isGraphOutput = true;
  }
  for (const node of nodes) {
    node.inputs.forEach((name, index) => {
      if (name !== '') get(name).consumers.push({ node, index });
    });
    node.outputs.forEach((name) => {
      if (name === '') return;
      const t = get(name);
      t.producer = node;
    });
    if (node.opType === 'Constant' && node.domain === '' && node.outputs[0]) {
      const value = constantNodeOutputs.get(node.outputs[0]);
      const t = get(node.outputs[0]);
      t.role = 'constant';
      t.constantSource = 'constant-node';
      if (value) {
        t.dtype = dtypeName(value.dataType);
        t.dtypeSource = 'declared';
        t.shape = value.dims.map((d) => Number(d));
        t.shapeSource = 'constant-node';
      }
    }
  }
  // Names read from an enclosing graph (in If/Loop/Scan bodies) take their type from there.
  if (outerTypes)
    for (const t of tensors.values())
      if (!t.dtype && !t.producer && t.role !== 'constant') {
        const dtype = outerTypes.get(t.name);
        if (dtype) {
          t.dtype = dtype;
          t.dtypeSource = 'inferred';
        }
      }
  inferTypes(nodes, tensors);
  if (measured)
    for (const [name, dims] of measured) {
      const t = tensors.get(name);
      if (t && (!t.shape || t.shape.some((d) => typeof d !== 'number'))) {
        t.shape = [...dims];
        t.shapeSource = 'dry-run';
      }
    }
  markParams(nodes, tensors);
  return tensors as Map<string, TensorView>;
}

/** Propagates element types through ops whose output type is fixed or follows an input. */
function inferTypes(nodes: readonly NodeView[], tensors: Map<string, MutableTensor>): void {
  for (const node of nodes) {
    node.outputs.forEach((out, index) => {
      const t = tensors.get(out);
      if (!t || t.dtype) return;
      let dtype: DTypeName | undefined = fixedOutputType(node.opType, index);
      if (!dtype && node.opType === 'Cast') {
        const to = node.attributes.find((a) => a.name === 'to');
        dtype = to ? dtypeName(Number(to.i)) : undefined;
      } else if (!dtype && node.opType === 'QuantizeLinear') {
        const zp = node.inputs[2] ? tensors.get(node.inputs[2]) : undefined;
        dtype = zp?.dtype ?? 'uint8';
      } else if (!dtype && node.opType === 'ConstantOfShape') {
        const v = node.attributes.find((a) => a.name === 'value');
        dtype = v?.t ? dtypeName(v.t.dataType) : 'float32';
      } else if (!dtype && (node.opType === 'If' || node.opType === 'Loop' || node.opType === 'Scan')) {
        const branch = node.subgraphs[0]?.graph;
        const offset = node.opType === 'Loop' ? 1 : 0;
        const sub = branch?.outputs[index + offset];
        dtype = sub ? branch?.tensor(sub)?.dtype : undefined;
      } else if (!dtype) {
        const src = node.inputs[typeSourceInput(node.opType)];
        dtype = src ? tensors.get(src)?.dtype : undefined;
      }
      if (dtype) {
        t.dtype = dtype;
        t.dtypeSource = 'inferred';
      }
    });
  }
}

/** Finds the constant behind a tensor, looking through Identity nodes. */
function constantBehind(name: string, tensors: Map<string, MutableTensor>): MutableTensor | undefined {
  let t = tensors.get(name);
  for (let hops = 0; t && hops < 8; hops++) {
    if (t.role === 'constant' || t.role === 'param') return t;
    const p = t.producer;
    if (p?.opType !== 'Identity' || !p.inputs[0]) return undefined;
    t = tensors.get(p.inputs[0]);
  }
  return undefined;
}

function markParams(nodes: readonly NodeView[], tensors: Map<string, MutableTensor>): void {
  for (const node of nodes) {
    for (const ref of paramSlots(node, tensors)) {
      const t = constantBehind(ref.name, tensors);
      if (t) t.role = 'param';
    }
  }
}

function paramSlots(
  node: NodeView,
  tensors: Map<string, MutableTensor> | ReadonlyMap<string, TensorView>,
): { name: string; index: number; role: ParamRole }[] {
  if (node.domain !== '' && node.domain !== 'ai.onnx') return [];
  const out: { name: string; index: number; role: ParamRole }[] = [];
  if (node.opType === 'MatMul' || node.opType === 'Gemm') {
    // Gemm's B is its weight; for MatMul, whichever operand is constant.
    const isConst = (i: number) => {
      const n = node.inputs[i];
      return n ? constantBehind(n, tensors as Map<string, MutableTensor>) !== undefined : false;
    };
    if (node.opType === 'MatMul') {
      if (isConst(1) && node.inputs[1]) out.push({ name: node.inputs[1], index: 1, role: 'weight' });
      else if (isConst(0) && node.inputs[0]) out.push({ name: node.inputs[0], index: 0, role: 'weight' });
      return out;
    }
  }
  const slots = PARAM_INPUTS[node.opType];
  if (!slots) return out;
  for (const [k, role] of Object.entries(slots)) {
    const index = Number(k);
    const name = node.inputs[index];
    if (name) out.push({ name, index, role });
  }
  return out;
}

export function paramsOf(node: NodeView, tensors: ReadonlyMap<string, TensorView>): ParamRef[] {
  const refs: ParamRef[] = [];
  for (const slot of paramSlots(node, tensors)) {
    const t = constantBehind(slot.name, tensors as Map<string, MutableTensor>);
    if (!t?.constantSource) continue;
    refs.push({ tensor: slot.name, role: slot.role, inputIndex: slot.index, source: t.constantSource, shape: t.shape });
  }
  return refs;
}
