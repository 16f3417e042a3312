import { UnsupportedError } from './quantsim-error.js';

/** A quantizer whose bitwidth has no ONNX QuantizeLinear element type. */
export interface UnsupportedBitwidthQuantizer {
  /** The quantizer id (`activation:<tensor>`, `param:<tensor>`, `input:<layer>:<index>`). */
  readonly id: string;
  /** Its bitwidth (2, 3, 5, 6, 7, 9–15 or 17–32). */
  readonly bitwidth: number;
}

/**
 * The QDQ export met quantizers whose bitwidth ONNX cannot store (anything but 4, 8 and 16 bits)
 * while `unsupportedBitwidth` was `'error'` (the default). Every such quantizer is listed, so
 * that one change of settings fixes them all.
 */
export class UnsupportedBitwidthError extends UnsupportedError {
  /** Every quantizer that has no ONNX element type. */
  readonly quantizers: readonly UnsupportedBitwidthQuantizer[];

  constructor(quantizers: readonly UnsupportedBitwidthQuantizer[]) {
    const n = quantizers.length;
    const shown = quantizers
      .slice(0, 8)
      .map((q) => `${q.id} (${q.bitwidth}-bit)`)
      .join(', ');
    super(
      `The QDQ model cannot store ${n} quantizer${n === 1 ? '' : 's'} whose bitwidth has no ONNX type (QuantizeLinear has 4-, 8- and 16-bit integers): ${shown}${n > 8 ? `, and ${n - 8} more` : ''}.`,
      {
        hint: "Export with { unsupportedBitwidth: 'clip' } to write each as an 8/16-bit QuantizeLinear, a Clip to its own grid and a DequantizeLinear, or quantize these tensors with 4, 8 or 16 bits.",
      },
    );
    this.quantizers = quantizers;
  }
}
