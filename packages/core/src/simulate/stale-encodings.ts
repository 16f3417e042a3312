import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import type { StaleEncoding } from '../errors/stale-encodings-error.js';
import type { QuantPlan } from '../plan/plan.js';
import type { QuantizerSpec } from '../plan/spec.js';

export type { StaleEncoding } from '../errors/stale-encodings-error.js';

/**
 * Encodings that no longer fit the plan: a bitwidth, type or symmetry that differs from the
 * quantizer's, as after `sim.edit().….recalibrate()` without new statistics.
 */
export function findStaleEncodings(plan: QuantPlan, encodings: EncodingMap): StaleEncoding[] {
  const out: StaleEncoding[] = [];
  for (const [id, enc] of encodings) {
    const q = plan.get(id);
    if (!q?.enabled) continue;
    for (const s of differences(q, enc)) out.push(s);
  }
  return out;
}

function differences(q: QuantizerSpec, enc: Encoding): StaleEncoding[] {
  const out: StaleEncoding[] = [];
  const add = (field: StaleEncoding['field'], encoding: unknown, plan: unknown) =>
    out.push({ quantizer: q.id, field, encoding, plan });
  if (enc.dtype !== q.dtype) add('dtype', enc.dtype, q.dtype);
  if (enc.bitwidth !== q.bitwidth) add('bitwidth', enc.bitwidth, q.bitwidth);
  if (enc.dtype === 'int' && q.dtype === 'int' && enc.symmetric !== q.symmetric) add('symmetric', enc.symmetric, q.symmetric);
  return out;
}
