/**
 * quantsim's backends over onnxruntime-node: {@link CpuBackend}, {@link CudaBackend} and
 * {@link WebGpuBackend}, {@link registerDefaultBackends} to register all three in a container,
 * and the helpers for writing a backend over another ONNX Runtime flavour
 * ({@link OrtBackendSession}, {@link toOrtTensor}, {@link fromOrtTensor}).
 *
 * Each backend also has its own entry point (`@quantsim/backends/cpu`, `/cuda`, `/webgpu`), and
 * none loads ONNX Runtime's native library before it is probed or asked for a session.
 *
 * ### Examples
 * ```ts
 * import { createBackendContainer, resolveBackend } from '@quantsim/core';
 * import { registerDefaultBackends } from '@quantsim/backends';
 *
 * const container = registerDefaultBackends(createBackendContainer());
 * const backend = await resolveBackend(container, 'cuda', { fallback: 'cpu' });
 * ```
 *
 * @packageDocumentation
 */

export { CpuBackend, type CpuBackendOptions } from './cpu/index.js';
export { CudaBackend, type CudaBackendOptions, type CudaProbeInputs, defaultCudaProbeInputs, probeCuda } from './cuda/index.js';
export {
  createOrtBackendSession,
  firstLine,
  OrtBackendSession,
  type OrtInferenceSessionLike,
} from './ort/ort-backend-session.js';
export { type OrtSessionDefaults, toOrtSessionOptions } from './ort/session-options.js';
export { fromOrtTensor, type OrtTensorConstructor, type OrtTensorLike, toOrtTensor } from './ort/tensor-convert.js';
export { type DefaultBackendsOptions, registerDefaultBackends } from './register-default-backends.js';
export {
  defaultWebGpuProbeInputs,
  inspectVulkan,
  probeWebGpu,
  type VulkanEnvironment,
  WebGpuBackend,
  type WebGpuBackendOptions,
  type WebGpuProbeInputs,
} from './webgpu/index.js';
