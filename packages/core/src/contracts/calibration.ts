import type { TensorStats } from './stats.js';

/** Progress of calibration, for progress bars. */
export interface CalibrationProgress {
  /** Samples processed so far. */
  readonly done: number;
  /** The number of samples that will be processed, when known. */
  readonly total: number | undefined;
}

/** Options of calibration. */
export interface CalibrateOptions {
  /** Use at most this many samples. */
  readonly samples?: number;
  /** Called after each sample. */
  readonly onProgress?: (progress: CalibrationProgress) => void;
  /** Stops calibration cleanly: no encodings are produced. */
  readonly signal?: AbortSignal;
  /** `error` (default): a NaN or infinity in an activation stops calibration; `ignore`: skip and count them. */
  readonly nonFinite?: 'error' | 'ignore';
  /**
   * For histogram schemes: build histograms from every `histogramStride`-th element of each
   * tensor, picked inside the graph, while the range, count and non-finite check stay exact
   * (in-graph reductions over every element). 1 sends every element to JavaScript: exact, and
   * much slower on large models. Default 1.
   */
  readonly histogramStride?: number;
}

/** Activation statistics gathered from calibration data; plain data that merges across shards. */
export interface CalibrationStats {
  readonly samples: number;
  /** Statistics by tensor name. */
  readonly tensors: Readonly<Record<string, TensorStats>>;
}
