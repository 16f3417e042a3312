import type { AttributeProto, NodeProto } from 'onnx-buf';
import type { ParamRole } from './spec.js';
import type { DTypeName } from './tensor.js';

/** What a tensor is in the graph. */
export type TensorRole = 'graph-input' | 'param' | 'constant' | 'activation';

/**
 * Where a tensor's shape came from: the model's own declarations (`value_info`, graph inputs and
 * outputs, initializers and Constant nodes) or a dry run of the model on sample data.
 */
export type ShapeSource = 'value_info' | 'graph-input' | 'graph-output' | 'initializer' | 'constant-node' | 'dry-run';

/** A dimension: a number when fixed, a string for a named symbolic dimension, `null` when unknown. */
export type Dim = number | string | null;

/** A read-only view of one tensor. */
export interface TensorView {
  readonly name: string;
  /** Element type, if declared or inferred. */
  readonly dtype: DTypeName | undefined;
  /** `declared` (value_info, inputs, constants) or `inferred` (propagated through ops). */
  readonly dtypeSource: 'declared' | 'inferred' | undefined;
  readonly shape: readonly Dim[] | undefined;
  readonly shapeSource: ShapeSource | undefined;
  /** The node that computes it; `undefined` for graph inputs, initializers and outer-scope values. */
  readonly producer: NodeView | undefined;
  /** Every (node, input index) that reads it. */
  readonly consumers: readonly { readonly node: NodeView; readonly index: number }[];
  readonly role: TensorRole;
  readonly isGraphOutput: boolean;
  /** For constants: where the value lives. */
  readonly constantSource: 'initializer' | 'constant-node' | undefined;
}

/** A parameter tensor of a layer. */
export interface ParamRef {
  readonly tensor: string;
  readonly role: ParamRole;
  /** Which input of the layer it feeds. */
  readonly inputIndex: number;
  readonly source: 'initializer' | 'constant-node';
  readonly shape: readonly Dim[] | undefined;
}

/** A read-only view of one node. */
export interface NodeView {
  /** The stable name (see {@link stableNodeNames}); what selectors match. */
  readonly name: string;
  /** The node's own `name` field, possibly empty. */
  readonly protoName: string;
  readonly opType: string;
  /** Operator domain, `''` for the default ONNX domain. */
  readonly domain: string;
  /** Position in topological order. */
  readonly index: number;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: readonly AttributeProto[];
  /** Subgraphs of If/Loop/Scan, by attribute name. */
  readonly subgraphs: readonly { readonly attribute: string; readonly graph: GraphReader }[];
  readonly proto: NodeProto;
}

/** A computational node with its parameters: what `.layers()` selects. Constant nodes are not layers. */
export interface Layer {
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly params: readonly ParamRef[];
  readonly node: NodeView;
}

/**
 * A read-only view over an ONNX graph: nodes in topological order, tensors with producers,
 * consumers, types and shapes, parameters versus activations, and stable node names. Core's
 * `GraphView` implements it; rules and plugins read graphs through it.
 */
export interface GraphReader {
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
  readonly subgraphs: readonly { readonly owner: string; readonly attribute: string; readonly graph: GraphReader }[];
  /** `''` for the main graph, `<node>/<attribute>` for a subgraph. */
  readonly path: string;
  /** A view with shapes measured by a dry run filled in where the model declares none. */
  withShapes(shapes: ReadonlyMap<string, readonly number[]>): GraphReader;
  /** The tensor of that name, or `undefined`. */
  tensor(name: string): TensorView | undefined;
  /** The node of that stable name, or `undefined`. */
  node(name: string): NodeView | undefined;
  /** Layers whose stable name matches (a string matches exactly). */
  findLayers(pattern: RegExp | string): Layer[];
}
