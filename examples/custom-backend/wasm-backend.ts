/**
 * A complete quantsim backend plugin: it runs models on onnxruntime-web's WebAssembly runtime,
 * inside Node, and is registered through dependency injection like the built-in backends.
 *
 * In a fluent quant script, add it as a plugin and pick it by name (see `quantize-with-wasm.ts`):
 *
 * ```ts
 * const sim = await quant('model.onnx')
 *   .use({ name: 'wasm-backend', backends: [new WasmBackend()] })
 *   .backend('wasm')
 *   .calibrate(data);
 * ```
 *
 * or register it in a container, as `custom-backend.test.ts` does:
 *
 * ```ts
 * const container = registerDefaultBackends(createBackendContainer());
 * registerBackend(container, new WasmBackend());
 * const backend = await resolveBackend(container, 'wasm');
 * ```
 *
 * The walk-through is docs/guides/writing-a-backend.md.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createOrtBackendSession, firstLine, toOrtSessionOptions } from '@quantsim/backends';
import {
  type Backend,
  type BackendCapabilities,
  type BackendProbe,
  type BackendSession,
  describeValue,
  InvalidArgumentError,
  ModelBuilder,
  type SessionOptions,
} from '@quantsim/core';

type OrtWeb = typeof import('onnxruntime-web');

/** Options of {@link WasmBackend}. */
export interface WasmBackendOptions {
  /**
   * WebAssembly threads (worker threads in Node); 1 when omitted. onnxruntime-web starts its
   * runtime once per process, so the first backend to create a session decides.
   */
  readonly threads?: number;
}

/**
 * Runs ONNX models with onnxruntime-web's WebAssembly build of ONNX Runtime's CPU provider:
 * slower than `cpu`, but the same runtime a browser uses, which makes it the reference for a
 * model that will ship to the web.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  /**
   * The WebAssembly build is ONNX Runtime's CPU provider: it runs QuantizeLinear and
   * DequantizeLinear of all six element types (the test checks each against `cpu`), and
   * ONNX Runtime's Q/DQ fusions apply to it as to the CPU provider.
   */
  readonly capabilities: BackendCapabilities = {
    qdqTypes: new Set(['int4', 'uint4', 'int8', 'uint8', 'int16', 'uint16']),
    fusesQdq: true,
  };
  readonly #threads: number;
  #runtime: Promise<OrtWeb> | undefined;

  /** @throws InvalidArgumentError when `threads` is not a positive integer. */
  constructor(options: WasmBackendOptions = {}) {
    const threads = options.threads ?? 1;
    if (!(Number.isInteger(threads) && threads > 0))
      throw new InvalidArgumentError(`WasmBackend: threads must be a positive integer; received ${describeValue(threads)}.`);
    this.#threads = threads;
  }

  /**
   * Starts the WebAssembly runtime with a one-node model. It must not throw: whatever goes
   * wrong becomes `{ available: false, reason, fix }`, which core turns into a
   * BackendUnavailableError that says both.
   */
  async probe(): Promise<BackendProbe> {
    try {
      const ort = await this.#load();
      const session = await ort.InferenceSession.create(tinyModel(), { executionProviders: ['wasm'] });
      await session.release();
      const threads = `${this.#threads} thread${this.#threads > 1 ? 's' : ''}`;
      return { available: true, device: `WebAssembly (onnxruntime-web ${ort.env.versions.web ?? ''}, ${threads})` };
    } catch (error) {
      return {
        available: false,
        reason: `onnxruntime-web's WebAssembly runtime did not start (${firstLine(error)})`,
        fix: 'Install onnxruntime-web 1.30.0 beside this backend; its dist folder must hold ort-wasm-simd-threaded.wasm and .mjs.',
      };
    }
  }

  /**
   * Creates a session. Core has validated `model` and `options`; `toOrtSessionOptions` maps the
   * mode onto ONNX Runtime (`simulate` sets `session.disable_quant_qdq`), and
   * `createOrtBackendSession` converts tensors and wraps the runtime's errors.
   */
  async createSession(model: Uint8Array, options: SessionOptions): Promise<BackendSession> {
    const ort = await this.#load();
    const sessionOptions = toOrtSessionOptions(options, {}, ['wasm']);
    return createOrtBackendSession(this.name, () => ort.InferenceSession.create(model, sessionOptions), ort.Tensor);
  }

  /** Loads onnxruntime-web once, pointing it at its own files in node_modules. */
  #load(): Promise<OrtWeb> {
    this.#runtime ??= (async () => {
      const ort = await import('onnxruntime-web');
      // In Node, onnxruntime-web finds its .wasm and .mjs from its bundle's URL, which bundlers
      // and test runners can rewrite. Resolving them through the package's exports map is robust.
      const require = createRequire(import.meta.url);
      const file = (name: string) => pathToFileURL(require.resolve(`onnxruntime-web/${name}`)).href;
      ort.env.wasm.wasmPaths = { wasm: file('ort-wasm-simd-threaded.wasm'), mjs: file('ort-wasm-simd-threaded.mjs') };
      ort.env.wasm.numThreads = this.#threads;
      return ort;
    })();
    return this.#runtime;
  }
}

let tiny: Uint8Array | undefined;

/** y = x + x: enough to make the runtime compile and start. */
function tinyModel(): Uint8Array {
  if (!tiny) {
    const b = new ModelBuilder({ opset: 13 });
    const x = b.input('x', 'float32', [1, 4]);
    b.output(b.node('Add', [x, x], { outputs: ['y'] }), 'float32', [1, 4]);
    tiny = b.build('<wasm probe>').toBytes();
  }
  return tiny;
}
