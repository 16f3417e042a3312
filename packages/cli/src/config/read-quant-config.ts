import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { formatJsonPath, QuantConfigError } from './quant-config-error.js';
import { DEFAULT_KEYS, OVERRIDE_KEYS, type QuantConfigFile, quantConfigSchema } from './quant-config-schema.js';

const HINT =
  'The file holds { defaults: {...}, overrides: [ { layers|ops|tensors: pattern, activations?, params?, ... } ] }, or an AIMET quantsim config ({ defaults: { ops, params }, params, op_type, supergroups, model_input, model_output }); see docs/cli.md.';

/** AIMET quantsim config keys that quantsim's own `{ defaults, overrides }` format never has. */
const AIMET_TOP_KEYS = ['params', 'op_type', 'supergroups', 'model_input', 'model_output'];
const AIMET_DEFAULT_KEYS = ['ops', 'params', 'per_channel_quantization', 'strict_symmetric', 'unsigned_symmetric', 'hw_version'];

/** What a `--config` file holds: quantsim's own plan format, or an AIMET quantsim config. */
export type ConfigFileContents =
  | { readonly kind: 'quantsim'; readonly config: QuantConfigFile }
  | { readonly kind: 'aimet'; readonly data: object };

/**
 * Whether parsed config data is an AIMET quantsim config (`defaults.ops`, `params`, `op_type`,
 * `supergroups`, `model_input`, `model_output`) rather than quantsim's `{ defaults, overrides }`.
 */
export function isAimetConfig(data: unknown): data is object {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const record = data as Record<string, unknown>;
  if (AIMET_TOP_KEYS.some((k) => k in record)) return true;
  const defaults = record.defaults;
  return (
    defaults !== null &&
    typeof defaults === 'object' &&
    !Array.isArray(defaults) &&
    AIMET_DEFAULT_KEYS.some((k) => k in (defaults as object))
  );
}

/**
 * Reads a `--config` file, YAML for `.yaml`/`.yml` and JSON otherwise, and tells the two formats
 * apart by shape: an AIMET quantsim config is returned as parsed data for `builder.config()`
 * (which validates it), quantsim's own format is validated here.
 * @throws QuantConfigError naming the file and the JSON path of the first problem.
 */
export function readConfigFile(file: string): ConfigFileContents {
  const data = parseConfigFile(file);
  if (isAimetConfig(data)) return { kind: 'aimet', data };
  return { kind: 'quantsim', config: validateQuantConfig(data, file) };
}

/**
 * Reads and validates a `--config` file in quantsim's own format: YAML for `.yaml`/`.yml`, JSON otherwise.
 * @throws QuantConfigError naming the file and the JSON path of the first problem.
 */
export function readQuantConfigFile(file: string): QuantConfigFile {
  return validateQuantConfig(parseConfigFile(file), file);
}

function parseConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new QuantConfigError(
      file,
      '',
      code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`,
      'Check the path given to --config.',
    );
  }
  let data: unknown;
  const yaml = /\.ya?ml$/i.test(file);
  try {
    data = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    const first = (e as Error).message.split('\n')[0] ?? '';
    throw new QuantConfigError(file, '', `is not valid ${yaml ? 'YAML' : 'JSON'} (${first})`, HINT);
  }
  return data;
}

/**
 * Validates parsed config data. `source` names it in errors.
 * @throws QuantConfigError naming the JSON path of the first problem.
 */
export function validateQuantConfig(data: unknown, source: string): QuantConfigFile {
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new QuantConfigError(source, '', 'expected an object with defaults and overrides', HINT);
  const result = quantConfigSchema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new QuantConfigError(source, '', 'is invalid', HINT);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const known =
      issue.path.length === 0 ? ['defaults', 'overrides'] : issue.path[0] === 'defaults' ? DEFAULT_KEYS : OVERRIDE_KEYS;
    throw new QuantConfigError(
      source,
      formatJsonPath([...issue.path, key]),
      'unknown key',
      `Known keys here: ${known.join(', ')}.`,
    );
  }
  throw new QuantConfigError(source, formatJsonPath(issue.path), issue.message, HINT);
}
