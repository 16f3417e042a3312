import { InvalidArgumentError } from '../errors/quantsim-error.js';

/** Code-unit order, like Python's `sort_keys=True` for names without astral characters. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Serialises plain JSON data with object keys in sorted order at every level (as AIMET does with
 * `sort_keys=True`), `indent` spaces per level and no trailing newline. Arrays keep their order.
 * Keys are sorted independently of JavaScript's property order, so tensor names such as `"20"`
 * and `"3"` come out as `"20"`, `"3"`. `undefined` properties are left out. Non-finite numbers
 * throw, since JSON cannot hold them.
 */
export function stableJson(value: unknown, indent = 2): string {
  const step = ' '.repeat(indent);
  const write = (v: unknown, pad: string, where: string): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'number':
        if (!Number.isFinite(v)) {
          throw new InvalidArgumentError(`Cannot write ${v} at ${where} as JSON.`, {
            hint: 'Encodings must hold finite numbers; calibrate again or fix the value.',
          });
        }
        return JSON.stringify(v);
      case 'string':
      case 'boolean':
        return JSON.stringify(v);
      case 'object': {
        const inner = pad + step;
        if (Array.isArray(v)) {
          if (v.length === 0) return '[]';
          return `[\n${v.map((x, i) => inner + write(x, inner, `${where}[${i}]`)).join(',\n')}\n${pad}]`;
        }
        const entries = Object.entries(v as Record<string, unknown>)
          .filter(([, x]) => x !== undefined)
          .sort(([a], [b]) => compareKeys(a, b));
        if (entries.length === 0) return '{}';
        return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${write(x, inner, `${where}.${k}`)}`).join(',\n')}\n${pad}}`;
      }
      default:
        throw new InvalidArgumentError(`Cannot write a ${typeof v} at ${where} as JSON.`);
    }
  };
  return write(value, '', '$');
}
