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
import { defaultWebGpuProbeInputs, probeWebGpu, type WebGpuProbeInputs } from './webgpu-probe.js';

/** Options of {@link WebGpuBackend}. */
export interface WebGpuBackendOptions extends OrtSessionDefaults {
  /** The layout for layout-sensitive operators (Conv…); ONNX Runtime's default (NHWC) when omitted. */
  readonly preferredLayout?: 'NCHW' | 'NHWC';
  /**
   * Q/DQ element types to run as QuantizeLinear/DequantizeLinear. None by default: see
   * {@link WebGpuBackend} for why. Listing `int8` or `uint8` makes ONNX Runtime run each
   * QuantizeLinear on the CPU provider, copying the activation off the GPU and back.
   */
  readonly qdqTypes?: Iterable<QdqElementType>;
  /** Replaces parts of what the probe inspects (for tests). */
  readonly probeInputs?: Partial<WebGpuProbeInputs>;
}

/**
 * Runs models with `onnxruntime-node`'s bundled WebGPU execution provider (Dawn: Vulkan on
 * Linux, Direct3D 12 on Windows, Metal on macOS; on a machine without a GPU, Mesa's lavapipe
 * gives Vulkan on the CPU).
 *
 * Its capabilities come from experiments with onnxruntime-node 1.30: the WebGPU provider has
 * no QuantizeLinear kernel at all, its DequantizeLinear takes int4, uint4, int8 and uint8 (not
 * int16 or uint16, and not the `com.microsoft` domain's), and a QuantizeLinear→DequantizeLinear
 * pair of int4 or uint4 fails to load because ONNX Runtime cannot copy 4-bit tensors to the GPU.
 * So `qdqTypes` is empty by default and core simulates every bitwidth with the float
 * fake-quant form, which stays on the GPU (except Round, which this provider also lacks).
 * ONNX Runtime fuses no Q/DQ into integer kernels here: `fusesQdq` is false.
 *
 * ### Examples
 * ```ts
 * const webgpu = new WebGpuBackend();
 * const probe = await webgpu.probe(); // { available: true, device: "lavapipe (Mesa's Vulkan on the CPU)" }
 * ```
 */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly capabilities: BackendCapabilities;
  readonly #defaults: OrtSessionDefaults;
  readonly #preferredLayout: 'NCHW' | 'NHWC' | undefined;
  readonly #probeInputs: WebGpuProbeInputs;

  /** @throws InvalidArgumentError for malformed options. */
  constructor(options: WebGpuBackendOptions = {}) {
    checkSessionDefaults('WebGpuBackend', options);
    const layout = options.preferredLayout;
    if (layout !== undefined && layout !== 'NCHW' && layout !== 'NHWC')
      throw new InvalidArgumentError(
        `WebGpuBackend: preferredLayout must be 'NCHW' or 'NHWC'; received ${describeValue(layout)}.`,
      );
    this.#preferredLayout = layout;
    this.#defaults = { intraOpThreads: options.intraOpThreads, graphOptimizationLevel: options.graphOptimizationLevel };
    this.#probeInputs = { ...defaultWebGpuProbeInputs(), ...options.probeInputs };
    this.capabilities = { qdqTypes: new Set(options.qdqTypes ?? []), fusesQdq: false };
  }

  /** How a calibration worker thread makes this backend again (same options, without test probe inputs). */
  get recipe(): BackendRecipe {
    const options = { preferredLayout: this.#preferredLayout, ...this.#defaults, qdqTypes: [...this.capabilities.qdqTypes] };
    return { module: import.meta.url, exportName: 'WebGpuBackend', options };
  }

  /** Whether a WebGPU adapter exists here, and which device it likely is. Never throws. */
  probe(): Promise<BackendProbe> {
    return probeWebGpu(this.#probeInputs);
  }

  /**
   * Creates a WebGPU session over serialised ONNX bytes. Nodes the WebGPU provider has no
   * kernel for run on the CPU provider. The first run of a model compiles its shaders, which
   * takes seconds on lavapipe.
   *
   * @throws BackendUnavailableError when the probe says WebGPU cannot run here.
   */
  async createSession(model: Uint8Array, options: SessionOptions): Promise<BackendSession> {
    const provider = this.#preferredLayout ? { name: 'webgpu', preferredLayout: this.#preferredLayout } : { name: 'webgpu' };
    return openOrtSession(this, model, options, this.#defaults, [provider], true);
  }
}
