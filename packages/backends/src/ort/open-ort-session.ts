import { type Backend, type BackendSession, BackendUnavailableError, probeBackend, type SessionOptions } from '@quantsim/core';
import type { InferenceSession } from 'onnxruntime-node';
import { loadOrtNode } from './load-ort.js';
import { createOrtBackendSession } from './ort-backend-session.js';
import { type OrtSessionDefaults, toOrtSessionOptions } from './session-options.js';

/**
 * Opens an onnxruntime-node session for one of the built-in backends: when `probed`, the
 * backend's probe must say it can run (else {@link BackendUnavailableError} with its reason and
 * fix); then ONNX Runtime is loaded on first use and the session created with the providers.
 */
export async function openOrtSession(
  backend: Backend,
  model: Uint8Array,
  options: SessionOptions,
  defaults: OrtSessionDefaults,
  providers: InferenceSession.SessionOptions['executionProviders'],
  probed: boolean,
): Promise<BackendSession> {
  if (probed) {
    const probe = await probeBackend(backend);
    if (!probe.available)
      throw new BackendUnavailableError(backend.name, probe.reason ?? 'its probe gave no reason', { hint: probe.fix });
  }
  const ort = await loadOrtNode();
  const sessionOptions = toOrtSessionOptions(options, defaults, providers);
  return createOrtBackendSession(backend.name, () => ort.InferenceSession.create(model, sessionOptions), ort.Tensor);
}
