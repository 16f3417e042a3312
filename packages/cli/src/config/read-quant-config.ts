import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { formatJsonPath, QuantConfigError } from './quant-config-error.js';
import { DEFAULT_KEYS, OVERRIDE_KEYS, type QuantConfigFile, quantConfigSchema } from './quant-config-schema.js';

const HINT =
  'The file holds { defaults: {...}, overrides: [ { layers|ops|tensors: pattern, activations?, params?, ... } ] }; see docs/cli.md.';

/**
 * Reads and validates a `--config` file: YAML for `.yaml`/`.yml`, JSON otherwise.
 * @throws QuantConfigError naming the file and the JSON path of the first problem.
 */
export function readQuantConfigFile(file: string): QuantConfigFile {
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
  return validateQuantConfig(data, file);
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
