import { QuantsimError } from '@quantsim/core';

/**
 * A value given on the command line is unusable: an unknown analysis, metric or export format, a
 * count that is not a whole number, a pattern that does not compile. The message names the option
 * and the hint says how to fix it; the CLI prints it on one line and exits with code 1. Unusable
 * data files (`.npy`, images, OCR datasets) throw `DataInputError` of `@quantsim/data`, which the
 * CLI prints the same way; both have the code `INVALID_ARGUMENT`.
 */
export class CliInputError extends QuantsimError {
  /** The file or option at fault. */
  readonly source: string;

  constructor(source: string, message: string, hint: string) {
    super('INVALID_ARGUMENT', `${source}: ${message}.`, { hint });
    this.source = source;
  }
}
