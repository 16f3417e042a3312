import { QuantsimError, type QuantsimErrorOptions } from './quantsim-error.js';

/**
 * A backend cannot run on this machine. The message gives the probe's reason, and the hint
 * its fix: "Backend 'cuda' is unavailable: onnxruntime-node was installed without its CUDA
 * provider (…). Reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12 …".
 */
export class BackendUnavailableError extends QuantsimError {
  /** The backend's name. */
  readonly backend: string;
  /** Why it cannot run, in one sentence (from its probe). */
  readonly reason: string;

  constructor(backend: string, reason: string, options: QuantsimErrorOptions = {}) {
    super('BACKEND_UNAVAILABLE', `Backend '${backend}' is unavailable: ${sentence(reason)}`, options);
    this.backend = backend;
    this.reason = reason;
  }
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
