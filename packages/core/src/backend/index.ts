// Backend registry, DI tokens and selection.

export { createBackendContainer, registerBackend, registeredBackends } from './backend-container.js';
export { BackendError } from './backend-error.js';
export { BackendUnavailableError } from './backend-unavailable-error.js';
export { BACKENDS } from './backends-token.js';
export { checkBackend } from './check-backend.js';
export { consoleLogger, LOGGER, type Logger } from './logger.js';
export { probeBackend } from './probe-backend.js';
export { type ResolveBackendOptions, resolveBackend } from './resolve-backend.js';
export { UnknownBackendError } from './unknown-backend-error.js';
