import type { QdqElementType } from '../contracts/backend.js';
import type { ChannelEncoding, Encoding } from '../contracts/encoding.js';

/** How one quantizer is expressed in the simulated graph. */
export type QuantizerForm =
  /** QuantizeLinear/DequantizeLinear in the default ONNX domain. */
  | { readonly kind: 'qdq'; readonly domain: ''; readonly type: QdqElementType }
  /** ONNX Runtime's `com.microsoft` Q/DQ, which take 4- and 16-bit types at any opset. */
  | { readonly kind: 'qdq'; readonly domain: 'com.microsoft'; readonly type: QdqElementType }
  /** Divide, round, clamp, multiply in float: any bitwidth. */
  | { readonly kind: 'fake-quant' }
  /** Cast to float16 and back. */
  | { readonly kind: 'fp16' }
  /** Float 32: nothing to do. */
  | { readonly kind: 'identity' };

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
  if (encoding.dtype !== 'int' || (b !== 4 && b !== 8 && b !== 16) || encoding.channels.length === 0) return undefined;
  const half = 2 ** (b - 1);
  const signed = encoding.channels.every((c) => c.offset === -half);
  if (signed)
    return {
      type: `int${b}` as QdqElementType,
      scales: encoding.channels.map((c) => c.scale),
      zeroPoints: encoding.channels.map(() => 0),
    };
  if (encoding.strictSymmetric && encoding.symmetric) return undefined;
  const max = 2 ** b - 1;
  if (encoding.channels.some((c: ChannelEncoding) => -c.offset < 0 || -c.offset > max || !Number.isInteger(c.offset)))
    return undefined;
  return {
    type: `uint${b}` as QdqElementType,
    scales: encoding.channels.map((c) => c.scale),
    zeroPoints: encoding.channels.map((c) => -c.offset),
  };
}

/**
 * Picks the form of a quantizer for a model at `opset` on a backend that runs `qdqTypes`.
 * Standard Q/DQ takes 8-bit types from opset 10 (per-axis from 13) and 4/16-bit from opset 21;
 * below that ONNX Runtime's `com.microsoft` Q/DQ serve.
 */
export function chooseForm(encoding: Encoding, opset: number, qdqTypes: ReadonlySet<QdqElementType>): QuantizerForm {
  if (encoding.dtype === 'float') return encoding.bitwidth === 16 ? { kind: 'fp16' } : { kind: 'identity' };
  const q = onnxQuantization(encoding);
  if (!q || !qdqTypes.has(q.type)) return { kind: 'fake-quant' };
  const perAxis = encoding.axis !== undefined;
  const standard = encoding.bitwidth === 8 ? opset >= (perAxis ? 13 : 10) : opset >= 21;
  return standard ? { kind: 'qdq', domain: '', type: q.type } : { kind: 'qdq', domain: 'com.microsoft', type: q.type };
}
