import type { BackendRecipe } from '../contracts/backend.js';
import type { TensorData, TensorMap } from '../contracts/tensor.js';

/** What every evaluation thread of a switchable simulation starts with (piscina's `workerData`). */
export interface SwitchableWorkerData {
  /** The switchable model, as one shared copy for all threads. */
  readonly model: SharedArrayBuffer;
  /** How the thread makes the backend again. */
  readonly recipe: BackendRecipe;
  /** Threads inside each session, so that the workers together use the cores once. */
  readonly intraOpThreads: number;
}

/** One run: checked feeds with the switch inputs set, and the outputs wanted (all when absent). */
export interface SwitchableTask {
  readonly feeds: Readonly<Record<string, TensorData>>;
  readonly fetches?: readonly string[];
}

/** What a run returns: the outputs, or its error as plain data. */
export type SwitchableResult =
  | { readonly outputs: TensorMap }
  | { readonly error: { readonly code: string | undefined; readonly message: string; readonly hint: string | undefined } };
