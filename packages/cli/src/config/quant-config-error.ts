import { QuantsimError } from '@quantsim/core';

/**
 * A `--config` file (or a `--set` value) is unreadable or invalid. The message names the file
 * and the JSON path of the value at fault, e.g. `quant.yaml: overrides[1].activations: …`.
 */
export class QuantConfigError extends QuantsimError {
  /** The file, or `--set`. */
  readonly source: string;
  /** The JSON path of the value at fault, e.g. `overrides[1].activations`; empty for the whole file. */
  readonly jsonPath: string;

  constructor(source: string, jsonPath: string, message: string, hint: string) {
    super('INVALID_ARGUMENT', `${source}: ${jsonPath ? `${jsonPath}: ` : ''}${message}.`, { hint });
    this.source = source;
    this.jsonPath = jsonPath;
  }
}

/** Formats a path such as `['overrides', 1, 'activations']` as `overrides[1].activations`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}
