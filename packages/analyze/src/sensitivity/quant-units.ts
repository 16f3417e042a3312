import type { QuantizerSpec, QuantPlan } from '@quantsim/core';

/**
 * What sensitivity analysis turns on and off together: a layer's parameter and output
 * quantizers, as one AIMET quantization wrapper would hold them. A supergroup (Conv+Relu…) is
 * one unit, named after its first layer, since no quantizer sits between its ops.
 */
export interface QuantUnit {
  /** The unit's name: its first layer. */
  readonly name: string;
  /** Every layer it covers (more than one for a supergroup). */
  readonly layers: readonly string[];
  /** The enabled quantizers it holds. */
  readonly quantizers: readonly string[];
  /** The tensors those quantizers quantize. */
  readonly tensors: readonly string[];
}

/** The layer that owns a quantizer: the first layer of its supergroup, else its own layer. */
function ownerOf(q: QuantizerSpec): string {
  return q.supergroup?.[0] ?? q.layer ?? q.tensor;
}

/** Groups a plan's enabled quantizers into units, in plan order. */
export function quantUnits(plan: QuantPlan): QuantUnit[] {
  const units = new Map<string, { layers: Set<string>; quantizers: string[]; tensors: Set<string> }>();
  for (const q of plan.enabled) {
    const name = ownerOf(q);
    let unit = units.get(name);
    if (!unit) {
      unit = { layers: new Set([name]), quantizers: [], tensors: new Set() };
      units.set(name, unit);
    }
    for (const l of q.supergroup ?? (q.layer ? [q.layer] : [])) unit.layers.add(l);
    unit.quantizers.push(q.id);
    unit.tensors.add(q.tensor);
  }
  return [...units].map(([name, u]) => ({ name, layers: [...u.layers], quantizers: u.quantizers, tensors: [...u.tensors] }));
}
