import { type FeedsLike, QuantsimError, type TensorMap } from '@quantsim/core';
import { outputSqnrDb } from '../metric/output-sqnr.js';

import type { SampleMetric } from '../metric/sensitivity-metric.js';

export type { SampleMetric } from '../metric/sensitivity-metric.js';

/** Runs one configuration on one sample. */
export type ConfigurationRunner = (feeds: FeedsLike) => Promise<TensorMap>;

/** Every evaluation sample's outputs under one configuration, in sample order. */
/** Every sample's outputs of one configuration; `concurrency` runs at once (default 1). */
export type OutputsOf = (run: ConfigurationRunner, concurrency?: number) => Promise<readonly TensorMap[]>;

/** How a configuration is scored from its outputs: the user's per-sample metric averaged, or the output SQNR against float. */
export interface Scorer {
  readonly name: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  score(outputs: readonly TensorMap[]): number;
}

/**
 * The default score: 10·log10(Σ float² / Σ (float − quantized)²) over every float output of
 * every evaluation sample; Infinity when the outputs are identical.
 */
export function outputSqnrScorer(reference: readonly TensorMap[]): Scorer {
  return {
    name: 'output SQNR',
    unit: 'dB',
    better: 'higher',
    score(outputs) {
      return outputSqnrDb(reference, outputs);
    },
  };
}

/** The user's metric, averaged over the evaluation samples. */
export function sampleMetricScorer(
  samples: readonly FeedsLike[],
  metric: SampleMetric,
  better: 'higher' | 'lower',
  name = 'metric',
  unit = '',
): Scorer {
  return {
    name,
    unit,
    better,
    score(outputs) {
      let sum = 0;
      for (const [i, s] of samples.entries()) {
        const v = metric(outputs[i] as TensorMap, s);
        if (typeof v !== 'number' || Number.isNaN(v))
          throw new QuantsimError('INVALID_ARGUMENT', `The metric returned ${String(v)} for a sample; it must return a number.`, {
            hint: 'Return a finite score per sample, e.g. accuracy (better: "higher") or an error rate (better: "lower").',
          });
        sum += v;
      }
      return samples.length === 0 ? 0 : sum / samples.length;
    },
  };
}

/** Loss of a score against a reference, positive when worse, in the scorer's unit. */
export function lossOf(scorer: Pick<Scorer, 'better'>, reference: number, value: number): number {
  if (reference === value) return 0;
  return scorer.better === 'higher' ? reference - value : value - reference;
}

/** Throws the `ABORTED` error when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string, done: number, total: number): void {
  if (signal?.aborted)
    throw new QuantsimError('ABORTED', `${what} was aborted after ${done} of ${total} steps.`, {
      hint: 'Run it again with fewer evaluation samples to make it shorter.',
    });
}
