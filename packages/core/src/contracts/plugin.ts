import type { Backend } from './backend.js';
import type { Rule } from './rule.js';
import type { EncodingScheme } from './scheme.js';

/**
 * A quantsim config shipped under a name, in AIMET's quantsim config JSON format (`defaults`,
 * `params`, `op_type`, `supergroups`, `model_input`, `model_output`), so that `.config(name)`
 * finds it. Plain JSON data, as AIMET reads it from a file.
 */
export interface NamedQuantConfig {
  /** The name `.config(name)` takes, for example `aimet-default` or `htp`. */
  readonly name: string;
  /** One sentence for error messages and docs. */
  readonly description: string;
  /** The config, as parsed JSON in AIMET's format. */
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * A bundle of encoding schemes, rules, backends and named configs added with `.use(plugin)`.
 * Plugins apply in the order they were added; a plugin whose name was already added replaces the
 * earlier one, in its place, so that no two plugins of one name ever run.
 */
export interface Plugin {
  readonly name: string;
  readonly schemes?: readonly EncodingScheme[];
  readonly rules?: readonly Rule[];
  readonly backends?: readonly Backend[];
  /** Configs `.config(name)` can name; a later plugin's config of the same name replaces an earlier one. */
  readonly configs?: readonly NamedQuantConfig[];
}
