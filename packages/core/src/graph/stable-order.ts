/**
 * Kahn's algorithm that keeps the given order wherever the dependencies allow: of the nodes ready
 * to go, the lowest-numbered goes first. `dependencies(i)` lists the nodes that node `i` needs.
 *
 * @returns the order; shorter than `count` when some nodes form a cycle (those are left out).
 */
export function stableTopologicalOrder(count: number, dependencies: (i: number) => Iterable<number>): number[] {
  const pending = new Array<number>(count).fill(0);
  const dependents: number[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < count; i++) {
    for (const p of new Set(dependencies(i))) {
      if (p === i) continue;
      pending[i] = (pending[i] as number) + 1;
      (dependents[p] as number[]).push(i);
    }
  }
  // A heap would be O(n log n); the ready list stays short in real graphs, so a sorted insert is enough.
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
        let lo = 0;
        let hi = ready.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if ((ready[mid] as number) < d) lo = mid + 1;
          else hi = mid;
        }
        ready.splice(lo, 0, d);
      }
    }
  }
  return order;
}
