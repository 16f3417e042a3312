import { InvalidArgumentError } from '../errors/quantsim-error.js';

const scratch = new DataView(new ArrayBuffer(8));

/**
 * 2^exponent, built from its IEEE-754 bits so that it is exact for every normal exponent.
 * Histogram bin indices are `floor(x * 2^-e)`; scaling by an exact power of two is itself exact,
 * which is what makes histograms merge bit for bit.
 *
 * @internal
 */
export function pow2(exponent: number): number {
  if (!Number.isInteger(exponent) || exponent < -1022 || exponent > 1023) {
    throw new InvalidArgumentError(`pow2 takes an integer exponent in [-1022, 1023], received ${exponent}.`);
  }
  scratch.setBigUint64(0, BigInt(exponent + 1023) << 52n);
  return scratch.getFloat64(0);
}
