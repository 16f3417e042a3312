import { describeValue, InvalidArgumentError } from '@quantsim/core';

/** What a numeric scheme option accepts. */
export interface NumberOptionRule {
  /** The value when the option is not given. */
  readonly fallback: number;
  /** Smallest valid value (see `minExclusive`). */
  readonly min: number;
  /** Largest valid value, inclusive; `Infinity` for none. */
  readonly max: number;
  /** Whether `min` itself is excluded. */
  readonly minExclusive?: boolean;
  /** Whether only integers are valid. */
  readonly integer?: boolean;
  /** An example value for the error message. */
  readonly example: number;
}

/**
 * Reads and checks a scheme's options against its rules: unknown names and values out of range
 * throw an `InvalidArgumentError` that names the scheme, the option and the valid range.
 */
export function readOptions<K extends string>(
  scheme: string,
  options: Readonly<Record<string, unknown>> | undefined,
  rules: Readonly<Record<K, NumberOptionRule>>,
): Record<K, number> {
  const given = options ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new InvalidArgumentError(`Scheme '${scheme}': options must be an object, received ${describeValue(given)}.`);
  }
  const names = Object.keys(rules) as K[];
  for (const key of Object.keys(given)) {
    if (!(names as string[]).includes(key)) {
      throw new InvalidArgumentError(
        names.length === 0
          ? `Scheme '${scheme}' takes no options, received option '${key}'.`
          : `Scheme '${scheme}' has no option '${key}'; its options are ${names.map((n) => `'${n}'`).join(', ')}.`,
        { hint: 'Check the spelling, or the scheme name.' },
      );
    }
  }
  const result = {} as Record<K, number>;
  for (const name of names) {
    const rule = rules[name];
    const value = given[name];
    if (value === undefined) {
      result[name] = rule.fallback;
      continue;
    }
    const kind = rule.integer ? 'an integer' : 'a number';
    const range = `${rule.minExclusive ? '(' : '['}${rule.min}, ${rule.max === Number.POSITIVE_INFINITY ? '∞)' : `${rule.max}]`}`;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!rule.integer || Number.isInteger(value)) &&
      (rule.minExclusive ? value > rule.min : value >= rule.min) &&
      value <= rule.max;
    if (!ok) {
      throw new InvalidArgumentError(
        `Scheme '${scheme}': option '${name}' must be ${kind} in ${range}, received ${describeValue(value)}.`,
        {
          hint: `For example { ${name}: ${rule.example} }; the default is ${rule.fallback}.`,
        },
      );
    }
    result[name] = value as number;
  }
  return result;
}
