import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { channelStats, clearChannelStats, statsFromValues } from '../src/calibrate/stats.js';
import type { TensorStats } from '../src/contracts/stats.js';

/** Numbers as strings where -0 and +0 differ, for comparisons that must be bit for bit. */
const exact = (xs: ArrayLike<number>) => Array.from(xs, (x) => (Object.is(x, -0) ? '-0' : String(x)));

/** The statistics without the non-empty list, in the form statsFromValues gives. */
function withoutList(s: TensorStats): unknown {
  if (!s.histogram) return { ...s, min: String(s.min), max: String(s.max) };
  const { nonEmpty: _listed, ...h } = s.histogram;
  return { ...s, min: String(s.min), max: String(s.max), histogram: { ...h, counts: exact(h.counts) } };
}

const channelValue = fc.oneof(
  { weight: 20, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }).map(Math.fround) },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, 1e-30, -3.5) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY) },
);

describe('channelStats (per-channel weight statistics)', () => {
  it('gives statsFromValues of each channel bit for bit, lists the non-empty bins, and leaves reused memory zeroed (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(channelValue, { minLength: 200, maxLength: 200 }),
        fc.boolean(),
        fc.boolean(),
        (channels, per, pool, histogram, reuse) => {
          const values = Float32Array.from({ length: channels * per }, (_, i) => pool[i % pool.length] as number);
          // A channel of one repeated value, and (sometimes) one of only NaN.
          if (channels > 1) values.fill(0.75, 0, per);
          if (channels > 2) values.fill(Number.NaN, 2 * per, 3 * per);
          const zeroed = reuse ? new Float64Array(channels * 4096) : undefined;
          const from = channels > 1 ? 1 : 0;
          const got = channelStats(values, per, from, channels, histogram, zeroed);
          expect(got.length).toBe(channels - from);
          got.forEach((s, j) => {
            const c = from + j;
            const own = values.subarray(c * per, (c + 1) * per);
            expect(withoutList(s), `channel ${c}`).toEqual(withoutList(statsFromValues(own, { histogram })));
            const h = s.histogram;
            if (h?.nonEmpty) {
              const nonZero = Array.from(h.counts.keys()).filter((k) => (h.counts[k] as number) !== 0);
              expect(Array.from(h.nonEmpty)).toEqual(nonZero);
            }
            // Lists only where the channel has fewer values than bins (where it saves the scan).
            if (h && h.counts.length > per) expect(h.nonEmpty).toBeDefined();
          });
          clearChannelStats(got);
          if (zeroed) expect(zeroed.every((x) => x === 0)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });
});
