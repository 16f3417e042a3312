import { AttributeProto_AttributeType, type GraphProto, type NodeProto } from 'onnx-buf';
import { stableTopologicalOrder } from '../graph/stable-order.js';

/**
 * Puts a graph's nodes in topological order (ONNX requires it), keeping the current order
 * wherever the dependencies allow, so that appended nodes move up next to what they read.
 * Names a node's subgraphs read from the outer scope count as its inputs. A graph with a cycle
 * is left as it was.
 */
export function sortNodes(graph: GraphProto): void {
  const nodes = graph.node;
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output) if (o !== '') producer.set(o, i);
  });
  const order = stableTopologicalOrder(nodes.length, (i) => {
    const n = nodes[i] as NodeProto;
    const deps: number[] = [];
    for (const name of [...n.input, ...outerReads(n)]) {
      const p = name === '' ? undefined : producer.get(name);
      if (p !== undefined) deps.push(p);
    }
    return deps;
  });
  if (order.length === nodes.length) graph.node = order.map((i) => nodes[i] as NodeProto);
}

/** Names read inside a node's subgraphs (they may come from the enclosing graph). */
function outerReads(node: NodeProto): string[] {
  const out: string[] = [];
  const visit = (g: GraphProto) => {
    for (const n of g.node) {
      out.push(...n.input);
      for (const a of n.attribute) subgraphs(a).forEach(visit);
    }
    for (const o of g.output) out.push(o.name);
  };
  for (const a of node.attribute) subgraphs(a).forEach(visit);
  return out;
}

function subgraphs(a: NodeProto['attribute'][number]): GraphProto[] {
  if (a.type === AttributeProto_AttributeType.GRAPH && a.g) return [a.g];
  if (a.type === AttributeProto_AttributeType.GRAPHS) return a.graphs;
  return [];
}
