import type { Diagnostic, Rule } from '@quantsim/core';

/** `bitwidth-range`: integer bitwidths run from 2 to 32; float quantizers take 16 or 32. */
export const bitwidthRangeRule: Rule = {
  name: 'bitwidth-range',
  phases: ['plan'],
  check(ctx) {
    const out: Diagnostic[] = [];
    const reported = new Set<string>();
    for (const q of ctx.plan.quantizers) {
      if (!q.enabled) continue;
      const ok =
        q.dtype === 'float'
          ? q.bitwidth === 16 || q.bitwidth === 32
          : Number.isInteger(q.bitwidth) && q.bitwidth >= 2 && q.bitwidth <= 32;
      if (ok) continue;
      const call = q.provenance.bitwidth ?? 'defaults';
      const key = `${call}:${q.bitwidth}:${q.dtype}`;
      if (reported.has(key)) continue;
      reported.add(key);
      const count = ctx.plan.quantizers.filter(
        (o) => o.enabled && o.provenance.bitwidth === call && o.bitwidth === q.bitwidth,
      ).length;
      out.push({
        code: 'BITWIDTH_RANGE',
        severity: 'error',
        quantizer: q.id,
        message: `${call} sets bitwidth ${q.bitwidth} (${q.dtype}) on ${count} enabled quantizer${count === 1 ? '' : 's'} (first: ${q.id}).`,
        hint:
          q.dtype === 'float'
            ? 'Float quantization takes 16 or 32 bits.'
            : 'Integer bitwidths run from 2 to 32 (ONNX types exist for 4, 8 and 16).',
      });
    }
    return out;
  },
};
