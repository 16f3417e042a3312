import type { Rule } from '@quantsim/core';
import { bitwidthRangeRule } from './bitwidth-range.js';
import { overridesBeforeEncodingsRule } from './overrides-before-encodings.js';
import { selectorMatchesRule } from './selector-matches.js';
import { unknownBackendRule } from './unknown-backend.js';
import { unknownSchemeRule } from './unknown-scheme.js';

export { bitwidthRangeRule, overridesBeforeEncodingsRule, selectorMatchesRule, unknownBackendRule, unknownSchemeRule };

/** The built-in rules, on by default. */
export const defaultRules: readonly Rule[] = Object.freeze([
  overridesBeforeEncodingsRule,
  selectorMatchesRule,
  bitwidthRangeRule,
  unknownSchemeRule,
  unknownBackendRule,
]);
