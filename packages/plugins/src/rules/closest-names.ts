import { editDistance } from '@quantsim/core';

/** The `count` candidates closest to `wanted` (case-insensitive), best first. */
export function closestNames(wanted: string, candidates: readonly string[], count = 3): string[] {
  const w = wanted.toLowerCase();
  return [...new Set(candidates)]
    .map((c) => {
      const l = c.toLowerCase();
      // A candidate that contains the wanted text is as close as can be.
      return { c, d: l.includes(w) || w.includes(l) ? 0 : editDistance(w, l.slice(0, Math.max(w.length, 1) + 4)) };
    })
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, count)
    .map((x) => x.c);
}

/** The literal text of a selector call's patterns, without RegExp syntax: `.layers(/fc|bbox/)` → `fc`. */
export function patternWords(call: string): string[] {
  const inner = call.replace(/^\.\w+\(/, '').replace(/\)$/, '');
  return inner
    .split(/[|,\s]+/)
    .map((w) =>
      w
        .replace(/^\/|\/[a-z]*$/g, '')
        .replace(/^'|'$/g, '')
        .replace(/[\^$\\.*+?()[\]{}]/g, ''),
    )
    .filter((w) => w.length > 0);
}
