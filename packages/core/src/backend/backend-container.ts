import 'reflect-metadata';
import { type DependencyContainer, container as rootContainer } from 'tsyringe';
import type { Backend } from '../contracts/backend.js';
import { BACKENDS } from './backends-token.js';
import { checkBackend } from './check-backend.js';

/**
 * Makes a child container for one builder or one application, so that backends registered in
 * it never leak into other builders. It starts with the backends its parent has now (tsyringe
 * would otherwise hide them all as soon as the child registers its first one).
 *
 * @param parent - defaults to tsyringe's root container.
 *
 * ### Examples
 * ```ts
 * const container = createBackendContainer();
 * registerDefaultBackends(container); // from @quantsim/backends
 * const backend = await resolveBackend(container, 'cpu');
 * ```
 */
export function createBackendContainer(parent: DependencyContainer = rootContainer): DependencyContainer {
  const inherited = registeredBackends(parent);
  const child = parent.createChildContainer();
  for (const backend of inherited) child.register(BACKENDS, { useValue: backend });
  return child;
}

/**
 * Registers a backend in `container` under {@link BACKENDS}. A later registration with the same
 * name replaces the earlier one, so users can swap a default backend for their own.
 *
 * @returns the container, for chaining.
 * @throws InvalidArgumentError when `backend` does not have the shape of a {@link Backend}.
 *
 * ### Examples
 * ```ts
 * const container = registerBackend(createBackendContainer(), new WasmBackend());
 * ```
 */
export function registerBackend(container: DependencyContainer, backend: Backend): DependencyContainer {
  checkBackend(backend, 'registerBackend');
  container.register(BACKENDS, { useValue: backend });
  return container;
}

/**
 * The backends registered in `container` (or, when it has none of its own, its nearest
 * ancestor), one per name, the latest registration winning, in first-registration order.
 */
export function registeredBackends(container: DependencyContainer): readonly Backend[] {
  if (!container.isRegistered(BACKENDS, true)) return [];
  const byName = new Map<string, Backend>();
  for (const backend of container.resolveAll<Backend>(BACKENDS)) byName.set(backend.name, backend);
  return [...byName.values()];
}
