import type { DependencyContainer } from 'tsyringe';
import type { Backend, BackendProbe } from '../contracts/backend.js';
import { BackendUnavailableError } from '../errors/backend-unavailable-error.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import { UnknownBackendError } from '../errors/unknown-backend-error.js';
import { registeredBackends } from './backend-container.js';
import { checkBackend } from './check-backend.js';
import { consoleLogger, LOGGER, type Logger } from './logger.js';
import { probeBackend } from './probe-backend.js';

/** Options of {@link resolveBackend}. */
export interface ResolveBackendOptions {
  /**
   * `'cpu'`: when the requested backend is unavailable, use the registered `cpu` backend
   * instead and warn once through the {@link LOGGER}. Without it an unavailable backend is an
   * error: quantsim never falls back silently.
   */
  readonly fallback?: 'cpu';
}

const warned = new WeakSet<Backend>();

/**
 * Finds a backend by name (or takes the given instance), probes it (once per process, see
 * {@link probeBackend}) and returns it when it can run here.
 *
 * @throws UnknownBackendError when no backend of that name is registered; the message lists the
 *   registered names.
 * @throws BackendUnavailableError when the probe says it cannot run (and no fallback was asked
 *   for, or the fallback cannot run either); the message gives the probe's reason and fix.
 * @throws InvalidArgumentError when the arguments are malformed.
 *
 * ### Examples
 * ```ts
 * const container = registerDefaultBackends(createBackendContainer());
 * const gpu = await resolveBackend(container, 'cuda', { fallback: 'cpu' });
 * const session = await gpu.createSession(model.toBytes(), { mode: 'simulate' });
 * ```
 */
export async function resolveBackend(
  container: DependencyContainer,
  nameOrInstance: string | Backend,
  options: ResolveBackendOptions = {},
): Promise<Backend> {
  if (options.fallback !== undefined && options.fallback !== 'cpu')
    throw new InvalidArgumentError(
      `resolveBackend: fallback must be 'cpu' or left out; received ${describeValue(options.fallback)}.`,
    );
  const backend = find(container, nameOrInstance);
  const probe = await probeBackend(backend);
  if (probe.available) return backend;
  const unavailable = new BackendUnavailableError(backend.name, probe.reason ?? 'its probe gave no reason', {
    hint: probe.fix ?? (backend.name === 'cpu' ? undefined : "Pick another backend, or pass { fallback: 'cpu' }."),
  });
  if (options.fallback !== 'cpu' || backend.name === 'cpu') throw unavailable;
  const cpu = find(container, 'cpu');
  const cpuProbe = await probeBackend(cpu);
  if (!cpuProbe.available)
    throw new BackendUnavailableError(
      backend.name,
      `${unreasoned(probe)}, and the 'cpu' fallback cannot run either: ${unreasoned(cpuProbe)}`,
      {
        hint: cpuProbe.fix ?? probe.fix,
        cause: unavailable,
      },
    );
  if (!warned.has(backend)) {
    warned.add(backend);
    logger(container).warn(
      `quantsim: backend '${backend.name}' is unavailable (${unreasoned(probe)}); using 'cpu' instead, as fallback: 'cpu' asked.${probe.fix ? ` ${probe.fix}` : ''}`,
    );
  }
  return cpu;
}

function find(container: DependencyContainer, nameOrInstance: string | Backend): Backend {
  if (typeof nameOrInstance !== 'string') {
    checkBackend(nameOrInstance, 'resolveBackend');
    return nameOrInstance;
  }
  const backends = registeredBackends(container);
  const found = backends.find((b) => b.name === nameOrInstance);
  if (!found)
    throw new UnknownBackendError(
      nameOrInstance,
      backends.map((b) => b.name),
    );
  return found;
}

function unreasoned(probe: BackendProbe): string {
  return (probe.reason ?? 'its probe gave no reason').trim().replace(/\.$/, '');
}

function logger(container: DependencyContainer): Logger {
  return container.isRegistered(LOGGER, true) ? container.resolve<Logger>(LOGGER) : consoleLogger;
}
