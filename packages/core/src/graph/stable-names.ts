import type { NodeProto } from 'onnx-buf';

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
