import type { EncodingMap } from '../contracts/encoding.js';
import { onnxQuantParams } from '../encode/onnx-quant-params.js';
import { EncodingsExportError } from '../errors/encodings-errors.js';
import { messageWithoutHint, QuantsimError, UnsupportedError } from '../errors/quantsim-error.js';
import type { QuantPlan } from '../plan/plan.js';
import { stableJson } from './stable-json.js';

/*
 * The format of onnxruntime's `TensorQuantOverrides` extra option, checked against
 * onnxruntime/python/tools/quantization/tensor_quant_overrides.py (`TensorQuantOverridesHelper`,
 * `_is_valid_per_tensor`, `_is_valid_per_channel`) and the `quantize_static` docstring
 * (quantize.py):
 * - tensor name → list of dicts; one dict for per-tensor, one per channel for per-channel;
 * - `scale` and `zero_point` must be given together, and then `symmetric`, `reduce_range`,
 *   `rmin` and `rmax` are invalid (`keys_unsupported_with_scale_zp`);
 * - per-channel: `axis` (and `quant_type`) in the first dict, every channel with scale and zero
 *   point; only initializers may be per-channel;
 * - `quant_type` is a `QuantType` (`QInt8`, `QUInt8`, `QInt16`, `QUInt16`, `QInt4`, `QUInt4`).
 */

/** onnxruntime's `QuantType` names for the integer element types. */
export type OrtQuantType = 'QInt4' | 'QUInt4' | 'QInt8' | 'QUInt8' | 'QInt16' | 'QUInt16';

/** One dict of a tensor's `TensorQuantOverrides` list. */
export interface OrtTensorQuantOverride {
  /** The element type; in the first dict only. */
  readonly quant_type?: OrtQuantType;
  /** The scale of the tensor, or of this channel. */
  readonly scale: number;
  /** The ONNX zero point of the tensor, or of this channel. */
  readonly zero_point: number;
  /** The channel axis, in the first dict of a per-channel tensor. */
  readonly axis?: number;
}

/** The `TensorQuantOverrides` extra option: per tensor name, one dict per tensor or per channel. */
export type OrtTensorQuantOverrides = Readonly<Record<string, readonly OrtTensorQuantOverride[]>>;

const ORT_QUANT_TYPES: Readonly<Record<string, OrtQuantType>> = {
  int4: 'QInt4',
  uint4: 'QUInt4',
  int8: 'QInt8',
  uint8: 'QUInt8',
  int16: 'QInt16',
  uint16: 'QUInt16',
};

/** An error's message without its hint (the export error has its own). */
function reason(e: unknown): string {
  if (e instanceof QuantsimError) return messageWithoutHint(e.message, e.hint);
  return e instanceof Error ? e.message : String(e);
}

/**
 * The plan's encodings as onnxruntime's `TensorQuantOverrides`, so that
 * `onnxruntime.quantization.quantize_static` produces the same grids: per tensor,
 * `[{quant_type, scale, zero_point}]`, or for per-channel parameters one dict per channel with
 * `axis` and `quant_type` in the first. Types and zero points come from {@link onnxQuantParams}
 * (signed for symmetric, unsigned for asymmetric). `symmetric` is never written: onnxruntime
 * rejects it next to `scale` and `zero_point`.
 *
 * The result is JSON data: in Python, turn `quant_type` into `QuantType.from_string(...)` and
 * `scale`/`zero_point` into NumPy values (see `docs/encodings-formats.md`). Disabled and float
 * quantizers are left out; quantizers of one tensor must agree.
 *
 * @throws EncodingsExportError listing every enabled integer quantizer without an encoding, with
 * a bitwidth onnxruntime cannot hold (4, 8 and 16 only), or disagreeing with another of its tensor.
 */
export function toOrtTensorQuantOverrides(plan: QuantPlan, encodings: EncodingMap): OrtTensorQuantOverrides {
  const out = new Map<string, { id: string; list: OrtTensorQuantOverride[] }>();
  const problems: string[] = [];
  for (const q of plan.enabled) {
    if (q.dtype === 'float') continue;
    const encoding = encodings.get(q.id);
    if (!encoding) {
      problems.push(`quantizer ${q.id} (tensor '${q.tensor}') has no encoding`);
      continue;
    }
    if (encoding.dtype === 'float') continue;
    let list: OrtTensorQuantOverride[];
    try {
      const p = onnxQuantParams(encoding);
      const quantType = ORT_QUANT_TYPES[p.type];
      if (!quantType) throw new UnsupportedError(`onnxruntime has no QuantType for ${p.type}`);
      list = p.scale.map((scale, i) => ({
        ...(i === 0 ? { quant_type: quantType } : {}),
        scale,
        zero_point: p.zeroPoint[i] ?? 0,
        ...(i === 0 && p.axis !== undefined ? { axis: p.axis } : {}),
      }));
    } catch (e) {
      problems.push(`quantizer ${q.id}: ${reason(e)}`);
      continue;
    }
    const before = out.get(q.tensor);
    if (!before) out.set(q.tensor, { id: q.id, list });
    else if (stableJson(before.list) !== stableJson(list)) {
      problems.push(
        `tensor '${q.tensor}' has different encodings from ${before.id} and ${q.id}, and TensorQuantOverrides holds one per tensor`,
      );
    }
  }
  if (problems.length > 0) {
    throw new EncodingsExportError('onnxruntime TensorQuantOverrides', problems, {
      hint: 'Calibrate before exporting, use 4, 8 or 16-bit integer quantizers, and give quantizers of one tensor the same settings.',
    });
  }
  return Object.fromEntries([...out].map(([tensor, v]) => [tensor, v.list]));
}
