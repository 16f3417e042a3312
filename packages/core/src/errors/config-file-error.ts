import { QuantsimError } from './quantsim-error.js';

/** A config file could not be read or is not an AIMET quantsim config. */
export class ConfigFileError extends QuantsimError {
  constructor(source: string, message: string, hint?: string) {
    super('INVALID_ARGUMENT', `Quantsim config ${source}: ${message}.`, {
      hint: hint ?? 'See AIMET\'s "Quantization simulation configuration" format.',
    });
  }
}
