import { editDistance } from './edit-distance.js';
import { QuantsimError } from './quantsim-error.js';

/**
 * No backend of the requested name is registered. The message lists the registered names and,
 * when one is close, suggests it.
 */
export class UnknownBackendError extends QuantsimError {
  /** The name that was asked for. */
  readonly requested: string;
  /** The names registered in the container that was searched. */
  readonly registered: readonly string[];

  constructor(requested: string, registered: readonly string[]) {
    const list = registered.map((n) => `'${n}'`).join(', ');
    const close = closestName(requested, registered);
    super(
      'UNKNOWN_BACKEND',
      registered.length === 0
        ? `No backend named '${requested}' is registered: this container has no backends at all.`
        : `No backend named '${requested}' is registered; the registered backends are ${list}.`,
      {
        hint:
          registered.length === 0
            ? 'Register them with registerDefaultBackends(container) from @quantsim/backends, or your own with registerBackend(container, backend).'
            : close
              ? `Did you mean '${close}'?`
              : 'Check the name, or register your backend with registerBackend(container, backend).',
      },
    );
    this.requested = requested;
    this.registered = [...registered];
  }
}

/** The registered name within two edits (a swap of neighbours is one) of `name` (ignoring case), if there is one. */
function closestName(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of names) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase(), { transpositions: true });
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
