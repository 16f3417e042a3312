import {
  type ChannelEncoding,
  computeGrid,
  type GridShape,
  type HistogramData,
  InvalidArgumentError,
  type TensorStats,
} from '@quantsim/core';

/**
 * The encodings AIMET's histogram analyzers (TF-enhanced, percentile, MSE, entropy) give when the
 * statistics cannot drive a search (libpymo, TfEnhancedEncodingAnalyzer.cpp computeEncoding and
 * the same code in the other analyzers):
 * - data seen, all of it zero: the histogram was never initialised, and AIMET returns the grid of
 *   [-1, 1] with Δ = 2 / N and offset floor(-1 / Δ): [-1.00392, 0.996078], offset -128 at 8 bits;
 * - no data at all: AIMET returns an invalid all-zero encoding; quantsim returns the minimal valid
 *   grid, that of [0, 0] (which {@link computeGrid} widens to [0, 0.01]), and leaves reporting the
 *   missing data to calibration.
 *
 * @param steps - N as the analyzer counts it (TF-enhanced uses 2^b - 1 even when strict).
 * @returns the encoding, or `undefined` when the statistics hold non-zero data.
 */
export function degenerateEncoding(stats: TensorStats, spec: GridShape, steps: number): ChannelEncoding | undefined {
  if (!(stats.count > 0)) return computeGrid(0, 0, spec);
  if (stats.min !== 0 || stats.max !== 0) return undefined;
  const scale = 2 / steps;
  const offset = Math.floor(-1 / scale);
  const min = offset * scale;
  return { min, max: min + steps * scale, scale, offset };
}

/** The histogram of the statistics, or an error that says how to gather one. */
export function requireHistogram(stats: TensorStats, scheme: string): HistogramData {
  if (stats.histogram === undefined) {
    throw new InvalidArgumentError(`Scheme '${scheme}' needs a histogram, but the statistics have none.`, {
      hint: "Gather statistics with { histogram: true } (the scheme's statistics are 'histogram').",
    });
  }
  return stats.histogram;
}

/**
 * The observed range widened to a non-empty interval: AIMET initialises its histograms over
 * [min, min + 0.01] when all values are equal.
 */
export function histogramRange(stats: TensorStats): { readonly lo: number; readonly hi: number } {
  return { lo: stats.min, hi: stats.max > stats.min ? stats.max : stats.min + 0.01 };
}
