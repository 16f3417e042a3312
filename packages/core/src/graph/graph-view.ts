import type { AttributeProto, GraphProto, NodeProto, TensorProto } from 'onnx-buf';
import { AttributeProto_AttributeType } from 'onnx-buf';
import type { GraphReader, Layer, NodeView, TensorView } from '../contracts/graph.js';
import { GraphStructureError } from '../errors/graph-structure-error.js';
import type { DTypeName } from '../onnx/dtype.js';
import { stableNodeNames } from './stable-names.js';
import { stableTopologicalOrder } from './stable-order.js';
import { buildTensors, paramsOf } from './tensor-table.js';

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
  /** Element types of the names visible from enclosing graphs (for subgraphs). */
  readonly outerTypes?: ReadonlyMap<string, DTypeName>;
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
  readonly #outerTypes: ReadonlyMap<string, DTypeName> | undefined;

  constructor(graph: GraphProto, options: GraphViewOptions = {}) {
    this.#proto = graph;
    this.#outerScope = options.outerScope;
    this.#outerTypes = options.outerTypes;
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
    const bodies: {
      attr: AttributeProto;
      graphs: GraphProto[];
      into: { attribute: string; graph: GraphView }[];
      name: string;
    }[] = [];
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
        if (graphs.length > 0) bodies.push({ attr, graphs, into: subgraphs, name });
      }
      nodes.push(view);
      nodesByName.set(name, view);
    });
    this.nodes = nodes;
    this.#nodesByName = nodesByName;
    this.subgraphs = allSubgraphs;

    this.tensors = buildTensors(graph, nodes, initializers, constantNodeOutputs, options.shapes, options.outerTypes);
    // Bodies come after the tensor table, so that they know the element types of what they read from here.
    if (bodies.length > 0) {
      const scope = new Set([...outer, ...declaredInputs, ...initializers.keys(), ...graph.node.flatMap((n) => n.output)]);
      const types = new Map(options.outerTypes ?? []);
      for (const [n, t] of this.tensors) if (t.dtype) types.set(n, t.dtype);
      for (const { attr, graphs, into, name } of bodies)
        graphs.forEach((g, k) => {
          const label = graphs.length > 1 ? `${attr.name}[${k}]` : attr.name;
          const sub = new GraphView(g, { path: `${name}/${label}`, outerScope: scope, outerTypes: types });
          into.push({ attribute: label, graph: sub });
          allSubgraphs.push({ owner: name, attribute: label, graph: sub }, ...sub.subgraphs);
        });
    }
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
    return new GraphView(this.#proto, {
      path: this.path,
      ...(this.#outerScope ? { outerScope: this.#outerScope } : {}),
      ...(this.#outerTypes ? { outerTypes: this.#outerTypes } : {}),
      shapes,
    });
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

export { stableNodeNames } from './stable-names.js';
