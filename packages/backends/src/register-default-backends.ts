import { registerBackend } from '@quantsim/core';
import type { DependencyContainer } from 'tsyringe';
import { CpuBackend, type CpuBackendOptions } from './cpu/cpu-backend.js';
import { CudaBackend, type CudaBackendOptions } from './cuda/cuda-backend.js';
import { WebGpuBackend, type WebGpuBackendOptions } from './webgpu/webgpu-backend.js';

/** Options of {@link registerDefaultBackends}, one entry per backend. */
export interface DefaultBackendsOptions {
  readonly cpu?: CpuBackendOptions;
  readonly cuda?: CudaBackendOptions;
  readonly webgpu?: WebGpuBackendOptions;
}

/**
 * Registers the `cpu`, `cuda` and `webgpu` backends in `container`. Nothing is probed or
 * loaded until a backend is resolved; backends registered later under the same names replace
 * these.
 *
 * @returns the container, for chaining.
 *
 * ### Examples
 * ```ts
 * const container = registerDefaultBackends(createBackendContainer(), { cpu: { intraOpThreads: 2 } });
 * const backend = await resolveBackend(container, 'webgpu', { fallback: 'cpu' });
 * ```
 */
export function registerDefaultBackends(
  container: DependencyContainer,
  options: DefaultBackendsOptions = {},
): DependencyContainer {
  registerBackend(container, new CpuBackend(options.cpu));
  registerBackend(container, new CudaBackend(options.cuda));
  registerBackend(container, new WebGpuBackend(options.webgpu));
  return container;
}
