import type { ChannelEncoding, Encoding } from '../contracts/encoding.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import type { GridShape } from './grid.js';

/**
 * Builds a quantizer's {@link Encoding} from its grid spec and the grids of its channels.
 *
 * @param spec - the quantizer's dtype, bitwidth and symmetry (a `GridSpec` or `QuantizerSpec`).
 * @param channels - one grid for a per-tensor integer encoding, one per channel with `axis`, none
 *   for a float (fp16) encoding.
 * @param axis - the channel axis of a per-channel encoding.
 * @returns a frozen encoding; `strictSymmetric` and `unsignedSymmetric` are set on symmetric ones.
 */
export function assembleEncoding(spec: GridShape, channels: readonly ChannelEncoding[], axis?: number): Encoding {
  if (typeof spec !== 'object' || spec === null || (spec.dtype !== 'int' && spec.dtype !== 'float')) {
    throw new InvalidArgumentError(
      `assembleEncoding: spec.dtype must be 'int' or 'float', received ${describeValue(spec?.dtype)}.`,
    );
  }
  if (!Number.isInteger(spec.bitwidth) || spec.bitwidth < 1) {
    throw new InvalidArgumentError(
      `assembleEncoding: spec.bitwidth must be a positive integer, received ${describeValue(spec.bitwidth)}.`,
    );
  }
  if (!Array.isArray(channels)) {
    throw new InvalidArgumentError(
      `assembleEncoding: channels must be an array of ChannelEncoding, received ${describeValue(channels)}.`,
    );
  }
  if (axis !== undefined && (!Number.isInteger(axis) || axis < 0)) {
    throw new InvalidArgumentError(`assembleEncoding: axis must be a non-negative integer, received ${describeValue(axis)}.`, {
      hint: 'Normalise negative axes against the tensor rank first.',
    });
  }
  if (spec.dtype === 'float') {
    if (channels.length > 0 || axis !== undefined) {
      throw new InvalidArgumentError('assembleEncoding: float encodings have no grid, so no channels and no axis.');
    }
  } else if (axis === undefined ? channels.length !== 1 : channels.length === 0) {
    throw new InvalidArgumentError(
      axis === undefined
        ? `assembleEncoding: a per-tensor integer encoding has exactly one channel grid, received ${channels.length}.`
        : 'assembleEncoding: a per-channel integer encoding needs at least one channel grid.',
      { hint: 'Pass one ChannelEncoding per tensor, or one per channel together with the axis.' },
    );
  }
  for (const [i, c] of channels.entries()) {
    if (typeof c !== 'object' || c === null || ![c.min, c.max, c.scale, c.offset].every((v) => typeof v === 'number')) {
      throw new InvalidArgumentError(`assembleEncoding: channel ${i} is not a ChannelEncoding, received ${describeValue(c)}.`);
    }
  }
  return Object.freeze({
    dtype: spec.dtype,
    bitwidth: spec.bitwidth,
    symmetric: spec.symmetric,
    ...(spec.symmetric ? { strictSymmetric: spec.strictSymmetric, unsignedSymmetric: spec.unsignedSymmetric } : {}),
    ...(axis !== undefined ? { axis } : {}),
    channels: Object.freeze(channels.map((c) => Object.freeze({ min: c.min, max: c.max, scale: c.scale, offset: c.offset }))),
  });
}
