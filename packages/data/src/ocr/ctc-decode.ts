import type { TensorData } from '@quantsim/core';
import { DataInputError } from '../errors/data-input-error.js';
import type { OcrDictionary } from './ocr-dictionary.js';

/**
 * CTC greedy decoding of a recognizer output `[N, T, C]`: the most likely class at each time
 * step, repeats collapsed, blanks (class 0) dropped. Returns one string per image.
 * @throws DataInputError when the output is not rank 3 or its class count differs from the dictionary's.
 */
export function ctcGreedyDecode(output: TensorData, dictionary: OcrDictionary): string[] {
  const [n, t, c] = output.dims;
  if (output.dims.length !== 3 || n === undefined || t === undefined || c === undefined || !(output.data instanceof Float32Array))
    throw new DataInputError(
      'recognizer output',
      `expected float32 [N, T, classes], received ${output.type} [${output.dims.join(', ')}]`,
      'Use a CTC text recognizer such as PaddleOCR rec.',
    );
  if (c !== dictionary.classes.length)
    throw new DataInputError(
      'recognizer output',
      `has ${c} classes but the dictionary has ${dictionary.classes.length} (with blank and space)`,
      'Use the dictionary the recognizer was trained with.',
    );
  const data = output.data;
  const texts: string[] = [];
  for (let i = 0; i < n; i++) {
    let text = '';
    let previous = 0;
    for (let s = 0; s < t; s++) {
      const base = (i * t + s) * c;
      let best = 0;
      let bestValue = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < c; k++) {
        const v = data[base + k] as number;
        if (v > bestValue) {
          bestValue = v;
          best = k;
        }
      }
      if (best !== 0 && best !== previous) text += dictionary.classes[best] ?? '';
      previous = best;
    }
    texts.push(text);
  }
  return texts;
}
