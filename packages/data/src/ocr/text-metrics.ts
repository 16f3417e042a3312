/** How well recognized lines match their references. */
export interface TextScore {
  /** Lines read exactly right, as a fraction of all lines. */
  readonly accuracy: number;
  /** Character error rate: edit distance summed over lines, divided by the reference characters. */
  readonly cer: number;
  readonly lines: number;
  readonly exact: number;
  readonly edits: number;
  readonly referenceChars: number;
}

// MERGE(issue 14, near-copies): this is one of the three `editDistance` copies. `@quantsim/core`
// is getting the shared one; at merge, replace this body with a re-export of it (same name, same
// code-point semantics). The only copy in @quantsim/data: call it, do not add another.
/** Levenshtein distance between two strings, by Unicode code point (a CJK character counts once). */
export function editDistance(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitute = (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1);
      current.push(Math.min(substitute, (previous[j] as number) + 1, (current[j - 1] as number) + 1));
    }
    previous = current;
  }
  return previous[y.length] as number;
}

/**
 * Scores predictions against references: exact-line accuracy, and the corpus character error
 * rate (total edits over total reference characters, so long lines weigh more, as usual for CER).
 */
export function scoreLines(predictions: readonly string[], references: readonly string[]): TextScore {
  if (predictions.length !== references.length)
    throw new RangeError(`scoreLines: ${predictions.length} predictions for ${references.length} references.`);
  let edits = 0;
  let referenceChars = 0;
  let exact = 0;
  references.forEach((ref, i) => {
    const pred = predictions[i] ?? '';
    edits += editDistance(pred, ref);
    referenceChars += Array.from(ref).length;
    if (pred === ref) exact++;
  });
  const lines = references.length;
  return {
    accuracy: lines === 0 ? 0 : exact / lines,
    cer: referenceChars === 0 ? 0 : edits / referenceChars,
    lines,
    exact,
    edits,
    referenceChars,
  };
}
