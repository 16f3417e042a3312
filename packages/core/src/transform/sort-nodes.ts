import { AttributeProto_AttributeType, type GraphProto, type NodeProto } from 'onnx-buf';

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
  const pending = new Array<number>(nodes.length).fill(0);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    const seen = new Set<number>();
    for (const name of [...n.input, ...outerReads(n)]) {
      const p = name === '' ? undefined : producer.get(name);
      if (p === undefined || p === i || seen.has(p)) continue;
      seen.add(p);
      pending[i] = (pending[i] as number) + 1;
      (dependents[p] as number[]).push(i);
    }
  });
  // The ready list is kept sorted by position: the lowest-numbered ready node goes first.
  const ready: number[] = [];
  pending.forEach((c, i) => {
    if (c === 0) ready.push(i);
  });
  const order: number[] = [];
  while (ready.length > 0) {
    const i = ready.shift() as number;
    order.push(i);
    for (const d of dependents[i] as number[]) {
      pending[d] = (pending[d] as number) - 1;
      if (pending[d] === 0) {
        let k = 0;
        while (k < ready.length && (ready[k] as number) < d) k++;
        ready.splice(k, 0, d);
      }
    }
  }
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
