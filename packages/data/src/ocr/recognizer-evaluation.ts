import type { ModelRunner, SampleMetric, SensitivityMetric } from '@quantsim/analyze';
import type { FeedsLike, TensorData } from '@quantsim/core';
import { DataInputError } from '../errors/data-input-error.js';
import { ctcGreedyDecode } from './ctc-decode.js';
import type { OcrDictionary } from './ocr-dictionary.js';
import type { OcrLineSample } from './ocr-lines-dataset.js';
import { editDistance, scoreLines, type TextScore } from './text-metrics.js';

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

/** Labelled OCR lines as `analyze()` takes them: the evaluation feeds and a per-line metric. */
export interface OcrCerSampleMetric {
  /** One feed per line, `{ x: line.input }`; the metric knows its lines by these very objects. */
  readonly evaluation: readonly FeedsLike[];
  /**
   * A line's character edits, scaled so that the mean over all the lines is the corpus CER in
   * percent (edits summed over lines, divided by the reference characters summed), the figure
   * {@link ocrCerMetric} gives: lower is better.
   */
  readonly metric: SampleMetric;
}

/**
 * Character error rate on labelled OCR lines as a per-sample metric, for `analyze()` (whose
 * metric scores one sample at a time and averages): see {@link OcrCerSampleMetric}.
 * @throws DataInputError without lines, or when the lines have no reference characters.
 */
export function ocrCerSampleMetric(samples: readonly OcrLineSample[], dictionary: OcrDictionary): OcrCerSampleMetric {
  const chars = samples.reduce((n, s) => n + Array.from(s.label.text).length, 0);
  if (samples.length === 0 || chars === 0)
    throw new DataInputError(
      'ocrCerSampleMetric',
      samples.length === 0 ? 'received no lines' : 'the lines have no reference characters',
      'Pass labelled lines, for example loadOcrLines("evaluation", { limit: 32 }).',
    );
  const evaluation = samples.map((s) => ({ x: s.input }));
  const labels = new Map<FeedsLike, string>(evaluation.map((f, i) => [f, (samples[i] as OcrLineSample).label.text]));
  const scale = (100 * samples.length) / chars;
  const metric: SampleMetric = (outputs, sample) => {
    const label = labels.get(sample);
    if (label === undefined)
      throw new DataInputError(
        'ocrCerSampleMetric',
        'was asked to score a sample that is not one of its lines',
        'Pass its own `evaluation` feeds as the evaluation samples.',
      );
    const first = Object.values(outputs)[0] as TensorData | undefined;
    if (!first)
      throw new DataInputError('recognizer', 'returned no output', 'Use a PaddleOCR recognizer with one [N, T, classes] output.');
    const predicted = ctcGreedyDecode(first, dictionary).join('');
    return editDistance(predicted, label) * scale;
  };
  return { evaluation, metric };
}
