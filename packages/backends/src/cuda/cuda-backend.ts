import {
  type Backend,
  type BackendCapabilities,
  type BackendProbe,
  type BackendRecipe,
  type BackendSession,
  describeValue,
  InvalidArgumentError,
  type QdqElementType,
  type SessionOptions,
} from '@quantsim/core';
import { checkSessionDefaults } from '../ort/check-defaults.js';
import { openOrtSession } from '../ort/open-ort-session.js';
import type { OrtSessionDefaults } from '../ort/session-options.js';
import { type CudaProbeInputs, defaultCudaProbeInputs, probeCuda } from './cuda-probe.js';

/** Options of {@link CudaBackend}. */
export interface CudaBackendOptions extends OrtSessionDefaults {
  /** The CUDA device to run on; 0 when omitted. */
  readonly deviceId?: number;
  /**
   * Q/DQ element types to run as QuantizeLinear/DequantizeLinear; `int8` and `uint8` (the
   * types ONNX Runtime's CUDA provider has kernels for) when omitted.
   */
  readonly qdqTypes?: Iterable<QdqElementType>;
  /** Replaces parts of what the probe inspects (for tests). */
  readonly probeInputs?: Partial<CudaProbeInputs>;
}

const CUDA_QDQ_TYPES: readonly QdqElementType[] = ['int8', 'uint8'];

/**
 * Runs models on an NVIDIA GPU with `onnxruntime-node`'s CUDA execution provider. npm's
 * onnxruntime-node does not include the provider's libraries: install them with
 * `ONNXRUNTIME_NODE_INSTALL=cuda12`; CUDA 12 and cuDNN 9 must be installed. {@link probe}
 * says precisely what is missing. ONNX Runtime does not fuse Q/DQ into integer kernels on
 * CUDA, so `fusesQdq` is false.
 *
 * ### Examples
 * ```ts
 * const cuda = new CudaBackend({ deviceId: 0 });
 * const { available, reason, fix } = await cuda.probe();
 * ```
 */
export class CudaBackend implements Backend {
  readonly name = 'cuda';
  readonly capabilities: BackendCapabilities;
  readonly #deviceId: number;
  readonly #defaults: OrtSessionDefaults;
  readonly #probeInputs: CudaProbeInputs;

  /** @throws InvalidArgumentError for malformed options. */
  constructor(options: CudaBackendOptions = {}) {
    const deviceId = options.deviceId ?? 0;
    if (!(Number.isInteger(deviceId) && deviceId >= 0))
      throw new InvalidArgumentError(`CudaBackend: deviceId must be an integer from 0; received ${describeValue(deviceId)}.`);
    checkSessionDefaults('CudaBackend', options);
    this.#deviceId = deviceId;
    this.#defaults = { intraOpThreads: options.intraOpThreads, graphOptimizationLevel: options.graphOptimizationLevel };
    this.#probeInputs = { ...defaultCudaProbeInputs(deviceId), ...options.probeInputs };
    this.capabilities = { qdqTypes: new Set(options.qdqTypes ?? CUDA_QDQ_TYPES), fusesQdq: false };
  }

  /** How a calibration worker thread makes this backend again (same options, without test probe inputs). */
  get recipe(): BackendRecipe {
    const options = { deviceId: this.#deviceId, ...this.#defaults, qdqTypes: [...this.capabilities.qdqTypes] };
    return { module: import.meta.url, exportName: 'CudaBackend', options };
  }

  /** Whether the CUDA provider can run here; the device is the GPU's name. Never throws. */
  probe(): Promise<BackendProbe> {
    return probeCuda(this.#probeInputs);
  }

  /**
   * Creates a CUDA session over serialised ONNX bytes. Nodes the CUDA provider has no kernel
   * for run on the CPU provider.
   *
   * @throws BackendUnavailableError when the probe says CUDA cannot run here.
   */
  async createSession(model: Uint8Array, options: SessionOptions): Promise<BackendSession> {
    return openOrtSession(this, model, options, this.#defaults, [{ name: 'cuda', deviceId: this.#deviceId }], true);
  }
}
