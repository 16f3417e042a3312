import { QuantsimError } from './quantsim-error.js';

/** The simulation was asked to run before every enabled quantizer had an encoding. */
export class NotCalibratedError extends QuantsimError {
  constructor(missing: readonly string[]) {
    super(
      'NOT_CALIBRATED',
      `The simulation has no encodings for ${missing.length} enabled quantizer${missing.length === 1 ? '' : 's'} (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}), so it would run unquantized.`,
      { hint: 'Call .calibrate(data) on the builder first (or load encodings with .loadEncodings(file)).' },
    );
  }
}
