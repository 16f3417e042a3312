import type { QuantsimError } from '@quantsim/core';

/**
 * The library's hints name API options (`{ nonFinite: 'ignore' }`); a command-line user needs the
 * flag that does the same. Keyed by error class, then by the API phrase the hint contains.
 */
const CLI_HINTS: readonly { readonly names: readonly string[]; readonly api: RegExp; readonly hint: string }[] = [
  {
    names: ['CalibrationError'],
    api: /nonFinite: 'ignore'/,
    hint: "Check that sample's input data, or pass --non-finite ignore to skip such values and count them.",
  },
  {
    names: ['UnsupportedBitwidthError', 'InvalidArgumentError'],
    api: /unsupportedBitwidth: 'clip'/,
    hint: 'Pass --unsupported-bitwidth clip to write each as an 8/16-bit QuantizeLinear, a Clip to its own grid and a DequantizeLinear, or quantize these tensors with 4, 8 or 16 bits.',
  },
];

/**
 * The one-line message the CLI prints for a quantsim error: the library's message with its hint
 * restated in command-line terms where the hint names an API option.
 */
export function cliErrorMessage(error: QuantsimError): string {
  let message = error.message;
  const hint = error.hint;
  if (hint) {
    const cli = CLI_HINTS.find((h) => h.names.includes(error.name) && h.api.test(hint));
    if (cli && message.endsWith(hint)) message = `${message.slice(0, message.length - hint.length).trimEnd()} ${cli.hint}`;
  }
  return message.replace(/\s*\n\s*/g, ' ');
}
