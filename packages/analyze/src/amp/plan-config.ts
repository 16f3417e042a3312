import { type QuantBuilder, type QuantPlan, writeFileAtomically } from '@quantsim/core';
import { type AmpCandidate, candidateName } from './candidates.js';

/** The candidate AMP chose for one group. */
export interface AmpPlanEntry {
  /** The group: a layer, or the first layer of a supergroup. */
  readonly group: string;
  readonly quantizers: readonly string[];
  readonly candidate: AmpCandidate;
}

function exact(names: readonly string[]): RegExp {
  return new RegExp(`^(?:${names.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
}

/** The builder of a mixed plan: `base` (every quantizer at the start candidate), each group raised to its candidate. */
export function planBuilder(base: QuantBuilder, plan: QuantPlan, entries: readonly AmpPlanEntry[]): QuantBuilder {
  let b = base;
  const byCandidate = new Map<string, { candidate: AmpCandidate; params: string[]; activations: string[] }>();
  for (const e of entries) {
    const key = candidateName(e.candidate);
    let slot = byCandidate.get(key);
    if (!slot) {
      slot = { candidate: e.candidate, params: [], activations: [] };
      byCandidate.set(key, slot);
    }
    for (const id of e.quantizers) {
      const q = plan.get(id);
      if (q) (q.kind === 'param' ? slot.params : slot.activations).push(q.tensor);
    }
  }
  for (const { candidate, params, activations } of byCandidate.values()) {
    const a =
      candidate === 'fp16' ? ({ bits: 16, dtype: 'float' } as const) : { bits: candidate.activations, dtype: 'int' as const };
    const w = candidate === 'fp16' ? ({ bits: 16, dtype: 'float' } as const) : { bits: candidate.params, dtype: 'int' as const };
    if (params.length) b = b.tensors(exact(params)).params(w);
    if (activations.length) b = b.tensors(exact(activations)).activations(a);
  }
  return b;
}

/**
 * Writes a quantsim config whose `quantizers` section sets every quantizer of `plan` as the plan
 * has it, so that `quant(model).config(path)` resolves to the same plan.
 */
export async function writePlanConfig(path: string, plan: QuantPlan): Promise<void> {
  const quantizers: Record<string, unknown> = {};
  for (const q of plan.quantizers)
    quantizers[q.id] = {
      bitwidth: q.bitwidth,
      dtype: q.dtype,
      is_symmetric: q.symmetric ? 'True' : 'False',
      strict_symmetric: q.strictSymmetric ? 'True' : 'False',
      unsigned_symmetric: q.unsignedSymmetric ? 'True' : 'False',
      scheme: q.scheme,
      ...(q.kind === 'param' ? { per_channel_axis: q.perChannelAxis ?? null } : {}),
      is_quantized: q.enabled ? 'True' : 'False',
    };
  await writeFileAtomically(path, `${JSON.stringify({ quantizers }, null, 2)}\n`);
}
