import { type ChannelEncoding, computeGrid, type EncodingScheme, type GridSpec, type TensorStats } from '@quantsim/core';
import { readOptions } from './options.js';

/**
 * AIMET's `tf` scheme (TfEncodingAnalyzer): the grid of the observed [min, max], widened to
 * include 0 and to at least 0.01. One pass over the data, running minima and maxima only; never
 * clips. All-zero data give [0, 0.01].
 */
export const minmaxScheme: EncodingScheme = Object.freeze({
  name: 'minmax',
  statistics: 'minmax',
  transientStats: true,
  description: "The observed minimum and maximum (AIMET's 'tf'); never clips.",
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding {
    readOptions('minmax', spec.schemeOptions, {});
    // With no data, min/max are +Infinity/-Infinity and computeGrid falls back to [0, 0.01].
    return computeGrid(stats.count > 0 ? stats.min : 0, stats.count > 0 ? stats.max : 0, spec);
  },
});
