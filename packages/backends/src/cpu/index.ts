/**
 * The CPU backend alone: `import { CpuBackend } from '@quantsim/backends/cpu'`.
 *
 * @module
 */
export { CpuBackend, type CpuBackendOptions } from './cpu-backend.js';
