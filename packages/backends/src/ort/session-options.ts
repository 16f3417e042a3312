import type { SessionOptions } from '@quantsim/core';
import type { InferenceSession } from 'onnxruntime-node';

/** A backend's defaults for what {@link SessionOptions} may leave out. */
export interface OrtSessionDefaults {
  /** Threads inside one operator; ONNX Runtime's default (one per physical core) when omitted. */
  readonly intraOpThreads?: number;
  /** ONNX Runtime's graph optimisation level; `'all'` when omitted. */
  readonly graphOptimizationLevel?: SessionOptions['graphOptimizationLevel'];
}

/**
 * ONNX Runtime session options for a quantsim session: `simulate` sets
 * `session.disable_quant_qdq` so that quantize/dequantize stay float arithmetic, `emulate`
 * lets ONNX Runtime fuse them into integer kernels. Logging is limited to errors, because
 * ONNX Runtime's warnings (for example about nodes placed on the CPU) are not the user's to act on.
 *
 * ### Examples
 * ```ts
 * const options = toOrtSessionOptions({ mode: 'simulate' }, {}, ['cpu']);
 * // options.extra.session.disable_quant_qdq === '1'
 * ```
 */
export function toOrtSessionOptions(
  options: SessionOptions,
  defaults: OrtSessionDefaults,
  executionProviders: InferenceSession.SessionOptions['executionProviders'],
): InferenceSession.SessionOptions {
  const threads = options.intraOpThreads ?? defaults.intraOpThreads;
  const qdq = options.mode === 'float' ? {} : { disable_quant_qdq: options.mode === 'simulate' ? '1' : '0' };
  return {
    ...(executionProviders ? { executionProviders } : {}),
    graphOptimizationLevel: options.graphOptimizationLevel ?? defaults.graphOptimizationLevel ?? 'all',
    ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
    logSeverityLevel: 3,
    extra: { session: qdq },
  };
}
