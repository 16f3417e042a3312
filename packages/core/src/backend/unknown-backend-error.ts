import { QuantsimError } from '../errors/quantsim-error.js';

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
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Edit distance where swapping two neighbouring letters counts as one edit (`cdua` → `cuda`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}
