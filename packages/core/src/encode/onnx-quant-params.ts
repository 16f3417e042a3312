import type { QdqElementType } from '../contracts/backend.js';
import type { Encoding } from '../contracts/encoding.js';
import { InvalidArgumentError, UnsupportedError } from '../errors/quantsim-error.js';

/*
 * AIMET's offset and ONNX's zero point describe the same grid from opposite sides. AIMET's grid
 * point q (unsigned, 0 … 2^b − 1) represents scale · (q + offset); ONNX's DequantizeLinear gives
 * scale · (y − zero_point) for y in the element type's range. For an unsigned type y = q, so
 * zero_point = −offset. For a signed type y = q − 2^(b−1), so zero_point = −offset − 2^(b−1).
 * This is the rule in aimet_onnx `qc_quantize_op.py` `_export_2_0_0_encodings`:
 *   y_zero_point = -offset               (uint4, uint8, uint16, uint32)
 *   y_zero_point = -offset - 2**(bw - 1) (int4, int8, int16, int32)
 */

/** The ONNX `QuantizeLinear` parameters of an integer {@link Encoding}. */
export interface OnnxQuantParams {
  /** The element type: signed for symmetric encodings, unsigned for asymmetric ones. */
  readonly type: QdqElementType;
  /** One scale per channel (one in all for per-tensor). */
  readonly scale: readonly number[];
  /** One ONNX zero point per channel, in the range of `type`. */
  readonly zeroPoint: readonly number[];
  /** The channel axis of a per-channel encoding; absent for per-tensor (scalar scale and zero point). */
  readonly axis?: number;
  /** Lowest value of `type`. */
  readonly qmin: number;
  /** Highest value of `type`. */
  readonly qmax: number;
}

/**
 * The ONNX zero point of AIMET's `offset` for a grid of `bitwidth` bits stored in a signed or
 * unsigned type: `−offset` unsigned, `−offset − 2^(bitwidth−1)` signed. At 8 bits, the symmetric
 * offset −128 gives the int8 zero point 0, and the asymmetric offset −114 gives the uint8 zero point 114.
 */
export function zeroPointFromOffset(offset: number, bitwidth: number, signed: boolean): number {
  const zp = signed ? -offset - 2 ** (bitwidth - 1) : -offset;
  return zp === 0 ? 0 : zp; // no -0
}

/** The inverse of {@link zeroPointFromOffset}: AIMET's offset from an ONNX zero point. */
export function offsetFromZeroPoint(zeroPoint: number, bitwidth: number, signed: boolean): number {
  const offset = signed ? -zeroPoint - 2 ** (bitwidth - 1) : -zeroPoint;
  return offset === 0 ? 0 : offset;
}

/** Lowest and highest values of a `bitwidth`-bit integer type. */
export function integerRange(bitwidth: number, signed: boolean): { qmin: number; qmax: number } {
  return signed ? { qmin: -(2 ** (bitwidth - 1)), qmax: 2 ** (bitwidth - 1) - 1 } : { qmin: 0, qmax: 2 ** bitwidth - 1 };
}

const QDQ_BITWIDTHS: ReadonlySet<number> = new Set([4, 8, 16]);

/**
 * The ONNX `QuantizeLinear`/`DequantizeLinear` parameters of an integer encoding, for QDQ export.
 *
 * Symmetric encodings use the signed type and asymmetric ones the unsigned type, as AIMET does
 * when it writes 2.0.0 encodings and as QNN expects (`int8` weights with zero point 0, `uint8`
 * activations). The zero point follows {@link zeroPointFromOffset}: a symmetric 8-bit encoding
 * (offset −128) gets zero point 0; a strict symmetric one (offset −127) gets −1; an unsigned
 * symmetric one (offset 0, non-negative data) gets −128.
 *
 * Note that ONNX rounds half to even where AIMET rounds half away from zero; see
 * `docs/encodings-formats.md`.
 *
 * @throws UnsupportedError for float encodings and bitwidths other than 4, 8 and 16.
 * @throws InvalidArgumentError for an encoding without channels or with an offset outside its grid.
 */
export function onnxQuantParams(encoding: Encoding): OnnxQuantParams {
  if (encoding.dtype !== 'int') {
    throw new UnsupportedError(`A ${encoding.dtype}${encoding.bitwidth} encoding has no ONNX integer quantization parameters.`, {
      hint: 'Export float (fp16) quantizers as a Cast to float16 and back, or make the quantizer an integer one.',
    });
  }
  if (!QDQ_BITWIDTHS.has(encoding.bitwidth)) {
    throw new UnsupportedError(
      `ONNX QuantizeLinear has no ${encoding.bitwidth}-bit element type (it has 4, 8 and 16-bit integers).`,
      { hint: 'Use 4, 8 or 16 bits for quantizers exported as QDQ, or export AIMET encodings instead.' },
    );
  }
  if (encoding.channels.length === 0) {
    throw new InvalidArgumentError('An integer encoding has no channels.', {
      hint: 'Calibrate the quantizer before exporting it.',
    });
  }
  const signed = encoding.symmetric;
  const { qmin, qmax } = integerRange(encoding.bitwidth, signed);
  const zeroPoint = encoding.channels.map((c, i) => {
    const zp = zeroPointFromOffset(c.offset, encoding.bitwidth, signed);
    if (!Number.isInteger(zp) || zp < qmin || zp > qmax) {
      throw new InvalidArgumentError(
        `Channel ${i} has offset ${c.offset}, outside the ${encoding.bitwidth}-bit grid [-${2 ** encoding.bitwidth - 1}, 0].`,
        { hint: 'Offsets must be integers in [-(2^bitwidth - 1), 0]; calibrate again.' },
      );
    }
    return zp;
  });
  const type = `${signed ? 'int' : 'uint'}${encoding.bitwidth}` as QdqElementType;
  const base = { type, scale: encoding.channels.map((c) => c.scale), zeroPoint, qmin, qmax };
  return encoding.axis === undefined ? base : { ...base, axis: encoding.axis };
}

/** The ONNX element type and zero points of an integer encoding. */
export interface OnnxQuantization {
  readonly type: QdqElementType;
  readonly scales: readonly number[];
  readonly zeroPoints: readonly number[];
}

/**
 * Maps an AIMET grid (q in [0, N] represents Δ·(q + offset)) onto an ONNX type, for bitwidths
 * ONNX has (4, 8, 16): signed symmetric grids (offset −2^(b−1)) become intN with zero point 0;
 * every other grid becomes uintN with zero point −offset. Strict symmetric grids have no exact
 * ONNX form (Q would saturate at −2^(b−1), one step past the grid), so they return `undefined`.
 */
export function onnxQuantization(encoding: Encoding): OnnxQuantization | undefined {
  const b = encoding.bitwidth;
  if (encoding.dtype !== 'int' || !QDQ_BITWIDTHS.has(b) || encoding.channels.length === 0) return undefined;
  // The same offset ↔ zero point rule as onnxQuantParams; only the choice of signedness differs.
  const signed = encoding.channels.every((c) => zeroPointFromOffset(c.offset, b, true) === 0);
  if (!signed && encoding.strictSymmetric && encoding.symmetric) return undefined;
  const { qmin, qmax } = integerRange(b, signed);
  const zeroPoints = encoding.channels.map((c) => zeroPointFromOffset(c.offset, b, signed));
  if (zeroPoints.some((z) => !Number.isInteger(z) || z < qmin || z > qmax)) return undefined;
  return {
    type: `${signed ? 'int' : 'uint'}${b}` as QdqElementType,
    scales: encoding.channels.map((c) => c.scale),
    zeroPoints,
  };
}
