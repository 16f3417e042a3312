/**
 * A histogram on a fixed power-of-two grid anchored at zero: bin `first + i` covers
 * `[(first + i) * 2^log2Width, (first + i + 1) * 2^log2Width)`. Because every grid is a
 * refinement of the coarser ones, histograms merge exactly: the result depends only on the
 * values seen, not on their order or on how samples were split between workers.
 */
export interface HistogramData {
  readonly log2Width: number;
  readonly first: number;
  readonly counts: readonly number[] | Float64Array;
  /**
   * The indices into `counts` of its non-zero counts, ascending, where the producer listed them
   * (the per-channel weight statistics `paramEncoding` computes do, for channels with fewer
   * values than bins): readers such as `uniformBinsSparse` and `histogramQuantiles` then visit only those
   * bins instead of scanning every one. Optional; whoever changes `counts` must leave it out.
   */
  readonly nonEmpty?: Int32Array;
}

/**
 * Statistics of one tensor (or one channel of it) gathered during calibration. Plain data, so
 * that it can cross worker and process boundaries; merge with `mergeTensorStats`.
 */
export interface TensorStats {
  /** Finite values seen. */
  readonly count: number;
  /** Smallest and largest finite values seen (`+Infinity`/`-Infinity` when none). */
  readonly min: number;
  readonly max: number;
  /** NaN and infinite values seen (skipped when calibration ignores them). */
  readonly nonFinite: number;
  /** Present when an encoding scheme needs a histogram. */
  readonly histogram?: HistogramData;
  /** Per-channel statistics along `axis`, for per-channel quantizers. */
  readonly axis?: number;
  readonly channels?: readonly TensorStats[];
}
