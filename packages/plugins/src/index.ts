/**
 * quantsim's built-in plugins: the encoding schemes `minmax` (AIMET's `tf`), `tf-enhanced`
 * (AIMET's SQNR search, the default), `percentile`, `mse` and `entropy`, each turning calibration
 * statistics into an encoding grid with core's `computeGrid` rules (see docs/encoding-schemes.md);
 * and the named configs `aimet-default`, `aimet-per-channel`, `htp` and `ort` that
 * `.config(name)` takes, in AIMET's quantsim config format (see docs/aimet-users.md).
 *
 * @packageDocumentation
 */

import type { EncodingScheme } from '@quantsim/core';
import { entropyScheme } from './schemes/entropy.js';
import { minmaxScheme } from './schemes/minmax.js';
import { mseScheme } from './schemes/mse.js';
import { percentileScheme } from './schemes/percentile.js';
import { tfEnhancedScheme } from './schemes/tf-enhanced.js';

export { entropyScheme, minmaxScheme, mseScheme, percentileScheme, tfEnhancedScheme };

/** Every built-in encoding scheme, in the order they are registered. */
export const defaultSchemes: readonly EncodingScheme[] = Object.freeze([
  minmaxScheme,
  tfEnhancedScheme,
  percentileScheme,
  mseScheme,
  entropyScheme,
]);

export {
  bitwidthRangeRule,
  defaultRules,
  overridesBeforeEncodingsRule,
  selectorMatchesRule,
  unknownBackendRule,
  unknownSchemeRule,
} from './rules/index.js';

import type { Plugin } from '@quantsim/core';
import { defaultConfigs } from './configs/index.js';
import { defaultRules } from './rules/index.js';

export { aimetDefaultConfig, aimetPerChannelConfig, defaultConfigs, htpConfig, ortConfig } from './configs/index.js';

/** The default plugin: every built-in scheme, rule and named config. `quant` from the `quantsim` package uses it. */
export const defaultPlugin: Plugin = Object.freeze({
  name: 'quantsim-defaults',
  schemes: defaultSchemes,
  rules: defaultRules,
  configs: defaultConfigs,
});
