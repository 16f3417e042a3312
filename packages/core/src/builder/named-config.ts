import { existsSync } from 'node:fs';
import type { NamedQuantConfig } from '../contracts/plugin.js';
import { UnknownConfigError } from '../errors/unknown-config-error.js';
import { parseQuantConfig, type QuantConfig, readQuantConfig } from '../plan/config-file.js';

/**
 * Reads the argument of `.config()`: the name of a config a plugin provides (for example
 * `aimet-default`), the path of an AIMET quantsim config JSON file, or the config as an object.
 * A string that names no config and no existing file, and does not look like a path, is an
 * unknown name: the error lists the known ones.
 *
 * @throws UnknownConfigError for a name that no plugin provides and no file has.
 * @throws ConfigFileError naming the file and the field that is wrong.
 */
export function resolveQuantConfig(
  nameFileOrObject: string | object,
  configs: ReadonlyMap<string, NamedQuantConfig>,
): QuantConfig {
  if (typeof nameFileOrObject !== 'string') return readQuantConfig(nameFileOrObject);
  const named = configs.get(nameFileOrObject);
  if (named) return parseQuantConfig(named.config, nameFileOrObject);
  const looksLikePath = /[/\\]|\.json$/i.test(nameFileOrObject);
  if (looksLikePath || existsSync(nameFileOrObject)) return readQuantConfig(nameFileOrObject);
  throw new UnknownConfigError(nameFileOrObject, [...configs.keys()]);
}
