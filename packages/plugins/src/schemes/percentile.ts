import {
  type ChannelEncoding,
  computeGrid,
  type EncodingScheme,
  foldHistogram,
  type GridSpec,
  gridSteps,
  histogramQuantile,
  type TensorStats,
} from '@quantsim/core';
import { readOptions } from './options.js';
import { degenerateEncoding, requireHistogram } from './special-cases.js';

/**
 * Percentile calibration: the range that keeps `p` percent of the values.
 * - Asymmetric grids (and unsigned symmetric ones on non-negative data) clip (100 - p)% at each
 *   end: [quantile(1 - p/100), quantile(p/100)], as AIMET's PercentileEncodingAnalyzer does.
 * - Symmetric grids clip (100 - p)% of the magnitudes: [-t, t] with t = quantile(p/100) of |x|,
 *   because a symmetric grid is set by its larger side alone.
 * Quantiles interpolate linearly inside the bins of the power-of-two histogram (AIMET takes bin
 * edges of its 1536-bin histogram), clamped to the observed range, and the grid then comes from
 * `computeGrid`. One pass over the data. All-zero data give AIMET's [-1, 1] grid.
 *
 * Options: `p` (default 99.99; from 50 to 100, as in AIMET; 100 is minmax).
 */
export const percentileScheme: EncodingScheme = Object.freeze({
  name: 'percentile',
  statistics: 'histogram',
  description: 'Clips the (100 - p)% most extreme values (p = 99.99 by default).',
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding {
    const { p } = readOptions('percentile', spec.schemeOptions, {
      p: { fallback: 99.99, min: 50, max: 100, example: 99.99 },
    });
    const degenerate = degenerateEncoding(stats, spec, gridSteps(spec));
    if (degenerate !== undefined) return degenerate;
    const histogram = requireHistogram(stats, 'percentile');
    if (p === 100) return computeGrid(stats.min, stats.max, spec);
    const fraction = p / 100;
    const unsigned = spec.unsignedSymmetric && stats.min >= 0;
    if (spec.symmetric && !unsigned) {
      const magnitudeMin = stats.min <= 0 && stats.max >= 0 ? 0 : Math.min(Math.abs(stats.min), Math.abs(stats.max));
      const magnitudeMax = Math.max(Math.abs(stats.min), Math.abs(stats.max));
      const t = histogramQuantile(foldHistogram(histogram), fraction, magnitudeMin, magnitudeMax);
      return computeGrid(-t, t, spec);
    }
    const lo = histogramQuantile(histogram, 1 - fraction, stats.min, stats.max);
    const hi = histogramQuantile(histogram, fraction, stats.min, stats.max);
    return computeGrid(lo, hi, spec);
  },
});
