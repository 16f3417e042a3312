import type { ChannelEncoding } from '../contracts/encoding.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import { roundHalfAway, roundHalfEven } from './rounding.js';

/**
 * How halfway cases round: `half-even` as ONNX `QuantizeLinear` (the default), `half-away` as
 * AIMET's C++ kernels.
 */
export type RoundingMode = 'half-even' | 'half-away';

/** Options of {@link quantizeDequantize}. */
export interface QuantizeDequantizeOptions {
  /** Default `half-even`. */
  readonly rounding?: RoundingMode;
}

/**
 * Fake-quantizes values on one grid: x̂ = Δ · (clamp(round(x / Δ) - offset, 0, N) + offset), which
 * is AIMET's clamp to [min, max] followed by q = round(x / Δ - offset), in the order ONNX
 * `QuantizeLinear`/`DequantizeLinear` compute it (zero point = -offset). Rounding defaults to half
 * to even because the exported model runs on ONNX runtimes, which round that way; pass
 * `{ rounding: 'half-away' }` to reproduce AIMET's own simulation. The two differ only when x / Δ
 * is exactly halfway between integers. NaN stays NaN; ±Infinity saturates to the grid's ends.
 * Arithmetic is in float64 (ONNX runtimes divide in float32; results can differ in the last bit).
 *
 * @param values - the values to fake-quantize.
 * @param encoding - the grid; N is `(max - min) / scale`, rounded.
 * @param bitwidth - the grid's bitwidth, to check that N fits in it.
 * @returns new float32 values.
 */
export function quantizeDequantize(
  values: Float32Array,
  encoding: ChannelEncoding,
  bitwidth: number,
  options: QuantizeDequantizeOptions = {},
): Float32Array {
  if (!(values instanceof Float32Array)) {
    throw new InvalidArgumentError(`quantizeDequantize takes a Float32Array, received ${describeValue(values)}.`);
  }
  const { scale, offset } = encoding;
  if (!(Number.isFinite(scale) && scale > 0) || !Number.isInteger(offset)) {
    throw new InvalidArgumentError(
      `quantizeDequantize: the encoding needs a positive finite scale and an integer offset, received scale ${describeValue(scale)}, offset ${describeValue(offset)}.`,
      { hint: 'Compute encodings with computeGrid or an encoding scheme.' },
    );
  }
  if (!Number.isInteger(bitwidth) || bitwidth < 1 || bitwidth > 32) {
    throw new InvalidArgumentError(
      `quantizeDequantize: bitwidth must be an integer from 1 to 32, received ${describeValue(bitwidth)}.`,
    );
  }
  const steps = Math.round((encoding.max - encoding.min) / scale);
  if (!(steps >= 1 && steps <= 2 ** bitwidth - 1)) {
    throw new InvalidArgumentError(
      `quantizeDequantize: the encoding spans ${steps} steps of its scale, which ${bitwidth} bits cannot hold (at most ${2 ** bitwidth - 1}).`,
      { hint: 'Pass the bitwidth the encoding was computed for.' },
    );
  }
  const rounding = options.rounding ?? 'half-even';
  if (rounding !== 'half-even' && rounding !== 'half-away') {
    throw new InvalidArgumentError(
      `quantizeDequantize: rounding must be 'half-even' or 'half-away', received ${describeValue(rounding)}.`,
    );
  }
  const round = rounding === 'half-even' ? roundHalfEven : roundHalfAway;
  const zeroPoint = -offset;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const q = round((values[i] as number) / scale) + zeroPoint;
    const clamped = Math.min(Math.max(q, 0), steps);
    out[i] = (clamped - zeroPoint) * scale;
  }
  return out;
}
