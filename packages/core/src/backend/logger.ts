import type { InjectionToken } from 'tsyringe';

/** Where quantsim sends warnings it cannot put in a return value, such as a backend fallback. */
export interface Logger {
  /** Reports something the user should know but that does not stop the work. */
  warn(message: string): void;
}

/**
 * The tsyringe token for the {@link Logger}. When nothing is registered, warnings go to
 * `console.warn`.
 *
 * ### Examples
 * ```ts
 * const container = createBackendContainer();
 * container.register(LOGGER, { useValue: { warn: (m: string) => myLog.push(m) } });
 * ```
 */
export const LOGGER: InjectionToken<Logger> = Symbol('quantsim.logger');

/** The logger used when none is registered: `console.warn`. */
export const consoleLogger: Logger = {
  warn(message: string): void {
    console.warn(message);
  },
};
