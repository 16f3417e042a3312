import type { Feeds, TensorMap } from './tensor.js';

/** Element types that QuantizeLinear/DequantizeLinear can produce and read. */
export type QdqElementType = 'int4' | 'uint4' | 'int8' | 'uint8' | 'int16' | 'uint16';

/** What a backend can run; core picks the simulated graph's form from it. */
export interface BackendCapabilities {
  /** Q/DQ element types this backend runs; other bitwidths use the float fake-quant form. */
  readonly qdqTypes: ReadonlySet<QdqElementType>;
  /** Whether the runtime fuses Q/DQ pairs into integer kernels (emulate mode) when allowed to. */
  readonly fusesQdq: boolean;
}

/** The outcome of {@link Backend.probe}. */
export interface BackendProbe {
  readonly available: boolean;
  /** Why the backend cannot run, in one sentence (when not available). */
  readonly reason?: string;
  /** What the user can do about it, in one sentence (when not available). */
  readonly fix?: string;
  /** The device it runs on, for reports (for example `NVIDIA H100`, `lavapipe`). */
  readonly device?: string;
}

/** How a session should run the model. */
export interface SessionOptions {
  /**
   * `simulate` keeps quantize/dequantize as float arithmetic (ONNX Runtime's
   * `session.disable_quant_qdq`); `emulate` lets the runtime fuse them into integer kernels.
   * `float` is for plain float models (calibration, reference runs).
   */
  readonly mode: 'simulate' | 'emulate' | 'float';
  /** Threads inside one operator; the backend's default when omitted. */
  readonly intraOpThreads?: number;
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

/** A loaded model ready to run. Release it when done: sessions hold native memory. */
export interface BackendSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model; `fetches` limits the outputs returned (default: all graph outputs). */
  run(feeds: Feeds, fetches?: readonly string[]): Promise<TensorMap>;
  /** Frees the session's native resources. Safe to call twice. */
  release(): Promise<void>;
}

/**
 * How another thread makes the same backend again: plain data, never a closure. Calibration with
 * `workers` sends it to each worker thread, which imports `module` and constructs
 * `new exports[exportName](options)`.
 */
export interface BackendRecipe {
  /** A file URL or module specifier that `import()` can load in a worker thread of this process. */
  readonly module: string;
  /** The exported class to construct. */
  readonly exportName: string;
  /** Its constructor's options, as plain (structured-cloneable) data. */
  readonly options?: unknown;
}

/**
 * A way to run ONNX models: CPU, CUDA and WebGPU ship in `@quantsim/backends`; users can
 * register their own. Core validates everything before a backend sees it.
 */
export interface Backend {
  /** Unique name used by `.backend(name)`. */
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /** Whether the backend can run here, and if not, why and what to do. Must not throw. */
  probe(): Promise<BackendProbe>;
  /** Creates a session over serialised ONNX bytes. */
  createSession(model: Uint8Array, options: SessionOptions): Promise<BackendSession>;
  /** How a worker thread makes this backend again; without it, calibration runs in one thread only. */
  readonly recipe?: BackendRecipe;
}
