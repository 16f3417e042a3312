import { type AttributeProto, AttributeProto_AttributeType, type GraphProto, type TensorProto } from 'onnx-buf';
import { float32ToBytes } from './tensor-values.js';

/**
 * Graph editing shared by every transform (BatchNorm folding, opset conversion, the simulated
 * and the QDQ model): subgraph access, the names a graph reads, unique names, orphan pruning and
 * weight rewrites. One implementation each, so that the transforms cannot drift apart.
 */

/** The subgraphs an attribute holds (If/Loop/Scan bodies). */
export function subgraphsOf(attribute: AttributeProto): GraphProto[] {
  if (attribute.type === AttributeProto_AttributeType.GRAPH && attribute.g) return [attribute.g];
  if (attribute.type === AttributeProto_AttributeType.GRAPHS) return attribute.graphs;
  return [];
}

/** Names read inside a graph: node inputs, those of nodes in subgraphs included, and the graph's outputs. */
export function readNames(graph: GraphProto, into = new Set<string>()): Set<string> {
  for (const n of graph.node) {
    for (const i of n.input) if (i !== '') into.add(i);
    for (const a of n.attribute) for (const g of subgraphsOf(a)) readNames(g, into);
  }
  for (const o of graph.output) into.add(o.name);
  return into;
}

/** Every name a graph declares or defines (inputs, outputs, value_info, initializers, node outputs), subgraphs included. */
export function definedNames(graph: GraphProto, into = new Set<string>()): Set<string> {
  for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) into.add(v.name);
  for (const t of graph.initializer) into.add(t.name);
  for (const n of graph.node) {
    for (const o of n.output) into.add(o);
    for (const a of n.attribute) for (const g of subgraphsOf(a)) definedNames(g, into);
  }
  return into;
}

/**
 * A generator of names unique among `taken` (which it extends): `base` when free, else
 * `base_2`, `base_3`… The names it returns are taken from then on.
 */
export function uniqueNames(taken: Set<string>): (base: string) => string {
  return (base) => {
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
}

const FORWARDERS: ReadonlySet<string> = new Set(['Constant', 'Identity']);

/**
 * Removes what a rewrite left unread: initializers, Constant nodes and Identity nodes that only
 * forwarded them, whose output was read before the rewrite (`readBefore`, from {@link readNames})
 * and is read by nothing now, reads inside subgraphs included; then the value_info declarations
 * of the removed names. Repeats until nothing more goes. Graph inputs are never removed, nor an
 * initializer that is also a graph input, nor anything that was unread already.
 */
export function pruneOrphans(graph: GraphProto, readBefore: ReadonlySet<string>): void {
  const inputs = new Set(graph.input.map((v) => v.name));
  for (;;) {
    const read = readNames(graph);
    const orphan = (name: string | undefined) => name !== undefined && readBefore.has(name) && !read.has(name);
    const before = graph.node.length + graph.initializer.length;
    graph.node = graph.node.filter(
      (n) =>
        !(
          FORWARDERS.has(n.opType) &&
          (n.domain === '' || n.domain === 'ai.onnx') &&
          n.output.length === 1 &&
          orphan(n.output[0])
        ),
    );
    graph.initializer = graph.initializer.filter((t) => inputs.has(t.name) || !orphan(t.name));
    if (graph.node.length + graph.initializer.length === before) break;
  }
  const defined = new Set([
    ...graph.input.map((v) => v.name),
    ...graph.initializer.map((t) => t.name),
    ...graph.node.flatMap((n) => n.output),
  ]);
  graph.valueInfo = graph.valueInfo.filter((v) => defined.has(v.name) || !readBefore.has(v.name));
}

/** Replaces a float32 tensor's values in place, as inline raw data (external data and float_data dropped). */
export function overwriteWeights(tensor: TensorProto, values: Float32Array): void {
  tensor.rawData = float32ToBytes(values) as Uint8Array<ArrayBuffer>;
  tensor.floatData = [];
  tensor.dataLocation = 0;
  tensor.externalData = [];
}
