import { describeValue, InvalidArgumentError, type QuantBuilder } from '@quantsim/core';

/** A precision AMP may give a group: integer bitwidths, or fp16 for both. */
export type AmpCandidate = { readonly activations: number; readonly params: number } | 'fp16';

/** A candidate's name, e.g. `W8A16` or `fp16`. */
export function candidateName(c: AmpCandidate): string {
  return c === 'fp16' ? 'fp16' : `W${c.params}A${c.activations}`;
}

/** The candidate's bitwidths (fp16 counts as 16). */
export function candidateBits(c: AmpCandidate): { activations: number; params: number } {
  return c === 'fp16' ? { activations: 16, params: 16 } : c;
}

/** The builder with every quantizer at this candidate. */
export function applyCandidate(builder: QuantBuilder, c: AmpCandidate): QuantBuilder {
  if (c === 'fp16') return builder.activations({ bits: 16, dtype: 'float' }).params({ bits: 16, dtype: 'float' });
  return builder.activations(c.activations).params(c.params);
}

/** Checks the candidates. @throws InvalidArgumentError naming the bad one. */
export function checkCandidates(candidates: readonly AmpCandidate[]): void {
  if (!Array.isArray(candidates) || candidates.length < 2)
    throw new InvalidArgumentError('autoMixedPrecision needs at least two candidates.', {
      hint: "For example [{ activations: 8, params: 8 }, { activations: 16, params: 8 }, { activations: 16, params: 16 }, 'fp16'].",
    });
  for (const c of candidates) {
    if (c === 'fp16') continue;
    const ok = (b: unknown) => typeof b === 'number' && Number.isInteger(b) && b >= 2 && b <= 32;
    if (typeof c !== 'object' || c === null || !ok(c.activations) || !ok(c.params))
      throw new InvalidArgumentError(`autoMixedPrecision: bad candidate ${describeValue(c)}.`, {
        hint: "A candidate is { activations: bits, params: bits } (2–32) or 'fp16'.",
      });
  }
}
