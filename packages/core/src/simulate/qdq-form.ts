import type { QdqElementType } from '../contracts/backend.js';
import type { Encoding } from '../contracts/encoding.js';
import { onnxQuantization } from '../encode/onnx-quant-params.js';

export { type OnnxQuantization, onnxQuantization } from '../encode/onnx-quant-params.js';

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
