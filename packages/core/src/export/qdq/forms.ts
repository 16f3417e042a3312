import type { QdqElementType } from '../../contracts/backend.js';
import type { Encoding } from '../../contracts/encoding.js';
import { gridSteps } from '../../encode/grid.js';
import { onnxQuantParams, zeroPointFromOffset } from '../../encode/onnx-quant-params.js';
import { InvalidArgumentError } from '../../errors/quantsim-error.js';

/** Bitwidths with an ONNX QuantizeLinear element type. */
export const NATIVE_BITWIDTHS: ReadonlySet<number> = new Set([4, 8, 16]);

/** The integer grid of a quantizer in its ONNX storage type. */
export interface QdqGrid {
  readonly type: QdqElementType;
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly axis: number | undefined;
  /** The encoding's own integer range inside `type`, when it is narrower (the Clip form). */
  readonly clip: { readonly lo: number; readonly hi: number } | undefined;
}

/** How a quantizer is written into the QDQ model. */
export type ExportForm =
  /** QuantizeLinear/DequantizeLinear (a Clip between them for bitwidths ONNX has no type for); weights as integers behind DequantizeLinear. */
  | { readonly kind: 'qdq'; readonly grid: QdqGrid }
  /** 17–32 bits with `clip`: no integer type is wide enough, so Div, Round, Clip, Mul in float. */
  | { readonly kind: 'float-grid' }
  /** fp16: a Cast to float16 and back (weights stored as float16 behind a Cast). */
  | { readonly kind: 'fp16' };

/** The ONNX grid of an integer encoding; bitwidths without a type use the next wider one with a Clip range. */
export function qdqGrid(enc: Encoding): QdqGrid {
  if (NATIVE_BITWIDTHS.has(enc.bitwidth)) {
    const p = onnxQuantParams(enc);
    return { type: p.type, scale: p.scale, zeroPoint: p.zeroPoint, axis: p.axis, clip: undefined };
  }
  const b = enc.bitwidth;
  const signed = enc.symmetric;
  const wide = b < 8 ? 8 : 16;
  const n = gridSteps(enc);
  const zeroPoint = enc.channels.map((c) => zeroPointFromOffset(c.offset, b, signed));
  const first = enc.channels[0];
  if (!first)
    throw new InvalidArgumentError('An integer encoding has no channels.', {
      hint: 'Calibrate the quantizer before exporting it.',
    });
  // The grid point q stands for Δ·(q + offset) and is stored as q + offset + zero point.
  const lo = first.offset + (zeroPoint[0] as number);
  const half = 2 ** (wide - 1);
  const [min, max] = signed ? [-half, half - 1] : [0, 2 * half - 1];
  if (enc.channels.some((c, i) => c.offset + (zeroPoint[i] as number) !== lo) || lo < min || lo + n > max)
    throw new InvalidArgumentError(`A ${b}-bit encoding has offsets outside its grid [-(2^${b} - 1), 0].`, {
      hint: 'Offsets must be integers in [-(2^bitwidth - 1), 0]; calibrate again.',
    });
  return {
    type: `${signed ? 'int' : 'uint'}${wide}` as QdqElementType,
    scale: enc.channels.map((c) => c.scale),
    zeroPoint,
    axis: enc.axis,
    clip: { lo, hi: lo + n },
  };
}
