import { QuantsimError } from './quantsim-error.js';

/** Calibration stopped on a NaN or infinity, or could not run. */
export class CalibrationError extends QuantsimError {
  constructor(code: 'CALIBRATION' | 'NON_FINITE' | 'ABORTED', message: string, hint?: string) {
    super(code, message, hint ? { hint } : {});
  }
}
