/** Options of {@link editDistance}. */
export interface EditDistanceOptions {
  /** Count a swap of two neighbouring characters as one edit (`cdua` → `cuda`), as in optimal string alignment. Default false. */
  readonly transpositions?: boolean;
}

/**
 * Levenshtein distance between two strings (insertions, deletions and substitutions, each one
 * edit; with `transpositions`, a swap of neighbours is one edit too), for "did you mean" hints.
 *
 * ### Examples
 * ```ts
 * editDistance('kitten', 'sitting'); // 3
 * editDistance('cdua', 'cuda', { transpositions: true }); // 1
 * ```
 */
export function editDistance(left: string, right: string, options: EditDistanceOptions = {}): number {
  // By Unicode code point, so a character outside the BMP (a surrogate pair) counts once.
  const a = Array.from(left);
  const b = Array.from(right);
  // Three rows of the dynamic programme: two before (for transpositions), the previous, the current.
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1);
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (options.transpositions && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (before[j - 2] as number) + 1);
      row[j] = best;
    }
    before = prev;
    prev = row;
  }
  return prev[b.length] as number;
}
