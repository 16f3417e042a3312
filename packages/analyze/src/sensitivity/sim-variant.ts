import type { QuantSim } from '@quantsim/core';

/** Escapes a name for use inside a RegExp. */
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** One RegExp that matches exactly these names, for a compact selector. */
export function exactNames(names: Iterable<string>): RegExp {
  return new RegExp(`^(?:${[...names].map(escapeRegExp).join('|')})$`);
}

/**
 * A simulation with the same encodings as `sim` but with the quantizers of `tensors` turned
 * off, as AIMET's QuantAnalyzer toggles its wrappers. Encodings come from float statistics, so
 * they do not depend on which other quantizers are on, and no calibration runs again. Release
 * the result when done.
 */
export async function withQuantizersDisabled(sim: QuantSim, tensors: ReadonlySet<string>): Promise<QuantSim> {
  if (tensors.size === 0) return sim.edit().simulate();
  // recalibrate() lets the edit change calibrated quantizers; simulate() keeps every carried
  // encoding of a quantizer still enabled, so nothing is recomputed.
  return sim.edit().tensors(exactNames(tensors)).disable().recalibrate().simulate();
}
