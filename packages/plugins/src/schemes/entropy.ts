import {
  type ChannelEncoding,
  computeGrid,
  describeValue,
  type EncodingScheme,
  foldHistogram,
  type GridSpec,
  gridSteps,
  InvalidArgumentError,
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

/** AIMET's histogram size (libpymo math_functions.hpp, PDF_SIZE). */
const AIMET_BINS = 512;
/** AIMET's quantized bins (EntropyEncodingAnalyzer.cpp, numQuantizedBins). */
const AIMET_LEVELS = 255;

/**
 * AIMET's KL search (libpymo EntropyEncodingAnalyzer.cpp, _optimizeKL) on `ref`, 512 bins over
 * [lo, hi]: the window [start, stop] starts as the whole histogram and shrinks while it holds at
 * least 255 bins; P is the window with the mass beyond it added to its end bins, Q the window
 * merged into 255 levels and spread over its non-empty bins, and the window of smallest KL(P ‖ Q)
 * wins (the first, on ties). Symmetric grids shrink both ends; asymmetric ones shrink the
 * symmetric pair, the left pair or the right pair of bins, whichever holds the least mass,
 * never past 0. So no window is narrower than about half the histogram. `zeroBin`, when a bin
 * starts at exactly 0, keeps its own count in Q (see {@link quantizedDistribution}), except where
 * it is an end of a window that clips on that side: there it also holds the clipped values, and
 * keeping its count would price clipping a whole side to 0 at almost nothing (the PaddleOCR
 * classifier's input lost every dark pixel that way).
 */
function aimetWindowSearch(
  ref: Float64Array,
  lo: number,
  hi: number,
  shrinkBothEnds: boolean,
  zeroBin?: number,
): [number, number] {
  const bins = ref.length;
  const width = (hi - lo) / bins;
  const below = new Float64Array(bins + 1);
  for (let i = 0; i < bins; i++) below[i + 1] = (below[i] as number) + (ref[i] as number);
  const total = below[bins] as number;
  const p = new Float64Array(bins);
  const q = new Float64Array(bins);
  let start = 0;
  let stop = bins - 1;
  let best: [number, number] = [lo, hi];
  let bestDivergence = Number.POSITIVE_INFINITY;
  while (stop - start + 1 >= AIMET_LEVELS) {
    const size = stop - start + 1;
    // The zero bin keeps its own count only while it holds none of the clipped mass: at an end
    // that clips, P's end bin also holds every value beyond it, and AIMET's merging is kept.
    const zeroInside =
      zeroBin !== undefined &&
      (zeroBin > start || (zeroBin === start && start === 0)) &&
      (zeroBin < stop || (zeroBin === stop && stop === bins - 1));
    const inWindow = zeroInside ? (zeroBin as number) - start : undefined;
    const sumQ = quantizedDistribution(ref, start, size, AIMET_LEVELS, q, inWindow);
    p.set(ref.subarray(start, start + size));
    p[0] = below[start + 1] as number;
    p[size - 1] = total - (below[stop] as number);
    if (sumQ === 0 || total === 0) break;
    const divergence = smoothedKlDivergence(p, q, size);
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = [lo + start * width, lo + (stop + 1) * width];
    }
    if (shrinkBothEnds) {
      start++;
      stop--;
      continue;
    }
    const losses = [
      (ref[start] as number) + (ref[stop] as number),
      (ref[start] as number) + (ref[start + 1] as number),
      (ref[stop] as number) + (ref[stop - 1] as number),
    ];
    let side = losses.indexOf(Math.min(...losses));
    // 0 stays inside the window: shrink only the other side once an end would pass it.
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

/** Reads `variant` ('aimet' or 'tensorrt'); the other options are numbers. */
function readVariant(options: Readonly<Record<string, unknown>> | undefined): {
  variant: 'aimet' | 'tensorrt';
  rest: Readonly<Record<string, unknown>> | undefined;
} {
  if (options === undefined || typeof options !== 'object' || options === null) return { variant: 'aimet', rest: options };
  const { variant = 'aimet', ...rest } = options as Record<string, unknown>;
  if (variant !== 'aimet' && variant !== 'tensorrt')
    throw new InvalidArgumentError(
      `Scheme 'entropy': option 'variant' must be 'aimet' (AIMET's KL search, the default) or 'tensorrt' (TensorRT's and ONNX Runtime's), received ${describeValue(variant)}.`,
      { hint: "For example .scheme('entropy', { variant: 'tensorrt' })." },
    );
  if (variant === 'aimet' && Object.keys(rest).length > 0)
    throw new InvalidArgumentError(
      `Scheme 'entropy': option '${Object.keys(rest)[0]}' belongs to variant 'tensorrt'; AIMET's search always uses 512 bins and 255 levels.`,
      { hint: "Drop the option, or ask for .scheme('entropy', { variant: 'tensorrt', bins: 2048 })." },
    );
  return { variant, rest };
}

/** AIMET's entropy encoding of one tensor or channel (see {@link entropyScheme}). */
function aimetEntropy(stats: TensorStats, spec: GridSpec, histogram: Parameters<typeof uniformBins>[0]): ChannelEncoding {
  // Constant data: every window holds all of it; the observed value is the range.
  if (spec.bitwidth !== 8 || !(stats.max > stats.min)) return computeGrid(stats.min, stats.max, spec);
  let lo = stats.min;
  let hi = stats.max;
  if (spec.symmetric && (lo < 0 || !spec.unsignedSymmetric)) {
    const magnitude = Math.max(-lo, hi);
    lo = -magnitude;
    hi = magnitude;
  }
  const ref = uniformBins(histogram, lo, hi, AIMET_BINS);
  const zero = (-lo / (hi - lo)) * AIMET_BINS;
  const zeroBin = Number.isInteger(zero) && zero < AIMET_BINS ? zero : undefined;
  const [a, b] = aimetWindowSearch(ref, lo, hi, spec.symmetric || spec.strictSymmetric, zeroBin);
  return computeGrid(Math.min(a, 0), Math.max(b, 0), spec);
}

/**
 * Entropy (KL-divergence) calibration: the clipping window whose quantized distribution loses
 * the least information, KL(P ‖ Q), both smoothed by ε = 0.0001. Two variants:
 *
 * `variant: 'aimet'` (the default): AIMET's EntropyEncodingAnalyzer (libpymo), see
 * libpymo's `_optimizeKL`: 512 bins over the observed range (over [-max|x|, max|x|] for
 * symmetric grids, unless unsigned symmetric on data ≥ 0), windows of at least 255 bins, so a
 * tensor is clipped to no less than about half its range; searched at 8 bits only (other
 * bitwidths take the observed range, as in AIMET). The window then widens to include 0.
 *
 * `variant: 'tensorrt'`: TensorRT's search (Migacz, GTC 2017) and ONNX Runtime's calibrate.py,
 * which can clip to 1/16 of the range:
 * - Signed data (min < 0 < max): ONNX Runtime's search, windows [-t, t] over a histogram of
 *   2·`bins` bins spanning [-max|x|, max|x|], quantized to N + 1 levels (256 at 8 bits, 128 a
 *   side as in TensorRT); the grid covers [max(-t, min), min(t, max)].
 * - One-sided data (min ≥ 0, or max ≤ 0 mirrored): TensorRT's search over `bins` bins spanning
 *   [0, max|x|] with as many levels as the grid has on that side (N + 1 for asymmetric and unsigned
 *   symmetric grids, floor(N/2) + 1 for signed symmetric ones); the grid covers [0, t].
 * At most 512 thresholds are tried, evenly spaced. Option `bins` (default 2048 a side,
 * TensorRT's reference size). On the PaddleOCR recognizer this variant clips the residual
 * stream to 10–30 % of its range and collapses it (docs/accuracy.md); AIMET's does not.
 *
 * In both, the bin that starts at 0 (where one does) is kept out of the merging into levels: 0
 * is exact on every grid, and the spike of exact zeros of ReLU and HardSwish outputs would
 * otherwise make the narrowest window win (AIMET merges it). KL calibration needs a populated
 * histogram, so with fewer values than bins (most per-channel weights) or more levels than bins
 * (16 bits and up) the observed range is used, as TensorRT and ONNX Runtime use the maximum for
 * weights. One pass over the data. All-zero data give AIMET's [-1, 1] grid.
 */
export const entropyScheme: EncodingScheme = Object.freeze({
  name: 'entropy',
  statistics: 'histogram',
  transientStats: true,
  description:
    "KL-divergence calibration (AIMET's search; variant 'tensorrt': TensorRT's and ONNX Runtime's): the range whose quantized distribution loses least.",
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding {
    const { variant, rest } = readVariant(spec.schemeOptions);
    const { bins } = readOptions('entropy', rest, {
      bins: { fallback: 2048, min: 16, max: 65536, integer: true, example: 2048 },
    });
    const n = gridSteps(spec);
    const degenerate = degenerateEncoding(stats, spec, n);
    if (degenerate !== undefined) return degenerate;
    const histogram = requireHistogram(stats, 'entropy');
    if (variant === 'aimet')
      return stats.count < AIMET_BINS ? computeGrid(stats.min, stats.max, spec) : aimetEntropy(stats, spec, histogram);
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
