// Encoding grid, quantize-dequantize, power-of-two histograms and calibration statistics.

export {
  emptyHistogram,
  foldHistogram,
  HISTOGRAM_MAX_BINS,
  HISTOGRAM_MIN_LOG2_WIDTH,
  histogramQuantile,
  histogramQuantiles,
  mergeHistograms,
} from '../calibrate/histogram.js';
export {
  createStatsAccumulator,
  type KnownRange,
  mergeTensorStats,
  type StatsAccumulator,
  type StatsAccumulatorOptions,
  type StatsFromValuesOptions,
  statsFromValues,
} from '../calibrate/stats.js';
export { assembleEncoding } from './assemble-encoding.js';
export { computeGrid, type GridShape, gridSteps, MIN_ENCODING_RANGE } from './grid.js';
export { type QuantizeDequantizeOptions, quantizeDequantize, type RoundingMode } from './quantize-dequantize.js';
export { roundHalfAway, roundHalfEven } from './rounding.js';
export { uniformBins, uniformBinsSparse } from './uniform-bins.js';
