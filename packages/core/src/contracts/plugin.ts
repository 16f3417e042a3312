import type { Backend } from './backend.js';
import type { Rule } from './rule.js';
import type { EncodingScheme } from './scheme.js';

/**
 * A bundle of encoding schemes, rules and backends added with `.use(plugin)`. Plugins apply in
 * the order they were added; a plugin whose name was already added replaces the earlier one, in
 * its place, so that no two plugins of one name ever run.
 */
export interface Plugin {
  readonly name: string;
  readonly schemes?: readonly EncodingScheme[];
  readonly rules?: readonly Rule[];
  readonly backends?: readonly Backend[];
}
