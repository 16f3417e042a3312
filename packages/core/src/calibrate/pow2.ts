import { InvalidArgumentError } from '../errors/quantsim-error.js';

/** 2^e for e = -1022 … 1023, each built from its IEEE-754 bits (the exponent field e + 1023). */
const POWERS = new Float64Array(2046);
{
  const bits = new DataView(new ArrayBuffer(8));
  for (let e = -1022; e <= 1023; e++) {
    bits.setBigUint64(0, BigInt(e + 1023) << 52n);
    POWERS[e + 1022] = bits.getFloat64(0);
  }
}

/**
 * 2^exponent, exact for every normal exponent (a table built from the IEEE-754 bits).
 * Histogram bin indices are `floor(x * 2^-e)`; scaling by an exact power of two is itself exact,
 * which is what makes histograms merge bit for bit.
 *
 * @internal
 */
export function pow2(exponent: number): number {
  if (!Number.isInteger(exponent) || exponent < -1022 || exponent > 1023) {
    throw new InvalidArgumentError(`pow2 takes an integer exponent in [-1022, 1023], received ${exponent}.`);
  }
  return POWERS[exponent + 1022] as number;
}
