import {
  type ChannelEncoding,
  computeGrid,
  type EncodingScheme,
  type GridSpec,
  gridSteps,
  histogramQuantiles,
  type TensorStats,
} from '@quantsim/core';
import { readOptions } from './options.js';
import { degenerateEncoding, requireHistogram } from './special-cases.js';

/**
 * Percentile calibration as AIMET's PercentileEncodingAnalyzer (aimet_torch v2) does it: each end
 * is clipped at its own percentile, [quantile(1 - p/100), quantile(p/100)], and the grid then
 * comes from `computeGrid`, so a symmetric grid takes AIMET's symmetric delta
 * max(max / floor(N/2), -min / ceil(N/2)) over the two clipped ends (adjust_min_max): the larger
 * clipped side sets the scale, whichever sign it has.
 * Quantiles interpolate linearly inside the bins of the power-of-two histogram (2048 to 4096 bins
 * over the observed range), clamped to the observed range; AIMET takes the left edge of the bin
 * holding the quantile in its 2048-bin histogram, so the two differ by less than one of its bins.
 * One pass over the data. All-zero data give AIMET's [-1, 1] grid.
 *
 * Options: `p` (default 99.99; from 50 to 100, as in AIMET; 100 is minmax).
 */
export const percentileScheme: EncodingScheme = Object.freeze({
  name: 'percentile',
  statistics: 'histogram',
  transientStats: true,
  description: 'Clips the (100 - p)% most extreme values at each end (p = 99.99 by default).',
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding {
    const { p } = readOptions('percentile', spec.schemeOptions, {
      p: { fallback: 99.99, min: 50, max: 100, example: 99.99 },
    });
    const degenerate = degenerateEncoding(stats, spec, gridSteps(spec));
    if (degenerate !== undefined) return degenerate;
    const histogram = requireHistogram(stats, 'percentile');
    if (p === 100) return computeGrid(stats.min, stats.max, spec);
    const fraction = p / 100;
    const [lo, hi] = histogramQuantiles(histogram, [1 - fraction, fraction], stats.min, stats.max) as [number, number];
    return computeGrid(lo, hi, spec);
  },
});
