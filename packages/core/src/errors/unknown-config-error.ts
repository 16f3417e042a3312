import { QuantsimError } from './quantsim-error.js';

/**
 * `.config(name)` was given a name that no plugin provides and no file has. The message lists
 * the names the builder's plugins provide.
 */
export class UnknownConfigError extends QuantsimError {
  /** The name received. */
  readonly received: string;
  /** The names the builder's plugins provide. */
  readonly known: readonly string[];

  constructor(received: string, known: readonly string[]) {
    super('UNKNOWN_CONFIG', `.config(${JSON.stringify(received)}): no config of that name, and no file at that path.`, {
      hint:
        known.length > 0
          ? `Known configs: ${known.map((k) => `'${k}'`).join(', ')}; or give the path of an AIMET quantsim config JSON file, or an object.`
          : 'No plugin provides named configs; give the path of an AIMET quantsim config JSON file, or an object.',
    });
    this.received = received;
    this.known = [...known];
  }
}
