import type { ChannelEncoding } from './encoding.js';
import type { GridSpec } from './spec.js';
import type { TensorStats } from './stats.js';

/**
 * An encoding scheme turns statistics into an encoding grid. Core calls `compute` once per
 * tensor, or once per channel for per-channel quantizers, with that channel's statistics.
 *
 * `statistics` tells calibration what to gather: `minmax` needs one pass over the data and only
 * running minima and maxima; `histogram` also needs a histogram of every value.
 */
export interface EncodingScheme {
  /** Unique name used by `.scheme(name)` and `defaults({ scheme })`. */
  readonly name: string;
  readonly statistics: 'minmax' | 'histogram';
  /** One sentence for docs and error messages. */
  readonly description?: string;
  /**
   * True when `compute` reads `stats` only while it runs, keeping no reference to it (or to its
   * histogram) after it returns: core may then reuse one weight channel's histogram memory for
   * the next channel's, which on models with thousands of weight channels saves most of the time
   * their statistics take. The built-in schemes set it; leave it out when unsure.
   */
  readonly transientStats?: boolean;
  /**
   * Computes the grid of one tensor or channel.
   * @param stats - statistics of the tensor or channel; `count` may be 0 (no data seen).
   * @param spec - bitwidth, symmetry and the scheme's options.
   */
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding;
}
