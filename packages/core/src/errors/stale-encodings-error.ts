import { QuantsimError } from './quantsim-error.js';

/** One quantizer whose encoding was computed for other settings than the plan's. */
export interface StaleEncoding {
  /** The quantizer's id. */
  readonly quantizer: string;
  /** The setting that differs. */
  readonly field: 'bitwidth' | 'dtype' | 'symmetric';
  /** The encoding's value of that setting. */
  readonly encoding: unknown;
  /** The plan's value of that setting. */
  readonly plan: unknown;
}

/**
 * Encodings were computed for settings the plan no longer has, so simulating or exporting them
 * would run (or write) a grid that the plan does not describe.
 */
export class StaleEncodingsError extends QuantsimError {
  /** The ids of the quantizers whose encodings are stale. */
  readonly quantizers: readonly string[];
  /** Each differing setting. */
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
