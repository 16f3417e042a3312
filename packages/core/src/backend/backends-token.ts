import type { InjectionToken } from 'tsyringe';
import type { Backend } from '../contracts/backend.js';

/**
 * The tsyringe token under which {@link Backend} instances are registered, one registration
 * per backend (multi-registration). Register with {@link registerBackend}; list with
 * {@link registeredBackends}.
 *
 * ### Examples
 * ```ts
 * const container = createBackendContainer();
 * container.register(BACKENDS, { useValue: myBackend }); // what registerBackend does, unchecked
 * ```
 */
export const BACKENDS: InjectionToken<Backend> = Symbol('quantsim.backends');
