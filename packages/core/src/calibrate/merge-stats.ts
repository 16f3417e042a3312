import type { TensorStats } from '../contracts/stats.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import { mergeHistograms } from './histogram.js';

function isEmpty(s: TensorStats): boolean {
  return s.count === 0 && s.nonFinite === 0 && (s.channels === undefined || s.channels.length === 0);
}

/**
 * Merges the statistics of two shards of the same tensor's data. Exact, associative and
 * commutative: counts add, extremes combine, histograms merge on the power-of-two grid, and
 * per-channel statistics merge channel by channel.
 *
 * @throws InvalidArgumentError when one side has a histogram (or channels) and the other has data
 *   without, or when the channel axes or counts differ.
 */
export function mergeTensorStats(a: TensorStats, b: TensorStats): TensorStats {
  for (const [name, s] of [
    ['first', a],
    ['second', b],
  ] as const) {
    if (typeof s !== 'object' || s === null || typeof s.count !== 'number' || typeof s.nonFinite !== 'number') {
      throw new InvalidArgumentError(`mergeTensorStats: the ${name} argument is not TensorStats, received ${describeValue(s)}.`);
    }
  }
  if (isEmpty(a) && a.histogram === undefined) return b;
  if (isEmpty(b) && b.histogram === undefined) return a;
  const merged: { -readonly [K in keyof TensorStats]: TensorStats[K] } = {
    count: a.count + b.count,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    nonFinite: a.nonFinite + b.nonFinite,
  };
  if (a.channels !== undefined || b.channels !== undefined) {
    const ca = a.channels;
    const cb = b.channels;
    if (ca === undefined || cb === undefined || a.axis !== b.axis || ca.length !== cb.length) {
      throw new InvalidArgumentError(
        `mergeTensorStats: per-channel statistics differ (axis ${a.axis} with ${ca?.length ?? 'no'} channels, axis ${b.axis} with ${cb?.length ?? 'no'} channels).`,
        { hint: 'Merge only statistics of the same quantizer, gathered with the same channel axis.' },
      );
    }
    merged.axis = a.axis;
    merged.channels = ca.map((s, i) => mergeTensorStats(s, cb[i] as TensorStats));
  }
  if (a.histogram !== undefined || b.histogram !== undefined) {
    if (a.histogram === undefined || b.histogram === undefined) {
      throw new InvalidArgumentError('mergeTensorStats: one side has a histogram and the other has data without one.', {
        hint: 'Gather every shard with the same { histogram } option.',
      });
    }
    merged.histogram = mergeHistograms(a.histogram, b.histogram);
  }
  return merged;
}
