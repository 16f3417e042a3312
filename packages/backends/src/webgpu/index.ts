/**
 * The WebGPU backend alone: `import { WebGpuBackend } from '@quantsim/backends/webgpu'`.
 *
 * @module
 */

export type { VulkanEnvironment } from '../system/vulkan-environment.js';
export { inspectVulkan } from '../system/vulkan-environment.js';
export { WebGpuBackend, type WebGpuBackendOptions } from './webgpu-backend.js';
export { defaultWebGpuProbeInputs, probeWebGpu, type WebGpuProbeInputs } from './webgpu-probe.js';
