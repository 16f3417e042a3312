import { QuantsimError } from './quantsim-error.js';

/** A post-training step (`.seqMse()`, `.biasCorrection()`) could not run: it had no calibration samples. */
export class PostTrainingError extends QuantsimError {
  constructor(message: string, hint?: string) {
    super('POST_TRAINING', message, hint ? { hint } : {});
  }
}
