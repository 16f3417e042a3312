import os from 'node:os';
import type {
  Backend,
  BackendCapabilities,
  BackendProbe,
  BackendRecipe,
  BackendSession,
  QdqElementType,
  SessionOptions,
} from '@quantsim/core';
import { checkSessionDefaults } from '../ort/check-defaults.js';
import { loadOrtNode } from '../ort/load-ort.js';
import { openOrtSession } from '../ort/open-ort-session.js';
import { firstLine } from '../ort/ort-backend-session.js';
import { ortNodeVersion } from '../ort/ort-package.js';
import type { OrtSessionDefaults } from '../ort/session-options.js';

/** Options of {@link CpuBackend}: defaults for every session it creates. */
export interface CpuBackendOptions extends OrtSessionDefaults {}

const ALL_QDQ_TYPES: readonly QdqElementType[] = ['int4', 'uint4', 'int8', 'uint8', 'int16', 'uint16'];

/**
 * Runs models on the CPU with `onnxruntime-node`'s default execution provider. It runs every
 * Q/DQ element type, and in `emulate` mode ONNX Runtime fuses Q/DQ pairs into integer kernels
 * (QLinearConv, QLinearMatMul…).
 *
 * ### Examples
 * ```ts
 * const cpu = new CpuBackend({ intraOpThreads: 2 });
 * const session = await cpu.createSession(model.toBytes(), { mode: 'simulate' });
 * const outputs = await session.run({ x: { type: 'float32', data: new Float32Array(4), dims: [1, 4] } });
 * await session.release();
 * ```
 */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly capabilities: BackendCapabilities = { qdqTypes: new Set(ALL_QDQ_TYPES), fusesQdq: true };
  readonly #defaults: OrtSessionDefaults;

  /** @throws InvalidArgumentError for malformed options. */
  constructor(options: CpuBackendOptions = {}) {
    checkSessionDefaults('CpuBackend', options);
    this.#defaults = { ...options };
  }

  /** How a calibration worker thread makes this backend again (same options). */
  get recipe(): BackendRecipe {
    return { module: import.meta.url, exportName: 'CpuBackend', options: { ...this.#defaults } };
  }

  /** Available wherever `onnxruntime-node`'s native library loads; the device is the CPU model. */
  async probe(): Promise<BackendProbe> {
    try {
      await loadOrtNode();
    } catch (error) {
      return {
        available: false,
        reason: `onnxruntime-node's native library failed to load (${firstLine(error)})`,
        fix: `Reinstall onnxruntime-node${safeVersion()} with your package manager on this machine (${process.platform}/${process.arch}).`,
      };
    }
    const model = os.cpus()[0]?.model.trim() ?? 'CPU';
    return { available: true, device: `${model} (${os.availableParallelism()} threads)` };
  }

  /** Creates a CPU session over serialised ONNX bytes. */
  async createSession(model: Uint8Array, options: SessionOptions): Promise<BackendSession> {
    return openOrtSession(this, model, options, this.#defaults, ['cpu'], false);
  }
}

function safeVersion(): string {
  try {
    return ` ${ortNodeVersion()}`;
  } catch {
    return '';
  }
}
