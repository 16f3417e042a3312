import type { ChannelEncoding } from '../../contracts/encoding.js';
import { gridSteps } from '../../encode/grid.js';
import type { EncodingsFormatProblem } from '../../errors/encodings-errors.js';
import { describeValue } from '../../errors/quantsim-error.js';

/* Shared by the per-version readers: JSON helpers, the checks of single fields, grid ranges. */

export type Json = Readonly<Record<string, unknown>>;

export function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Appends a key or index to a JSONPath: `.name` for identifiers, `["conv1.weight"]` otherwise. */
export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** What a JSON value is, for messages: `a list`, `an object`, `the string 'x'`, `the number 3`. */
export function kindOf(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `the ${typeof v} ${describeValue(v)}`;
}

/** Symmetric-grid properties read from offsets, as AIMET's `_get_symmetric_properties` does. */
export function symmetryFlags(symmetric: boolean, bitwidth: number, offsets: readonly number[]) {
  if (!symmetric) return {};
  const signed = offsets.filter((o) => o !== 0);
  const strict = signed.length > 0 && signed.every((o) => o === -(2 ** (bitwidth - 1)) + 1);
  const unsigned = offsets.some((o) => o === 0);
  return { ...(strict ? { strictSymmetric: true } : {}), ...(unsigned ? { unsignedSymmetric: true } : {}) };
}

/** The grid's range from scale and offset: `min = offset·scale`, `max = (offset + steps)·scale`. */
export function channelOf(scale: number, offset: number, bitwidth: number, strict: boolean): ChannelEncoding {
  const steps = gridSteps({ bitwidth, dtype: 'int', symmetric: strict, strictSymmetric: strict });
  return { min: offset * scale, max: (offset + steps) * scale, scale, offset };
}

/** Collects problems while walking a file, so that one error can list them all. */
export class Reader {
  readonly problems: EncodingsFormatProblem[] = [];

  problem(path: string, problem: string): undefined {
    this.problems.push({ path, problem });
    return undefined;
  }

  bitwidth(v: unknown, path: string): number | undefined {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 32) return v;
    return this.problem(path, `expected a bitwidth (an integer from 1 to 32), got ${kindOf(v)}`);
  }

  scale(v: unknown, path: string): number | undefined {
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
    return this.problem(path, `expected a scale (a positive number), got ${kindOf(v)}`);
  }

  offset(v: unknown, path: string, bitwidth: number): number | undefined {
    const low = -(2 ** bitwidth - 1);
    if (typeof v === 'number' && Number.isInteger(v) && v <= 0 && v >= low) return v === 0 ? 0 : v;
    return this.problem(path, `expected an offset (an integer from ${low} to 0 at ${bitwidth} bits), got ${kindOf(v)}`);
  }

  symmetric(v: unknown, path: string): boolean | undefined {
    if (v === 'True' || v === true) return true;
    if (v === 'False' || v === false) return false;
    return this.problem(path, `expected "True" or "False", got ${kindOf(v)}`);
  }

  optionalFinite(v: unknown, path: string): number | undefined {
    if (v === undefined || (typeof v === 'number' && Number.isFinite(v))) return v;
    return this.problem(path, `expected a number, got ${kindOf(v)}`);
  }

  name(v: unknown, path: string, seen: Set<string>): string | undefined {
    if (typeof v !== 'string' || v.length === 0)
      return this.problem(path, `expected a tensor name (a non-empty string), got ${kindOf(v)}`);
    if (seen.has(v)) return this.problem(path, `tensor '${v}' is listed twice`);
    seen.add(v);
    return v;
  }
}
