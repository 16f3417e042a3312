import type { GraphProto, NodeProto, TensorProto, TypeProto, ValueInfoProto } from 'onnx-buf';
import { AttributeProto_AttributeType } from 'onnx-buf';
import type { Dim, GraphReader, Layer, NodeView, ParamRef, ShapeSource, TensorRole, TensorView } from '../contracts/graph.js';
import { GraphStructureError } from '../errors/graph-structure-error.js';
import { type DTypeName, dtypeName } from '../onnx/dtype.js';
import { fixedOutputType, PARAM_INPUTS, type ParamRole, typeSourceInput } from './op-roles.js';
import { stableTopologicalOrder } from './stable-order.js';

export type { Dim, GraphReader, Layer, NodeView, ParamRef, ShapeSource, TensorRole, TensorView } from '../contracts/graph.js';
export { GraphStructureError } from '../errors/graph-structure-error.js';

/** Options of {@link GraphView}'s constructor. */
export interface GraphViewOptions {
  /** `''` for the main graph; `<node>/<attribute>` for a subgraph (prefixes node names). */
  readonly path?: string;
  /** Names visible from an enclosing graph (for subgraphs). */
  readonly outerScope?: ReadonlySet<string>;
  /** Shapes measured by a dry run, used where the model declares none. */
  readonly shapes?: ReadonlyMap<string, readonly number[]>;
}

/**
 * A read-only view over an ONNX graph: nodes in topological order, tensors with producers,
 * consumers, types and shapes, parameters versus activations, and stable node names.
 *
 * Stable names: a node keeps its own `name` when it is non-empty and unique in its graph.
 * Otherwise its name is `<OpType>_<first output>` (for example `Conv_conv2d_87.tmp_0`).
 * A name that is still taken gets `_2`, `_3`… in file order. Nodes in subgraphs are prefixed with
 * `<parent>/<attribute>/`. The rule uses only the file's contents, so names are identical across loads.
 */
export class GraphView implements GraphReader {
  /** Nodes in topological order (stable: file order wherever the dependencies allow). */
  readonly nodes: readonly NodeView[];
  /** Graph input names, initializers excluded. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Every tensor by name. */
  readonly tensors: ReadonlyMap<string, TensorView>;
  /** The layers: every node but Constant nodes, in topological order. */
  readonly layers: readonly Layer[];
  /** Every If/Loop/Scan subgraph, recursively, with the node that owns it. */
  readonly subgraphs: readonly { readonly owner: string; readonly attribute: string; readonly graph: GraphView }[];
  /** `''` for the main graph, `<node>/<attribute>` for a subgraph. */
  readonly path: string;
  readonly #nodesByName: Map<string, NodeView>;

  readonly #proto: GraphProto;
  readonly #outerScope: ReadonlySet<string> | undefined;

  constructor(graph: GraphProto, options: GraphViewOptions = {}) {
    this.#proto = graph;
    this.#outerScope = options.outerScope;
    this.path = options.path ?? '';
    const outer = options.outerScope ?? new Set<string>();
    const initializers = new Map<string, TensorProto>(graph.initializer.map((t) => [t.name, t]));
    const declaredInputs = graph.input.map((v) => v.name);
    this.inputs = declaredInputs.filter((n) => !initializers.has(n));
    this.outputs = graph.output.map((v) => v.name);

    const order = topologicalOrder(graph, new Set([...declaredInputs, ...initializers.keys(), ...outer]));
    const names = stableNodeNames(
      order.map((i) => graph.node[i] as NodeProto),
      this.path,
    );

    const constantNodeOutputs = new Map<string, TensorProto>();
    for (const n of graph.node) {
      if (n.opType === 'Constant' && n.domain === '') {
        const t = constantValue(n);
        if (t && n.output[0]) constantNodeOutputs.set(n.output[0], t);
      }
    }

    const nodes: NodeView[] = [];
    const nodesByName = new Map<string, NodeView>();
    const allSubgraphs: { owner: string; attribute: string; graph: GraphView }[] = [];
    let scope: Set<string> | undefined;
    order.forEach((fileIndex, index) => {
      const proto = graph.node[fileIndex] as NodeProto;
      const name = names[index] as string;
      const subgraphs: { attribute: string; graph: GraphView }[] = [];
      const view: NodeView = {
        name,
        protoName: proto.name,
        opType: proto.opType,
        domain: proto.domain,
        index,
        inputs: proto.input,
        outputs: proto.output,
        attributes: proto.attribute,
        subgraphs,
        proto,
      };
      for (const attr of proto.attribute) {
        const graphs =
          attr.type === AttributeProto_AttributeType.GRAPH && attr.g
            ? [attr.g]
            : attr.type === AttributeProto_AttributeType.GRAPHS
              ? attr.graphs
              : [];
        graphs.forEach((g, k) => {
          scope ??= new Set([...outer, ...declaredInputs, ...initializers.keys(), ...graph.node.flatMap((n) => n.output)]);
          const label = graphs.length > 1 ? `${attr.name}[${k}]` : attr.name;
          const sub = new GraphView(g, { path: `${name}/${label}`, outerScope: scope });
          subgraphs.push({ attribute: label, graph: sub });
          allSubgraphs.push({ owner: name, attribute: label, graph: sub }, ...sub.subgraphs);
        });
      }
      nodes.push(view);
      nodesByName.set(name, view);
    });
    this.nodes = nodes;
    this.#nodesByName = nodesByName;
    this.subgraphs = allSubgraphs;

    this.tensors = buildTensors(graph, nodes, initializers, constantNodeOutputs, options.shapes);
    this.layers = nodes
      .filter((n) => !(n.opType === 'Constant' && n.domain === ''))
      .map((node) => ({
        name: node.name,
        opType: node.opType,
        inputs: node.inputs,
        outputs: node.outputs,
        params: paramsOf(node, this.tensors),
        node,
      }));
  }

  /**
   * A view with shapes filled in from a dry run (see `dryRunShapes`), for tensors whose shape
   * the model does not declare; declared shapes are kept. `shapeSource` says `dry-run`.
   */
  withShapes(shapes: ReadonlyMap<string, readonly number[]>): GraphView {
    return new GraphView(this.#proto, { path: this.path, ...(this.#outerScope ? { outerScope: this.#outerScope } : {}), shapes });
  }

  /** The tensor of this name, or `undefined`. */
  tensor(name: string): TensorView | undefined {
    return this.tensors.get(name);
  }

  /** The node of this stable name, or `undefined`. */
  node(name: string): NodeView | undefined {
    return this.#nodesByName.get(name);
  }

  /** Layers whose stable name matches. */
  findLayers(pattern: RegExp | string): Layer[] {
    const test = typeof pattern === 'string' ? (s: string) => s === pattern : (s: string) => pattern.test(s);
    return this.layers.filter((l) => {
      if (pattern instanceof RegExp) pattern.lastIndex = 0;
      return test(l.name);
    });
  }
}

/** The tensor value of a Constant node (its `value` attribute), if it holds a tensor. */
export function constantValue(node: NodeProto): TensorProto | undefined {
  const attr = node.attribute.find((a) => a.name === 'value');
  if (attr?.t) return attr.t;
  return undefined;
}

/**
 * Kahn's algorithm, taking the lowest file index first so that a well-ordered file keeps its order.
 * Inputs that nothing produces must come from `available` (graph inputs, initializers, outer scope).
 */
function topologicalOrder(graph: GraphProto, available: ReadonlySet<string>): number[] {
  const producer = new Map<string, number>();
  graph.node.forEach((n, i) => {
    for (const o of n.output) {
      if (o === '') continue;
      if (producer.has(o) || (available.has(o) && !isOuterOnly(o, graph)))
        throw new GraphStructureError(`tensor '${o}' is produced twice (node ${i}, ${n.opType})`);
      producer.set(o, i);
    }
  });
  const deps: number[][] = graph.node.map(() => []);
  graph.node.forEach((n, i) => {
    for (const inp of n.input) {
      if (inp === '') continue;
      const p = producer.get(inp);
      if (p === undefined) {
        if (!available.has(inp))
          throw new GraphStructureError(
            `node ${i} (${n.opType}${n.name ? ` '${n.name}'` : ''}) reads tensor '${inp}', which no node, initializer or graph input provides`,
          );
        continue;
      }
      if (p === i) throw new GraphStructureError(`node ${i} (${n.opType}) reads its own output '${inp}'`);
      (deps[i] as number[]).push(p);
    }
  });
  const order = stableTopologicalOrder(graph.node.length, (i) => deps[i] as number[]);
  if (order.length !== graph.node.length) {
    const placed = new Set(order);
    const stuck = graph.node.findIndex((_, i) => !placed.has(i));
    throw new GraphStructureError(`the graph has a cycle through node ${stuck} (${graph.node[stuck]?.opType})`);
  }
  return order;
}

// A name may be both an outer-scope value and a local output only in subgraphs (shadowing);
// ONNX forbids it, but we report it only when the name is a local input or initializer.
function isOuterOnly(name: string, graph: GraphProto): boolean {
  return !graph.input.some((v) => v.name === name) && !graph.initializer.some((t) => t.name === name);
}

/**
 * Stable, unique, readable names for nodes given in topological order. See {@link GraphView}.
 */
export function stableNodeNames(nodes: readonly NodeProto[], prefix = ''): string[] {
  const counts = new Map<string, number>();
  for (const n of nodes) if (n.name) counts.set(n.name, (counts.get(n.name) ?? 0) + 1);
  const taken = new Set<string>();
  const wanted = nodes.map((n) => {
    if (n.name && counts.get(n.name) === 1) return n.name;
    const out = n.output.find((o) => o !== '');
    return out ? `${n.opType}_${out}` : n.name || n.opType;
  });
  // Own unique names are reserved first so that a derived name never takes them.
  nodes.forEach((n, i) => {
    if (n.name && counts.get(n.name) === 1) taken.add(wanted[i] as string);
  });
  return nodes.map((n, i) => {
    let name = wanted[i] as string;
    const own = n.name && counts.get(n.name) === 1;
    if (!own) {
      if (taken.has(name)) {
        let k = 2;
        while (taken.has(`${name}_${k}`)) k++;
        name = `${name}_${k}`;
      }
      taken.add(name);
    }
    return prefix ? `${prefix}/${name}` : name;
  });
}

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

function buildTensors(
  graph: GraphProto,
  nodes: readonly NodeView[],
  initializers: ReadonlyMap<string, TensorProto>,
  constantNodeOutputs: ReadonlyMap<string, TensorProto>,
  measured: ReadonlyMap<string, readonly number[]> | undefined,
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

function paramsOf(node: NodeView, tensors: ReadonlyMap<string, TensorView>): ParamRef[] {
  const refs: ParamRef[] = [];
  for (const slot of paramSlots(node, tensors)) {
    const t = constantBehind(slot.name, tensors as Map<string, MutableTensor>);
    if (!t?.constantSource) continue;
    refs.push({ tensor: slot.name, role: slot.role, inputIndex: slot.index, source: t.constantSource, shape: t.shape });
  }
  return refs;
}
