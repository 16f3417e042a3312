// Frozen copy of packages/core/src/encode/uniform-bins.ts as of commit 36c3e24 (the dense loop, before
// uniformBinsSparse): the reference uniform-bins.test.ts compares the current implementation against.
// Do not edit.
import { pow2 } from '../../src/calibrate/pow2.js';
import type { HistogramData } from '../../src/contracts/stats.js';
import { InvalidArgumentError } from '../../src/errors/quantsim-error.js';

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
export function referenceUniformBins(hist: HistogramData, lo: number, hi: number, bins: number): Float64Array {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new InvalidArgumentError(`uniformBins: bins must be a positive integer, received ${bins}.`);
  }
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) {
    throw new InvalidArgumentError(`uniformBins: needs finite lo < hi, received lo=${lo}, hi=${hi}.`, {
      hint: 'Widen a degenerate range first, for example hi = lo + 0.01 as AIMET does.',
    });
  }
  const out = new Float64Array(bins);
  const w = pow2(hist.log2Width);
  const step = (hi - lo) / bins;
  const last = bins - 1;
  const binOf = (x: number) => Math.min(last, Math.max(0, Math.floor((x - lo) / step)));
  for (let i = 0; i < hist.counts.length; i++) {
    const c = hist.counts[i] as number;
    if (c === 0) continue;
    const a = Math.max((hist.first + i) * w, lo);
    const b = Math.min((hist.first + i + 1) * w, hi);
    if (!(b > a)) {
      // Entirely outside [lo, hi], or narrowed to a point: all of it goes to one bin.
      const j = a >= hi ? last : binOf(a);
      out[j] = (out[j] as number) + c;
      continue;
    }
    const ja = binOf(a);
    let jb = binOf(b);
    // A source bin that ends exactly on a target edge does not reach into the next target bin.
    if (jb > ja && lo + jb * step >= b) jb--;
    if (ja === jb) {
      out[ja] = (out[ja] as number) + c;
      continue;
    }
    const density = c / (b - a);
    let assigned = 0;
    for (let j = ja; j < jb; j++) {
      const right = lo + (j + 1) * step;
      const part = density * (Math.min(right, b) - Math.max(lo + j * step, a));
      out[j] = (out[j] as number) + part;
      assigned += part;
    }
    // The last overlapped bin takes the remainder, so that no count is lost to rounding.
    out[jb] = (out[jb] as number) + Math.max(0, c - assigned);
  }
  return out;
}
