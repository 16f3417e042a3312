import { type TensorStats, uniformBinsSparse } from '@quantsim/core';
import { histogramRange } from './special-cases.js';

/** A histogram resampled to equal bins over the observed range, with its empty bins left out. */
export interface CompactBins {
  /** Left edge of the first bin (the observed minimum). */
  readonly lo: number;
  /** Width of every bin. */
  readonly width: number;
  /** Index of each non-empty bin among all `bins` bins, ascending. */
  readonly index: Int32Array;
  /** Left edge of each non-empty bin. */
  readonly lefts: Float64Array;
  /** Midpoint of each non-empty bin. */
  readonly mids: Float64Array;
  /** Count of each non-empty bin. */
  readonly counts: Float64Array;
}

/**
 * Resamples the statistics' histogram to `bins` equal bins over the observed range (widened to
 * 0.01 for constant data, as AIMET does) with core's `uniformBinsSparse`, and keeps only the non-empty
 * bins: the searches of TF-enhanced and MSE evaluate every candidate on every bin, and a histogram
 * stretched by an outlier is mostly empty.
 */
export function compactBins(
  stats: TensorStats & { readonly histogram: NonNullable<TensorStats['histogram']> },
  bins: number,
): CompactBins {
  const { lo, hi } = histogramRange(stats);
  const sparse = uniformBinsSparse(stats.histogram, lo, hi, bins);
  const width = (hi - lo) / bins;
  let used = 0;
  for (let k = 0; k < sparse.counts.length; k++) if ((sparse.counts[k] as number) > 0) used++;
  const index = new Int32Array(used);
  const lefts = new Float64Array(used);
  const mids = new Float64Array(used);
  const counts = new Float64Array(used);
  for (let k = 0, j = 0; k < sparse.counts.length; k++) {
    const c = sparse.counts[k] as number;
    if (c > 0) {
      const i = sparse.index[k] as number;
      index[j] = i;
      lefts[j] = lo + i * width;
      mids[j] = lo + (i + 0.5) * width;
      counts[j++] = c;
    }
  }
  return { lo, width, index, lefts, mids, counts };
}
