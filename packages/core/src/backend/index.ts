// Backend registry, DI tokens and selection.

export { BackendError } from '../errors/backend-error.js';
export { BackendUnavailableError } from '../errors/backend-unavailable-error.js';
export { UnknownBackendError } from '../errors/unknown-backend-error.js';
export { createBackendContainer, registerBackend, registeredBackends } from './backend-container.js';
export { BACKENDS } from './backends-token.js';
export { checkBackend } from './check-backend.js';
export { consoleLogger, LOGGER, type Logger } from './logger.js';
export { probeBackend } from './probe-backend.js';
export { type ResolveBackendOptions, resolveBackend } from './resolve-backend.js';
