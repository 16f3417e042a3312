import type { Diagnostic, Rule } from '@quantsim/core';

const show = (v: unknown) => (v === undefined ? 'per-tensor' : JSON.stringify(v));

/**
 * `overrides-before-encodings`: settings are decided before encodings are computed. After
 * `sim.edit()`, changing a quantizer that already has an encoding is an error naming the
 * quantizer and the old and new values, unless `.recalibrate()` asks for new encodings. Frozen
 * (loaded) encodings are never recomputed.
 */
export const overridesBeforeEncodingsRule: Rule = {
  name: 'overrides-before-encodings',
  phases: ['edit'],
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const c of ctx.changes) {
      const frozen = ctx.frozen.has(c.quantizer);
      if (!frozen && ctx.recalibrate === 'all') continue;
      if (!frozen && ctx.recalibrate !== 'all' && ctx.recalibrate.has(c.quantizer)) continue;
      out.push({
        code: frozen ? 'FROZEN_ENCODING_CHANGED' : 'OVERRIDE_AFTER_ENCODINGS',
        severity: 'error',
        quantizer: c.quantizer,
        message: `${c.call} changes ${c.field} of ${c.quantizer} from ${show(c.before)} to ${show(c.after)}, but that quantizer already has ${frozen ? 'a frozen (loaded) encoding' : 'an encoding'}.`,
        hint: frozen
          ? 'Load the encodings with { freeze: false } to let calibration replace them.'
          : 'Call .recalibrate() to compute new encodings for the quantizers you changed, or make the change before calibrate().',
      });
    }
    return out;
  },
};
