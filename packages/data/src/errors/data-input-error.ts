import { QuantsimError } from '@quantsim/core';

/**
 * A data file is unusable: a missing or malformed image, `.npy` file, calibration folder, OCR
 * dictionary or dataset. The message names the file (and the model input it was meant for) and
 * the hint says how to fix it. Code `INVALID_ARGUMENT`, like every bad-input error of quantsim.
 */
export class DataInputError extends QuantsimError {
  /** The file, folder or value at fault. */
  readonly source: string;

  constructor(source: string, message: string, hint: string) {
    super('INVALID_ARGUMENT', `${source}: ${message}.`, { hint });
    this.source = source;
  }
}
