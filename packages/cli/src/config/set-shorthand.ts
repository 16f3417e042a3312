import { QuantConfigError } from './quant-config-error.js';
import type { QuantOverrideEntry } from './quant-config-schema.js';

/**
 * Parses a `--set` value, `<regex>:a<bits>w<bits>`, into an override of the layers matching the
 * regex: `a` sets activation bits, `w` weight (param) bits; either may be left out
 * (`'fc|bbox:a16w16'`, `'^conv1$:w4'`). The regex ends at the last colon.
 * @throws QuantConfigError naming the value and the fix.
 */
export function parseSetShorthand(value: string): QuantOverrideEntry {
  const at = value.lastIndexOf(':');
  const source = `--set ${JSON.stringify(value)}`;
  const hint = "Write --set '<layer regex>:a<bits>w<bits>', e.g. --set 'fc|bbox:a16w16' or --set 'conv1:w4'.";
  if (at <= 0) throw new QuantConfigError(source, '', 'expected <regex>:a<bits>w<bits>', hint);
  const pattern = value.slice(0, at);
  const spec = /^(?:a(\d+))?(?:w(\d+))?$/i.exec(value.slice(at + 1));
  if (!spec || (spec[1] === undefined && spec[2] === undefined))
    throw new QuantConfigError(source, '', `'${value.slice(at + 1)}' is not a bit spec such as a16w8, a16 or w4`, hint);
  try {
    new RegExp(pattern);
  } catch (e) {
    throw new QuantConfigError(source, '', `'${pattern}' is not a valid regular expression (${(e as Error).message})`, hint);
  }
  return {
    layers: pattern,
    ...(spec[1] === undefined ? {} : { activations: Number(spec[1]) }),
    ...(spec[2] === undefined ? {} : { params: Number(spec[2]) }),
  };
}
