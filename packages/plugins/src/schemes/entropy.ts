import {
  type ChannelEncoding,
  computeGrid,
  type EncodingScheme,
  foldHistogram,
  type GridSpec,
  gridSteps,
  type TensorStats,
  uniformBins,
} from '@quantsim/core';
import { quantizedDistribution, smoothedKlDivergence } from './kl-divergence.js';
import { readOptions } from './options.js';
import { degenerateEncoding, requireHistogram } from './special-cases.js';

/** At most this many thresholds are tried per tensor or channel (evenly spaced in bins). */
const MAX_THRESHOLDS = 512;

/**
 * TensorRT's search on a histogram of one-sided values over [0, max]: for thresholds from
 * `levels` bins to all of them, P is the histogram cut there with everything beyond added to its
 * last bin, Q is the cut histogram merged into `levels` levels and spread back over its non-empty
 * bins; the threshold with the smallest KL(P ‖ Q) wins (the first, on ties). Returns the number of
 * bins below the threshold.
 */
function oneSidedSearch(ref: Float64Array, levels: number): number {
  const bins = ref.length;
  const beyond = new Float64Array(bins + 1);
  for (let i = bins - 1; i >= 0; i--) beyond[i] = (beyond[i + 1] as number) + (ref[i] as number);
  const p = new Float64Array(bins);
  const q = new Float64Array(bins);
  const stride = Math.max(1, Math.ceil((bins - levels) / MAX_THRESHOLDS));
  let best = bins;
  let bestDivergence = Number.POSITIVE_INFINITY;
  for (let size = levels; size <= bins; size += stride) {
    if (quantizedDistribution(ref, 0, size, levels, q, 0) === 0) continue;
    p.set(ref.subarray(0, size));
    p[size - 1] = (p[size - 1] as number) + (beyond[size] as number);
    const divergence = smoothedKlDivergence(p, q, size);
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = size;
    }
  }
  return best;
}

/**
 * ONNX Runtime's search on a signed histogram (calibrate.py, HistogramCalibrater
 * get_entropy_threshold): `2·half` bins over [-T, T]; windows [-t, t] centred on zero grow from
 * `levels` bins to the whole histogram; P is the window with the mass outside added to its end
 * bins, Q the window merged into `levels` levels; the window of smallest KL(P ‖ Q) wins. Returns
 * its half-width in bins.
 */
function symmetricWindowSearch(ref: Float64Array, half: number, levels: number): number {
  const below = new Float64Array(ref.length + 1);
  for (let i = 0; i < ref.length; i++) below[i + 1] = (below[i] as number) + (ref[i] as number);
  const total = below[ref.length] as number;
  const p = new Float64Array(ref.length);
  const q = new Float64Array(ref.length);
  const first = Math.ceil(levels / 2);
  const stride = Math.max(1, Math.ceil((half - first) / MAX_THRESHOLDS));
  let best = half;
  let bestDivergence = Number.POSITIVE_INFINITY;
  for (let i = first; i <= half; i += stride) {
    const start = half - i;
    const size = 2 * i;
    if (quantizedDistribution(ref, start, size, levels, q, i) === 0) continue;
    p.set(ref.subarray(start, start + size));
    p[0] = (p[0] as number) + (below[start] as number);
    p[size - 1] = (p[size - 1] as number) + (total - (below[start + size] as number));
    const divergence = smoothedKlDivergence(p, q, size);
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = i;
    }
  }
  return best;
}

/**
 * Entropy (KL-divergence) calibration as TensorRT (Migacz, GTC 2017) and ONNX Runtime's
 * calibrate.py define it: the clipping threshold whose quantized distribution loses the least
 * information, KL(P ‖ Q) with both smoothed by ε = 0.0001.
 * - Signed data (min < 0 < max): ONNX Runtime's search, windows [-t, t] over a histogram of
 *   2·`bins` bins spanning [-max|x|, max|x|], quantized to N + 1 levels (256 at 8 bits, 128 a
 *   side as in TensorRT); the grid covers [max(-t, min), min(t, max)].
 * - One-sided data (min ≥ 0, or max ≤ 0 mirrored): TensorRT's search over `bins` bins spanning
 *   [0, max|x|] with as many levels as the grid has on that side (N + 1 for asymmetric and unsigned
 *   symmetric grids, floor(N/2) + 1 for signed symmetric ones); the grid covers [0, t].
 * The bin that starts at 0 is kept out of the merging into levels: 0 is exact on every grid, and
 * the spike of exact zeros of ReLU and HardSwish outputs would otherwise make the narrowest window
 * win. At most 512 thresholds are tried, evenly spaced. KL calibration needs a populated histogram, so
 * with fewer values than `bins` (most per-channel weights) or more levels than bins (16 bits and
 * up) the observed range is used, as TensorRT and ONNX Runtime use the maximum for weights.
 * One pass over the data. All-zero data give AIMET's [-1, 1] grid.
 *
 * Options: `bins` (default 2048 a side, TensorRT's reference size).
 */
export const entropyScheme: EncodingScheme = Object.freeze({
  name: 'entropy',
  statistics: 'histogram',
  description: 'KL-divergence calibration (TensorRT, ONNX Runtime): the range whose quantized distribution loses least.',
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding {
    const { bins } = readOptions('entropy', spec.schemeOptions, {
      bins: { fallback: 2048, min: 16, max: 65536, integer: true, example: 2048 },
    });
    const n = gridSteps(spec);
    const degenerate = degenerateEncoding(stats, spec, n);
    if (degenerate !== undefined) return degenerate;
    const histogram = requireHistogram(stats, 'entropy');
    if (stats.count < bins) return computeGrid(stats.min, stats.max, spec);

    if (stats.min < 0 && stats.max > 0) {
      const levels = n + 1;
      if (levels > 2 * bins) return computeGrid(stats.min, stats.max, spec);
      const magnitude = Math.max(-stats.min, stats.max);
      const reference = uniformBins(histogram, -magnitude, magnitude, 2 * bins);
      const t = (symmetricWindowSearch(reference, bins, levels) * magnitude) / bins;
      return computeGrid(Math.max(-t, stats.min), Math.min(t, stats.max), spec);
    }

    const negative = stats.max <= 0;
    const magnitude = negative ? -stats.min : stats.max;
    const signedGrid = spec.symmetric && !(spec.unsignedSymmetric && !negative);
    const levels = signedGrid ? Math.floor(n / 2) + 1 : n + 1;
    if (levels > bins) return computeGrid(stats.min, stats.max, spec);
    const reference = uniformBins(negative ? foldHistogram(histogram) : histogram, 0, magnitude, bins);
    const t = (oneSidedSearch(reference, levels) * magnitude) / bins;
    return negative ? computeGrid(-t, 0, spec) : computeGrid(0, t, spec);
  },
});
