import { pow2 } from '../calibrate/pow2.js';
import type { HistogramData } from '../contracts/stats.js';
import { InvalidArgumentError, QuantsimError } from '../errors/quantsim-error.js';

/** The error for a target bin reached out of order (a bug: source bins reach them in order). */
function outOfOrder(j: number, previous: number): QuantsimError {
  return new QuantsimError('CALIBRATION', `uniformBins reached target bin ${j} after bin ${previous}.`, {
    hint: 'This is a bug in quantsim; report it with the histogram.',
  });
}

/**
 * Resamples a power-of-two histogram to `bins` equal bins over [lo, hi], the form that encoding
 * schemes search over. Each source bin is first narrowed to [lo, hi] (when [lo, hi] is the observed
 * range, no value of the bin lies outside it), then its count is split between the target bins in
 * proportion to their overlap, as AIMET's `rescaleHistogram` does but without rounding to integers.
 * Source bins entirely outside [lo, hi] go to the first or last bin, so the total is preserved.
 *
 * @param hist - the histogram, from `TensorStats.histogram`.
 * @param lo - left edge of the first bin.
 * @param hi - right edge of the last bin; must exceed `lo`.
 * @param bins - number of bins, a positive integer.
 * @returns the counts of the `bins` bins; bin j covers [lo + j·(hi-lo)/bins, lo + (j+1)·(hi-lo)/bins).
 */
export function uniformBins(hist: HistogramData, lo: number, hi: number, bins: number): Float64Array {
  const { index, counts } = uniformBinsSparse(hist, lo, hi, bins);
  const out = new Float64Array(bins);
  for (let k = 0; k < index.length; k++) out[index[k] as number] = counts[k] as number;
  return out;
}

/**
 * {@link uniformBins} without its empty bins: the index of each non-empty bin, ascending, and its
 * count (the same numbers, computed in the same order). For histograms that are mostly empty,
 * such as a weight channel's few hundred values over 2048 bins, it skips the dense array.
 */
export function uniformBinsSparse(
  hist: HistogramData,
  lo: number,
  hi: number,
  bins: number,
): { readonly index: Int32Array; readonly counts: Float64Array } {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new InvalidArgumentError(`uniformBins: bins must be a positive integer, received ${bins}.`);
  }
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) {
    throw new InvalidArgumentError(`uniformBins: needs finite lo < hi, received lo=${lo}, hi=${hi}.`, {
      hint: 'Widen a degenerate range first, for example hi = lo + 0.01 as AIMET does.',
    });
  }
  const w = pow2(hist.log2Width);
  const step = (hi - lo) / bins;
  const last = bins - 1;
  const source = hist.counts;
  const first = hist.first;
  const length = source.length;
  // Source bins in ascending order reach target bins in ascending order (each starts where the
  // previous one ended), so each target bin's sum is built up at the end of the list. The loop is
  // written out (no helper closures): it runs once per weight channel, tens of thousands of times.
  // With the non-empty bins listed, only those are visited (the others are skipped anyway).
  const listed = hist.nonEmpty;
  const visits = listed ? listed.length : length;
  // A source bin is at most about two target bins wide (it reaches three): room for that.
  let index = new Int32Array(listed ? Math.min(bins, 3 * visits) + 1 : 64);
  let counts = new Float64Array(index.length);
  let used = 0;
  for (let t = 0; t < visits; t++) {
    const i = listed ? (listed[t] as number) : t;
    const c = source[i] as number;
    if (c === 0) continue;
    const a = Math.max((first + i) * w, lo);
    const b = Math.min((first + i + 1) * w, hi);
    let ja: number;
    let jb: number;
    if (!(b > a)) {
      // Entirely outside [lo, hi], or narrowed to a point: all of it goes to one bin.
      ja = a >= hi ? last : Math.min(last, Math.max(0, Math.floor((a - lo) / step)));
      jb = ja;
    } else {
      ja = Math.min(last, Math.max(0, Math.floor((a - lo) / step)));
      jb = Math.min(last, Math.max(0, Math.floor((b - lo) / step)));
      // A source bin that ends exactly on a target edge does not reach into the next target bin.
      if (jb > ja && lo + jb * step >= b) jb--;
    }
    if (used + jb - ja + 1 > index.length) {
      const size = Math.max(2 * index.length, used + jb - ja + 1);
      const grown = new Int32Array(size);
      grown.set(index);
      index = grown;
      const more = new Float64Array(size);
      more.set(counts);
      counts = more;
    }
    if (used > 0 && (index[used - 1] as number) >= ja) {
      if (index[used - 1] !== ja) throw outOfOrder(ja, index[used - 1] as number);
      used--; // the bin continues the last one: its first part adds to that one's sum
    } else counts[used] = 0;
    if (ja === jb) {
      index[used] = ja;
      counts[used] = (counts[used] as number) + c;
      used++;
      continue;
    }
    const density = c / (b - a);
    let assigned = 0;
    for (let j = ja; j < jb; j++) {
      const right = lo + (j + 1) * step;
      const part = density * (Math.min(right, b) - Math.max(lo + j * step, a));
      index[used] = j;
      counts[used] = (counts[used] as number) + part;
      used++;
      counts[used] = 0;
      assigned += part;
    }
    // The last overlapped bin takes the remainder, so that no count is lost to rounding.
    index[used] = jb;
    counts[used] = Math.max(0, c - assigned);
    used++;
  }
  // Only non-empty bins (a part can be 0), in place.
  let kept = 0;
  for (let k = 0; k < used; k++) {
    if ((counts[k] as number) !== 0) {
      index[kept] = index[k] as number;
      counts[kept++] = counts[k] as number;
    }
  }
  return { index: index.subarray(0, kept), counts: counts.subarray(0, kept) };
}
