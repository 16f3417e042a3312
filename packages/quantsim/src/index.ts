/**
 * quantsim: quantization simulation for ONNX models. This package re-exports `@quantsim/core`
 * and the quant analyzer of `@quantsim/analyze` (`analyzeSensitivity` and its report), and adds
 * `quant`, ready with the default encoding schemes, rules and backends.
 *
 * @packageDocumentation
 */
import { registerDefaultBackends } from '@quantsim/backends';
import { createBackendContainer, createQuant, type Model, type QuantBuilder, type QuantCallOptions } from '@quantsim/core';
import { defaultPlugin } from '@quantsim/plugins';

export * from '@quantsim/analyze';
export * from '@quantsim/core';
export { defaultPlugin } from '@quantsim/plugins';

let cached: ReturnType<typeof createQuant> | undefined;

/**
 * Starts a quantization builder for a model (a `Model`, a file path, or ONNX bytes) with the
 * default schemes (minmax, tf-enhanced, percentile, mse, entropy), rules and backends (cpu,
 * cuda, webgpu). Use `createQuant` for a custom set-up.
 *
 * ### Examples
 * ```ts
 * const sim = await quant('detector.onnx')
 *   .defaults({ activations: 8, params: 8, scheme: 'tf-enhanced' })
 *   .layers(/fc|bbox/).activations(16).params(16)
 *   .calibrate(calibrationData);
 * ```
 */
export function quant(model: Model | string | Uint8Array, options?: QuantCallOptions): QuantBuilder {
  // The container is made on first use: importing quantsim registers nothing anywhere.
  cached ??= createQuant({ plugins: [defaultPlugin], container: registerDefaultBackends(createBackendContainer()) });
  return cached(model, options);
}
