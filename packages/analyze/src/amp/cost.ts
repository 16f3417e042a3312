import { type GraphView, nodeWithBranches, type QuantPlan, tensorWithBranches } from '@quantsim/core';

/** How AMP weighs a plan: relative bit-operations (MACs × bw_a × bw_w) or memory (elements × bits). */
export type AmpCostModel = 'bops' | 'memory';

/** What one unit (a layer or supergroup) costs per bit of its activations and parameters. */
export interface UnitCost {
  /** Multiplied by bw_a × bw_w (bops), 0 for layers without parameters. */
  readonly macs: number;
  /** Parameter elements, multiplied by bw_w (memory). */
  readonly paramElements: number;
  /** Activation elements, multiplied by bw_a (memory; bops for layers without parameters). */
  readonly activationElements: number;
}

function elements(graph: GraphView, tensor: string): number {
  const shape = tensorWithBranches(graph, tensor)?.shape;
  if (!shape) return 1;
  return shape.reduce<number>((n, d) => n * (typeof d === 'number' && d > 0 ? d : 1), 1);
}

/** The cost factors of each unit's quantizers. */
export function unitCosts(
  graph: GraphView,
  plan: QuantPlan,
  units: ReadonlyMap<string, readonly string[]>,
): Map<string, UnitCost> {
  const out = new Map<string, UnitCost>();
  for (const [unit, ids] of units) {
    let macs = 0;
    let paramElements = 0;
    let activationElements = 0;
    for (const id of ids) {
      const q = plan.get(id);
      if (!q) continue;
      if (q.kind === 'param') {
        const n = elements(graph, q.tensor);
        paramElements += n;
        if (q.paramRole === 'weight' && q.layer) {
          const node = nodeWithBranches(graph, q.layer);
          const output = node?.outputs[0];
          const outShape = output ? tensorWithBranches(graph, output)?.shape : undefined;
          // MACs = weights × output positions: spatial positions for Conv, rows for Gemm/MatMul.
          const positions = outShape
            ? outShape
                .slice(node?.opType.startsWith('Conv') ? 2 : 0, node?.opType.startsWith('Conv') ? undefined : -1)
                .reduce<number>((p, d) => p * (typeof d === 'number' && d > 0 ? d : 1), 1)
            : 1;
          macs += n * positions;
        }
      } else activationElements += elements(graph, q.tensor);
    }
    out.set(unit, { macs, paramElements, activationElements });
  }
  return out;
}

/** A unit's cost at bitwidths `a` (activations) and `w` (parameters). */
export function costAt(model: AmpCostModel, c: UnitCost, a: number, w: number): number {
  if (model === 'memory') return c.paramElements * w + c.activationElements * a;
  return c.macs > 0 ? c.macs * a * w : c.activationElements * a;
}
