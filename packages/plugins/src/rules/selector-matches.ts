import type { Diagnostic, Rule } from '@quantsim/core';
import { closestNames, patternWords } from './closest-names.js';

const NOUN = { layers: 'layer', ops: 'op type', tensors: 'tensor', all: 'quantizer' } as const;

/**
 * `selector-matches`: a selector that matches nothing is an error that lists the closest names,
 * so a typo in `.layers(/fc6/)` does not silently leave the plan unchanged.
 */
export const selectorMatchesRule: Rule = {
  name: 'selector-matches',
  phases: ['plan'],
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.selectors) {
      if (s.kind === 'all' || s.matched.length > 0) continue;
      const noun = NOUN[s.kind];
      const words = patternWords(s.call);
      const close = [...new Set(words.flatMap((w) => closestNames(w, s.candidates, 3)))].slice(0, 3);
      const unique = [...new Set(s.candidates)];
      out.push({
        code: 'SELECTOR_NO_MATCH',
        severity: 'error',
        message: `No ${noun} matched ${s.call.replace(/^\.\w+\((.*)\)$/, '$1')} (in ${s.call}). The model has ${unique.length} ${noun}${unique.length === 1 ? '' : 's'}${close.length ? `, for example ${close.map((c) => `'${c}'`).join(', ')}` : ''}.`,
        hint: `Check the pattern, or list the names with \`quantsim inspect <model>\`.`,
      });
    }
    return out;
  },
};
