import type { HistogramData } from '../contracts/stats.js';
import { InvalidArgumentError } from '../errors/quantsim-error.js';
import { pow2 } from './pow2.js';

/**
 * The most bins a histogram spans. The bin width is the smallest power of two at which the
 * observed range fits in this many bins, so a histogram of a non-degenerate range always spans
 * between about half of and all of `HISTOGRAM_MAX_BINS` bins: at 4096, at least 2048 bins, enough
 * for the 2048-bin reference distribution of entropy calibration and the 512 bins of TF-enhanced,
 * at 32 KiB of `Float64Array` per tensor (or per channel).
 */
export const HISTOGRAM_MAX_BINS = 4096;

/**
 * The finest bin width, as a power of two: 2^-149 is the spacing of float32 subnormals, so no
 * float32 data needs finer bins. Constant or all-zero data get this width.
 */
export const HISTOGRAM_MIN_LOG2_WIDTH = -149;

// Bin indices stay within ±2^30 so that they are small exact integers; this bounds the resolution
// of data that is clustered far from zero (for example 1000 ± 1e-7) to about 2^-30 of its magnitude.
const INDEX_LIMIT = 2 ** 30;

function fits(firstBin: number, lastBin: number): boolean {
  return firstBin >= -INDEX_LIMIT && lastBin < INDEX_LIMIT && lastBin - firstBin + 1 <= HISTOGRAM_MAX_BINS;
}

/**
 * The canonical bin width for finite values in [lo, hi]: the smallest power-of-two exponent,
 * at least `atLeast`, at which the range fits. Every condition is monotone in the exponent, so the
 * width of a merged histogram (the smallest that fits the union) is also what a single pass over
 * all the values would have chosen: the histogram depends only on the multiset of values.
 *
 * @internal
 */
export function canonicalLog2Width(lo: number, hi: number, atLeast: number = HISTOGRAM_MIN_LOG2_WIDTH): number {
  let e = Math.max(atLeast, HISTOGRAM_MIN_LOG2_WIDTH);
  // Start from a lower bound (one below the analytic value, against log2 rounding) and step up.
  const range = hi - lo;
  if (range > 0) e = Math.max(e, Math.floor(Math.log2(range / HISTOGRAM_MAX_BINS)) - 1);
  const magnitude = Math.max(Math.abs(lo), Math.abs(hi));
  if (magnitude > 0) e = Math.max(e, Math.floor(Math.log2(magnitude)) - 31);
  while (!fits(Math.floor(lo * pow2(-e)), Math.floor(hi * pow2(-e)))) e++;
  return e;
}

/** First and last non-empty bins of a histogram, or `undefined` when it is empty. */
function extent(hist: HistogramData): { readonly firstBin: number; readonly lastBin: number } | undefined {
  const counts = hist.counts;
  let lo = 0;
  while (lo < counts.length && counts[lo] === 0) lo++;
  if (lo === counts.length) return undefined;
  let hi = counts.length - 1;
  while (counts[hi] === 0) hi--;
  return { firstBin: hist.first + lo, lastBin: hist.first + hi };
}

function checkHistogram(hist: HistogramData, name: string): void {
  if (
    typeof hist !== 'object' ||
    hist === null ||
    !Number.isInteger(hist.log2Width) ||
    !Number.isInteger(hist.first) ||
    !(Array.isArray(hist.counts) || hist.counts instanceof Float64Array)
  ) {
    throw new InvalidArgumentError(
      `${name} must be a HistogramData ({ log2Width, first, counts }) with integer log2Width and first.`,
      { hint: 'Build histograms with createStatsAccumulator or statsFromValues.' },
    );
  }
}

/**
 * An empty histogram (no values), at the finest width.
 */
export function emptyHistogram(): HistogramData {
  return { log2Width: HISTOGRAM_MIN_LOG2_WIDTH, first: 0, counts: new Float64Array(0) };
}

/**
 * Merges two power-of-two histograms exactly: both are coarsened to the canonical width of the
 * union of their ranges (adjacent bins add up, which loses nothing because every coarser grid is a
 * union of finer bins) and their counts are added. The result is associative and commutative, bit
 * for bit, as long as counts stay below 2^53.
 */
export function mergeHistograms(a: HistogramData, b: HistogramData): HistogramData {
  checkHistogram(a, 'mergeHistograms: the first histogram');
  checkHistogram(b, 'mergeHistograms: the second histogram');
  const ea = extent(a);
  const eb = extent(b);
  if (ea === undefined && eb === undefined) return emptyHistogram();
  let e = Math.max(
    ea === undefined ? HISTOGRAM_MIN_LOG2_WIDTH : a.log2Width,
    eb === undefined ? HISTOGRAM_MIN_LOG2_WIDTH : b.log2Width,
  );
  const binsAt = (x: { firstBin: number; lastBin: number } | undefined, log2Width: number, target: number) => {
    if (x === undefined) return undefined;
    const scale = pow2(target - log2Width);
    return { firstBin: Math.floor(x.firstBin / scale), lastBin: Math.floor(x.lastBin / scale) };
  };
  for (;;) {
    const xa = binsAt(ea, a.log2Width, e);
    const xb = binsAt(eb, b.log2Width, e);
    const firstBin = Math.min(xa?.firstBin ?? Number.POSITIVE_INFINITY, xb?.firstBin ?? Number.POSITIVE_INFINITY);
    const lastBin = Math.max(xa?.lastBin ?? Number.NEGATIVE_INFINITY, xb?.lastBin ?? Number.NEGATIVE_INFINITY);
    if (fits(firstBin, lastBin)) {
      const counts = new Float64Array(lastBin - firstBin + 1);
      addInto(counts, firstBin, e, a);
      addInto(counts, firstBin, e, b);
      return { log2Width: e, first: firstBin, counts };
    }
    e++;
  }
}

/**
 * Adds the counts of `hist` into `counts` (which starts at bin `first` of width 2^log2Width,
 * at least as coarse as `hist`).
 *
 * @internal
 */
export function addInto(counts: Float64Array, first: number, log2Width: number, hist: HistogramData): void {
  const scale = pow2(log2Width - hist.log2Width);
  const src = hist.counts;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as number;
    if (c === 0) continue;
    const k = Math.floor((hist.first + i) / scale) - first;
    counts[k] = (counts[k] as number) + c;
  }
}

/**
 * The histogram of absolute values. Bin k < 0, covering [k·w, (k+1)·w), folds onto bin -k-1,
 * covering [(-k-1)·w, -k·w): the grid is anchored at zero, so folding needs no resampling. A
 * negative value lying exactly on a bin edge lands one bin lower than its absolute value would.
 */
export function foldHistogram(hist: HistogramData): HistogramData {
  checkHistogram(hist, 'foldHistogram: the histogram');
  const x = extent(hist);
  if (x === undefined) return emptyHistogram();
  const fold = (k: number) => (k < 0 ? -k - 1 : k);
  const firstBin = x.firstBin <= 0 && x.lastBin >= 0 ? 0 : Math.min(fold(x.firstBin), fold(x.lastBin));
  const lastBin = Math.max(fold(x.firstBin), fold(x.lastBin));
  const counts = new Float64Array(lastBin - firstBin + 1);
  for (let i = 0; i < hist.counts.length; i++) {
    const c = hist.counts[i] as number;
    if (c === 0) continue;
    const k = fold(hist.first + i) - firstBin;
    counts[k] = (counts[k] as number) + c;
  }
  return { log2Width: hist.log2Width, first: firstBin, counts };
}

/** The counts of the listed bins, in order. */
function listedCounts(counts: ArrayLike<number>, listed: Int32Array): Float64Array {
  const out = new Float64Array(listed.length);
  for (let t = 0; t < listed.length; t++) out[t] = counts[listed[t] as number] as number;
  return out;
}

/** The sum of the counts, four at a time, and whether each is an integer (then it is exact up to 2^53). */
function countTotal(counts: ArrayLike<number>): { total: number; integral: boolean } {
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  let fractional = 0;
  const n = counts.length - 3;
  let i = 0;
  for (; i < n; i += 4) {
    const c0 = counts[i] as number;
    const c1 = counts[i + 1] as number;
    const c2 = counts[i + 2] as number;
    const c3 = counts[i + 3] as number;
    t0 += c0;
    t1 += c1;
    t2 += c2;
    t3 += c3;
    fractional += c0 - Math.floor(c0) + (c1 - Math.floor(c1)) + (c2 - Math.floor(c2)) + (c3 - Math.floor(c3));
  }
  for (; i < counts.length; i++) {
    const c = counts[i] as number;
    t0 += c;
    fractional += c - Math.floor(c);
  }
  const total = t0 + t1 + t2 + t3;
  return { total, integral: fractional === 0 && total <= Number.MAX_SAFE_INTEGER };
}

/**
 * The value below which `fraction` of the histogram's count lies, interpolating linearly inside
 * the bin where the cumulative count crosses it. `min` and `max` are the observed extremes: the
 * first and last non-empty bins are narrowed to them, so `fraction` 0 and 1 give `min` and `max`.
 */
export function histogramQuantile(hist: HistogramData, fraction: number, min: number, max: number): number {
  return histogramQuantiles(hist, [fraction], min, max)[0] as number;
}

/**
 * {@link histogramQuantile} for several fractions of one histogram, which it walks once for the
 * total and then from the nearer end for each fraction (the same results as one call each).
 */
export function histogramQuantiles(hist: HistogramData, fractions: readonly number[], min: number, max: number): number[] {
  checkHistogram(hist, 'histogramQuantile: the histogram');
  for (const fraction of fractions)
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new InvalidArgumentError(`histogramQuantile: fraction must be in [0, 1], received ${fraction}.`);
    }
  if (!(min <= max)) {
    throw new InvalidArgumentError(`histogramQuantile: min (${min}) must not exceed max (${max}).`, {
      hint: 'Pass the observed minimum and maximum of the values in the histogram.',
    });
  }
  const counts = hist.counts;
  // The bins visited: every one, or the listed non-empty ones (the others are skipped anyway, and
  // adding their zeros changes no sum).
  const listed = hist.nonEmpty;
  const visits = listed ? listed.length : counts.length;
  let { total, integral } = listed ? countTotal(listedCounts(counts, listed)) : countTotal(counts);
  // Integer counts add up exactly in any order; others in the order of the bins.
  if (!integral) {
    total = 0;
    for (let t = 0; t < visits; t++) total += counts[listed ? (listed[t] as number) : t] as number;
  }
  if (total === 0) {
    throw new InvalidArgumentError('histogramQuantile: the histogram is empty.', {
      hint: 'Check stats.count before asking for a quantile.',
    });
  }
  const w = pow2(hist.log2Width);
  return fractions.map((fraction) => {
    const target = fraction * total;
    const at = (i: number, cumulative: number) => {
      const c = counts[i] as number;
      const left = Math.max((hist.first + i) * w, min);
      const right = Math.min((hist.first + i + 1) * w, max);
      const t = Math.min(1, Math.max(0, (target - cumulative) / c));
      return Math.min(max, Math.max(min, left + t * (right - left)));
    };
    if (fraction > 0.5 && integral) {
      // An upper quantile from the top: the bin is the lowest non-empty one whose count up to and
      // including it reaches the target, and with integer counts every partial sum is exact, so
      // this is the bin (and the count below it) the walk from the bottom finds.
      let after = 0;
      let found = -1;
      let below = 0;
      for (let t = visits - 1; t >= 0; t--) {
        const i = listed ? (listed[t] as number) : t;
        const c = counts[i] as number;
        if (c === 0) continue;
        if (total - after < target) break;
        found = i;
        below = total - after - c;
        after += c;
      }
      if (found >= 0) return at(found, below);
    }
    let cumulative = 0;
    for (let t = 0; t < visits; t++) {
      const i = listed ? (listed[t] as number) : t;
      const c = counts[i] as number;
      if (c === 0) continue;
      if (cumulative + c >= target) return at(i, cumulative);
      cumulative += c;
    }
    return max;
  });
}
