import { editDistance } from '@quantsim/core';
import { DataInputError } from '../errors/data-input-error.js';

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

/** Levenshtein distance by Unicode code point (a CJK character counts once): core's one implementation. */
export { editDistance } from '@quantsim/core';

/**
 * Scores predictions against references: exact-line accuracy, and the corpus character error
 * rate (total edits over total reference characters, so long lines weigh more, as usual for CER).
 */
export function scoreLines(predictions: readonly string[], references: readonly string[]): TextScore {
  if (predictions.length !== references.length)
    throw new DataInputError(
      'scoreLines',
      `${predictions.length} predictions for ${references.length} references`,
      'Pass one prediction per reference line, in the same order.',
    );
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
