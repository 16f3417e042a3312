import { QuantsimError, type QuantsimErrorOptions } from './quantsim-error.js';

/**
 * A backend failed while loading or running a model, for example when ONNX Runtime rejects
 * the graph or runs out of memory. The runtime's own error is the `cause`.
 */
export class BackendError extends QuantsimError {
  /** The backend's name. */
  readonly backend: string;

  constructor(backend: string, message: string, options: QuantsimErrorOptions = {}) {
    super('BACKEND', message, options);
    this.backend = backend;
  }
}
