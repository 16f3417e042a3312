import type { ModelRunner, SensitivityMetric } from '@quantsim/analyze';
import type { TensorData } from '@quantsim/core';
import { DataInputError } from '../errors/data-input-error.js';
import { ctcGreedyDecode } from './ctc-decode.js';
import type { OcrDictionary } from './ocr-dictionary.js';
import type { OcrLineSample } from './ocr-lines-dataset.js';
import { scoreLines, type TextScore } from './text-metrics.js';

/** A recognizer's reading of a dataset: the score and each line's prediction. */
export interface RecognizerEvaluation extends TextScore {
  readonly predictions: readonly string[];
}

/**
 * Runs a recognizer (float or simulated) over OCR line samples, decodes with CTC greedy
 * decoding, and scores the lines against their labels.
 */
export async function evaluateRecognizer(
  run: ModelRunner,
  samples: readonly OcrLineSample[],
  dictionary: OcrDictionary,
  onProgress?: (done: number) => void,
): Promise<RecognizerEvaluation> {
  const predictions: string[] = [];
  for (const [i, sample] of samples.entries()) {
    const outputs = await run({ x: sample.input });
    const first = Object.values(outputs)[0] as TensorData | undefined;
    if (!first)
      throw new DataInputError('recognizer', 'returned no output', 'Use a PaddleOCR recognizer with one [N, T, classes] output.');
    predictions.push(...ctcGreedyDecode(first, dictionary));
    onProgress?.(i + 1);
  }
  return {
    ...scoreLines(
      predictions,
      samples.map((s) => s.label.text),
    ),
    predictions,
  };
}

/**
 * Character error rate on labelled OCR lines as a sensitivity metric, in percent (lower is
 * better). Each measurement runs every sample.
 */
export function ocrCerMetric(samples: readonly OcrLineSample[], dictionary: OcrDictionary): SensitivityMetric {
  return {
    name: 'CER',
    unit: '%',
    better: 'lower',
    samples: samples.length,
    async measure(run) {
      return (await evaluateRecognizer(run, samples, dictionary)).cer * 100;
    },
  };
}
