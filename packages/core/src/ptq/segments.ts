import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import type { DTypeName } from '../contracts/tensor.js';
import { GraphStructureError } from '../errors/graph-structure-error.js';
import { makeValueInfo } from '../onnx/factory.js';

/** One piece of a model cut at chosen tensors: the nodes between the previous cut and this one. */
export interface Segment {
  /** The nodes to run, in topological order (Constant nodes they read included). */
  readonly nodes: readonly NodeProto[];
  /** Initializers the nodes read. */
  readonly initializers: readonly TensorProto[];
  /** Graph inputs of the whole model that the nodes read (fed from the sample). */
  readonly modelInputs: readonly ValueInfoProto[];
  /** Tensors computed by earlier segments that the nodes read (fed from the cache). */
  readonly cached: readonly string[];
  /** Tensors to fetch: the cut tensor first, then those that later segments read. */
  readonly outputs: readonly string[];
  /** Cached tensors no later segment reads: dropped after this one. */
  readonly lastUse: readonly string[];
}

/** Whether any node of the graph holds a subgraph (If, Loop, Scan): those read outer tensors implicitly. */
export function hasSubgraphs(model: ModelProto): boolean {
  return (model.graph?.node ?? []).some((n) =>
    n.attribute.some((a) => a.type === AttributeProto_AttributeType.GRAPH || a.type === AttributeProto_AttributeType.GRAPHS),
  );
}

/** The nodes in an order where every node comes after the producers of its inputs (Kahn's algorithm; ties keep file order). */
export function topologicalNodes(nodes: readonly NodeProto[]): NodeProto[] {
  const producer = new Map<string, number>();
  for (const [i, n] of nodes.entries()) for (const o of n.output) if (o !== '') producer.set(o, i);
  const waiting = nodes.map(() => 0);
  const readers: number[][] = nodes.map(() => []);
  for (const [i, n] of nodes.entries())
    for (const input of new Set(n.input))
      if (input !== '' && producer.has(input)) {
        waiting[i] = (waiting[i] as number) + 1;
        readers[producer.get(input) as number]?.push(i);
      }
  const ready = nodes.map((_, i) => i).filter((i) => waiting[i] === 0);
  const order: NodeProto[] = [];
  // A min-heap would keep file order exactly; a sorted ready list is enough for these sizes.
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const i = ready.shift() as number;
    order.push(nodes[i] as NodeProto);
    for (const r of readers[i] as number[]) {
      waiting[r] = (waiting[r] as number) - 1;
      if (waiting[r] === 0) ready.push(r);
    }
  }
  if (order.length !== nodes.length) throw new GraphStructureError('The graph has a cycle: it cannot be cut into segments.');
  return order;
}

/**
 * Cuts `model` (with its data inline) after each of `cuts` (tensors produced by its nodes, in
 * the order they become available): segment i runs the nodes that come after cut i − 1 in
 * topological order up to the producer of cut i. Chaining the segments, each fed its model
 * inputs and the tensors earlier segments fetched, computes what the whole model computes.
 *
 * @returns the segments, in the order of `cuts` sorted by position; `order` maps them back.
 */
export function cutModel(model: ModelProto, cuts: readonly string[]): { segments: Segment[]; order: string[] } {
  const graph = model.graph;
  if (!graph) return { segments: [], order: [] };
  const nodes = topologicalNodes(graph.node);
  const position = new Map<string, number>();
  for (const [i, n] of nodes.entries()) for (const o of n.output) if (o !== '') position.set(o, i);
  const order = [...cuts].sort((a, b) => (position.get(a) ?? -1) - (position.get(b) ?? -1));
  for (const c of order)
    if (!position.has(c)) throw new GraphStructureError(`Cannot cut the model at '${c}': no node produces it.`);
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const inputs = new Map(graph.input.map((v) => [v.name, v]));
  const constants = new Map<string, NodeProto>();
  for (const n of nodes) if (n.opType === 'Constant' && n.domain === '' && n.output[0]) constants.set(n.output[0], n);

  // The nodes of each segment: the non-Constant nodes after the previous cut, up to this one.
  const bySegment: NodeProto[][] = order.map(() => []);
  let start = 0;
  for (const [s, cut] of order.entries()) {
    const end = position.get(cut) as number;
    for (let i = start; i <= end; i++) {
      const n = nodes[i] as NodeProto;
      // Constant nodes are copied into each segment that reads them instead.
      if (!(n.opType === 'Constant' && n.domain === '')) bySegment[s]?.push(n);
    }
    start = Math.max(start, end + 1);
  }
  // The last segment that reads each tensor.
  const lastReader = new Map<string, number>();
  for (const [s, own] of bySegment.entries())
    for (const n of own) for (const t of n.input) if (t !== '') lastReader.set(t, Math.max(lastReader.get(t) ?? -1, s));

  const segments: Segment[] = [];
  const available = new Set<string>();
  for (const [s, cut] of order.entries()) {
    const own = bySegment[s] as NodeProto[];
    const produced = new Set(own.flatMap((n) => n.output));
    const reads = new Set(own.flatMap((n) => n.input).filter((t) => t !== '' && !produced.has(t)));
    const segInit: TensorProto[] = [];
    const segInputs: ValueInfoProto[] = [];
    const segConstants: NodeProto[] = [];
    const cached: string[] = [];
    for (const t of reads) {
      const init = initializers.get(t);
      const constant = constants.get(t);
      const input = inputs.get(t);
      if (init) segInit.push(init);
      else if (constant) segConstants.push(constant);
      else if (input) segInputs.push(input);
      else if (available.has(t)) cached.push(t);
      else throw new GraphStructureError(`Segment ${s} reads '${t}', which no earlier segment computes.`);
    }
    const later = [...produced].filter((t) => t !== cut && (lastReader.get(t) ?? -1) > s);
    for (const t of later) available.add(t);
    if ((lastReader.get(cut) ?? -1) > s) available.add(cut);
    segments.push({
      nodes: [...segConstants, ...own],
      initializers: segInit,
      modelInputs: segInputs,
      cached,
      outputs: [cut, ...later],
      lastUse: cached.filter((t) => (lastReader.get(t) ?? -1) <= s),
    });
  }
  return { segments, order };
}

/** The ONNX model of one segment, serialised: its cached reads become graph inputs of the given types. */
export function segmentModel(model: ModelProto, segment: Segment, cachedTypes: ReadonlyMap<string, DTypeName>): Uint8Array {
  const graph = create(GraphProtoSchema, {
    name: `${model.graph?.name ?? 'graph'}_segment`,
    node: [...segment.nodes],
    initializer: [...segment.initializers],
    input: [...segment.modelInputs, ...segment.cached.map((t) => makeValueInfo(t, cachedTypes.get(t) ?? 'float32'))],
    output: segment.outputs.map((name) => create(ValueInfoProtoSchema, { name })),
  });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: model.irVersion,
      opsetImport: model.opsetImport,
      producerName: 'quantsim-segment',
      graph,
    }),
  );
}
