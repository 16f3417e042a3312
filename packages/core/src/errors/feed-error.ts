import { QuantsimError } from './quantsim-error.js';

/** A calibration or inference input does not fit the model. */
export class FeedError extends QuantsimError {
  constructor(message: string, hint: string) {
    super('INVALID_ARGUMENT', message, { hint });
  }
}
