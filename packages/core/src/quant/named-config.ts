import { existsSync } from 'node:fs';
import type { NamedQuantConfig } from '../contracts/plugin.js';
import { QuantsimError } from '../errors/quantsim-error.js';
import { parseQuantConfig, type QuantConfig, readQuantConfig } from './config-file.js';

/** `.config(name)` was given a name that no plugin provides and no file has. */
export class UnknownConfigError extends QuantsimError {
  /** The name received. */
  readonly received: string;
  /** The names the builder's plugins provide. */
  readonly known: readonly string[];

  constructor(received: string, known: readonly string[]) {
    super('INVALID_ARGUMENT', `.config(${JSON.stringify(received)}): no config of that name, and no file at that path.`, {
      hint:
        known.length > 0
          ? `Known configs: ${known.map((k) => `'${k}'`).join(', ')}; or give the path of an AIMET quantsim config JSON file, or an object.`
          : 'No plugin provides named configs; give the path of an AIMET quantsim config JSON file, or an object.',
    });
    this.received = received;
    this.known = known;
  }
}

/**
 * Reads the argument of `.config()`: the name of a config a plugin provides (for example
 * `aimet-default`), the path of an AIMET quantsim config JSON file, or the config as an object.
 * A string that names no config and no existing file, and does not look like a path, is an
 * unknown name: the error lists the known ones.
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
