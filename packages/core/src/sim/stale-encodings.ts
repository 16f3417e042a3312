import type { Encoding, EncodingMap } from '../contracts/encoding.js';
import { QuantsimError } from '../errors/quantsim-error.js';
import type { QuantPlan } from '../quant/plan.js';
import type { QuantizerSpec } from '../quant/spec.js';

/** One quantizer whose encoding was computed for other settings than the plan's. */
export interface StaleEncoding {
  readonly quantizer: string;
  readonly field: 'bitwidth' | 'dtype' | 'symmetric';
  readonly encoding: unknown;
  readonly plan: unknown;
}

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

/**
 * Encodings were computed for settings the plan no longer has, so simulating or exporting them
 * would run (or write) a grid that the plan does not describe.
 */
export class StaleEncodingsError extends QuantsimError {
  /** The ids of the quantizers whose encodings are stale. */
  readonly quantizers: readonly string[];
  readonly stale: readonly StaleEncoding[];

  constructor(action: string, stale: readonly StaleEncoding[]) {
    const quantizers = [...new Set(stale.map((s) => s.quantizer))];
    const list = stale
      .slice(0, 5)
      .map((s) => `${s.quantizer} (${s.field} ${String(s.encoding)} → ${String(s.plan)})`)
      .join(', ');
    super(
      'STALE_ENCODINGS',
      `${action} would use encodings computed for other settings than the plan's: ${list}${stale.length > 5 ? `, and ${stale.length - 5} more` : ''}.`,
      {
        hint: 'Their statistics are gone, so they cannot be recomputed here: call .calibrate(data) instead of .simulate() to recompute them, or undo the change.',
      },
    );
    this.quantizers = quantizers;
    this.stale = stale;
  }
}
