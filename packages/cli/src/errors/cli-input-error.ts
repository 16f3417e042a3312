import { QuantsimError } from '@quantsim/core';

/**
 * A file or value given on the command line is unusable: a missing or malformed image, `.npy`
 * file, calibration folder or option. The message names the file (and the input or option)
 * and the hint says how to fix it; the CLI prints it on one line and exits with code 1.
 */
export class CliInputError extends QuantsimError {
  /** The file or option at fault. */
  readonly source: string;

  constructor(source: string, message: string, hint: string) {
    super('INVALID_ARGUMENT', `${source}: ${message}.`, { hint });
    this.source = source;
  }
}
