/**
 * The CUDA backend alone: `import { CudaBackend } from '@quantsim/backends/cuda'`.
 *
 * @module
 */
export { CudaBackend, type CudaBackendOptions } from './cuda-backend.js';
export { type CudaProbeInputs, defaultCudaProbeInputs, probeCuda } from './cuda-probe.js';
