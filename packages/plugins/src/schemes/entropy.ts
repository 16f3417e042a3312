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
import { degenerateEncoding, histogramRange, requireHistogram } from './special-cases.js';

/**
 * TensorRT's search on a histogram of non-negative values: for every threshold of `levels` to
 * all bins, P is the histogram cut there with everything beyond added to its last bin, Q is the
 * cut histogram quantized to `levels` levels; the threshold with the smallest KL(P ‖ Q) wins
 * (the first, on ties). Returns the number of bins below the threshold.
 */
function oneSidedSearch(ref: Float64Array, levels: number): number {
  const bins = ref.length;
  const beyond = new Float64Array(bins + 1);
  for (let i = bins - 1; i >= 0; i--) beyond[i] = (beyond[i + 1] as number) + (ref[i] as number);
  const p = new Float64Array(bins);
  const q = new Float64Array(bins);
  let best = bins;
  let bestDivergence = Number.POSITIVE_INFINITY;
  for (let size = levels; size <= bins; size++) {
    if (quantizedDistribution(ref, 0, size, levels, q) === 0) continue;
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
 * AIMET's two-sided search (EntropyEncodingAnalyzer::_optimizeKL, asymmetric branch): a window of
 * bins starts at the whole histogram and shrinks two bins at a time, from whichever side (left,
 * right or one each) loses the least data, never past zero; P saturates the histogram into the
 * window's end bins, Q quantizes the window to `levels` levels; the window with the smallest
 * KL(P ‖ Q) wins. Returns its first and last bins.
 */
function twoSidedSearch(hist: Float64Array, levels: number, lo: number, width: number): { first: number; last: number } {
  const bins = hist.length;
  const p = new Float64Array(bins);
  const q = new Float64Array(bins);
  const below = new Float64Array(bins + 1);
  for (let i = 0; i < bins; i++) below[i + 1] = (below[i] as number) + (hist[i] as number);
  const total = below[bins] as number;
  let start = 0;
  let stop = bins - 1;
  let best = { first: 0, last: bins - 1 };
  let bestDivergence = Number.POSITIVE_INFINITY;
  while (stop - start + 1 >= levels) {
    const size = stop - start + 1;
    p.set(hist.subarray(start, stop + 1));
    p[0] = below[start + 1] as number;
    p[size - 1] = total - (below[stop] as number);
    const sumQ = quantizedDistribution(hist, start, size, levels, q);
    if (sumQ === 0 || total === 0) break;
    const divergence = smoothedKlDivergence(p, q, size);
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = { first: start, last: stop };
    }
    const h = (i: number) => hist[i] as number;
    const losses = [h(start) + h(stop), h(start) + h(start + 1), h(stop) + h(stop - 1)];
    let side = losses.indexOf(Math.min(...losses));
    // 0 must stay inside the range: never raise the left end above 0 nor lower the right end below.
    if ((side === 0 && lo + (start + 1) * width > 0) || (side === 1 && lo + (start + 2) * width > 0)) side = 2;
    else if ((side === 0 && lo + stop * width < 0) || (side === 2 && lo + (stop - 1) * width < 0)) side = 1;
    if (side === 0) {
      start++;
      stop--;
    } else if (side === 1) start += 2;
    else stop -= 2;
  }
  return best;
}

/**
 * Entropy (KL-divergence) calibration, TensorRT's method as AIMET's EntropyEncodingAnalyzer
 * implements it: the clipping range whose quantized distribution loses the least information
 * (smallest KL divergence from the clipped reference distribution, both smoothed with ε = 0.0001).
 * - Symmetric grids: TensorRT's search on the histogram of |x|, 2048 reference bins over
 *   [0, max|x|], quantized to floor(N/2) + 1 levels (128 at 8 bits); the grid covers [-t, t].
 * - Unsigned symmetric grids on non-negative data: the same over [0, max] with N + 1 levels.
 * - Asymmetric grids: AIMET's shrinking window over 2048 bins spanning [min, max], N + 1 = 2^b
 *   levels (AIMET uses 255 levels whatever the bitwidth).
 * When the grid has more levels than the reference has bins (16 bits and up), nothing can be
 * learnt and the observed range is used, as AIMET does for bitwidths other than 8. Thresholds
 * never come closer than `levels` bins, so clipping is bounded below by levels/bins of the range.
 * One pass over the data; the search costs O(bins²) per tensor or channel. All-zero data give
 * AIMET's [-1, 1] grid.
 *
 * Options: `bins` (default 2048, TensorRT's reference size).
 */
export const entropyScheme: EncodingScheme = Object.freeze({
  name: 'entropy',
  statistics: 'histogram',
  description: 'KL-divergence calibration (TensorRT): the range whose quantized distribution loses least.',
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding {
    const { bins } = readOptions('entropy', spec.schemeOptions, {
      bins: { fallback: 2048, min: 16, max: 65536, integer: true, example: 2048 },
    });
    const n = gridSteps(spec);
    const degenerate = degenerateEncoding(stats, spec, n);
    if (degenerate !== undefined) return degenerate;
    const histogram = requireHistogram(stats, 'entropy');
    const unsigned = spec.symmetric && spec.unsignedSymmetric && stats.min >= 0;

    if (spec.symmetric) {
      const levels = unsigned ? n + 1 : Math.floor(n / 2) + 1;
      if (levels > bins) return computeGrid(stats.min, stats.max, spec);
      const magnitude = unsigned ? stats.max : Math.max(Math.abs(stats.min), Math.abs(stats.max));
      const reference = uniformBins(unsigned ? histogram : foldHistogram(histogram), 0, magnitude, bins);
      const t = (oneSidedSearch(reference, levels) * magnitude) / bins;
      return unsigned ? computeGrid(0, t, spec) : computeGrid(-t, t, spec);
    }

    const levels = n + 1;
    if (levels > bins) return computeGrid(stats.min, stats.max, spec);
    const { lo, hi } = histogramRange(stats);
    const width = (hi - lo) / bins;
    const window = twoSidedSearch(uniformBins(histogram, lo, hi, bins), levels, lo, width);
    return computeGrid(lo + window.first * width, lo + (window.last + 1) * width, spec);
  },
});
