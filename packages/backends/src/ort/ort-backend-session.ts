import { BackendError, type BackendSession, type Feeds, type TensorData, type TensorMap, toError } from '@quantsim/core';
import { fromOrtTensor, type OrtTensorConstructor, type OrtTensorLike, toOrtTensor } from './tensor-convert.js';

/** The part of an ONNX Runtime `InferenceSession` (node or web) that {@link OrtBackendSession} uses. */
export interface OrtInferenceSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model, returning every graph output. */
  run(feeds: Record<string, OrtTensorLike>): Promise<Readonly<Record<string, unknown>>>;
  /** Runs the model, returning the outputs named in `fetches`. */
  run(feeds: Record<string, OrtTensorLike>, fetches: readonly string[]): Promise<Readonly<Record<string, unknown>>>;
  /** Frees the session's native resources. */
  release(): Promise<void>;
}

/**
 * A {@link BackendSession} over an ONNX Runtime session (`onnxruntime-node` or
 * `onnxruntime-web`): converts tensors both ways, wraps runtime errors in {@link BackendError},
 * and releases deterministically (after any run still in flight; a second call is a no-op).
 */
export class OrtBackendSession implements BackendSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly #backend: string;
  readonly #Tensor: OrtTensorConstructor;
  readonly #inFlight = new Set<Promise<unknown>>();
  #session: OrtInferenceSessionLike | undefined;
  #released: Promise<void> | undefined;

  /**
   * @param backend - the backend's name, for messages.
   * @param session - an open runtime session; this object owns it from now on.
   * @param Tensor - the same runtime's tensor class.
   */
  constructor(backend: string, session: OrtInferenceSessionLike, Tensor: OrtTensorConstructor) {
    this.#backend = backend;
    this.#session = session;
    this.#Tensor = Tensor;
    this.inputNames = Object.freeze([...session.inputNames]);
    this.outputNames = Object.freeze([...session.outputNames]);
  }

  /** Runs the model; `fetches` limits the outputs returned (default: all graph outputs). */
  run(feeds: Feeds, fetches?: readonly string[]): Promise<TensorMap> {
    const session = this.#session;
    if (!session)
      return Promise.reject(
        new BackendError(this.#backend, `This '${this.#backend}' session was released and cannot run again.`, {
          hint: 'Create a new session with backend.createSession().',
        }),
      );
    const task = this.#run(session, feeds, fetches);
    this.#inFlight.add(task);
    const forget = () => this.#inFlight.delete(task);
    task.then(forget, forget);
    return task;
  }

  async #run(session: OrtInferenceSessionLike, feeds: Feeds, fetches: readonly string[] | undefined): Promise<TensorMap> {
    const ortFeeds: Record<string, OrtTensorLike> = {};
    for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(tensor, this.#Tensor);
    let outputs: Readonly<Record<string, unknown>>;
    try {
      outputs = fetches ? await session.run(ortFeeds, [...fetches]) : await session.run(ortFeeds);
    } catch (error) {
      throw new BackendError(this.#backend, `Backend '${this.#backend}' failed to run the model: ${firstLine(error)}.`, {
        cause: error,
        hint: 'Check the inputs against session.inputNames and the model; the cause has the full message.',
      });
    }
    const result: Record<string, TensorData> = {};
    for (const [name, value] of Object.entries(outputs)) result[name] = fromOrtTensor(value, name);
    return result;
  }

  /** Frees the native session once every run in flight has settled. Safe to call twice. */
  release(): Promise<void> {
    this.#released ??= this.#release();
    return this.#released;
  }

  async #release(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await Promise.allSettled([...this.#inFlight]);
    try {
      await session?.release();
    } catch (error) {
      throw new BackendError(this.#backend, `Backend '${this.#backend}' failed to release a session: ${firstLine(error)}.`, {
        cause: error,
      });
    }
  }
}

/**
 * Opens an ONNX Runtime session and wraps it in an {@link OrtBackendSession}; a model the
 * runtime rejects becomes a {@link BackendError}.
 *
 * @param open - opens the runtime's session, for example
 *   `() => ort.InferenceSession.create(model, options)`.
 * @param Tensor - the same runtime's tensor class (`ort.Tensor`).
 *
 * ### Examples
 * ```ts
 * const ort = await import('onnxruntime-web');
 * const session = await createOrtBackendSession(
 *   'wasm',
 *   () => ort.InferenceSession.create(model, { executionProviders: ['wasm'] }),
 *   ort.Tensor,
 * );
 * ```
 */
export async function createOrtBackendSession(
  backend: string,
  open: () => Promise<OrtInferenceSessionLike>,
  Tensor: OrtTensorConstructor,
): Promise<OrtBackendSession> {
  let session: OrtInferenceSessionLike;
  try {
    session = await open();
  } catch (error) {
    throw new BackendError(backend, `Backend '${backend}' could not load the model: ${firstLine(error)}.`, {
      cause: error,
      hint: "The cause has ONNX Runtime's full message; check that the model and its opset are supported.",
    });
  }
  return new OrtBackendSession(backend, session, Tensor);
}

/** The first line of an error's message, without a final period. */
export function firstLine(error: unknown): string {
  return (toError(error).message.split('\n')[0] ?? '').trim().replace(/\.$/, '');
}
