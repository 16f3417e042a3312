import type { Diagnostic, Rule } from '@quantsim/core';

/** `unknown-scheme`: every enabled quantizer's scheme must be provided by a plugin. */
export const unknownSchemeRule: Rule = {
  name: 'unknown-scheme',
  phases: ['plan'],
  check(ctx) {
    const known = new Set(ctx.schemeNames);
    const bad = new Map<string, Set<string>>();
    for (const q of ctx.plan.quantizers) {
      if (!q.enabled || q.dtype === 'float' || known.has(q.scheme)) continue;
      const calls = bad.get(q.scheme) ?? new Set<string>();
      calls.add(q.provenance.scheme ?? 'defaults');
      bad.set(q.scheme, calls);
    }
    return [...bad].map(
      ([scheme, calls]): Diagnostic => ({
        code: 'UNKNOWN_SCHEME',
        severity: 'error',
        message: `Encoding scheme '${scheme}' (set by ${[...calls].join(', ')}) is not known.`,
        hint: `Known schemes: ${ctx.schemeNames.join(', ') || 'none (add a plugin with .use())'}.`,
      }),
    );
  },
};
