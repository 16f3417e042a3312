import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { histogramQuantiles } from '../src/calibrate/histogram.js';
import type { HistogramData } from '../src/contracts/stats.js';
import { uniformBins, uniformBinsSparse } from '../src/encode/uniform-bins.js';
import { referenceUniformBins } from './reference/uniform-bins.js';

/** Power-of-two histograms: mostly empty bins, integer counts, now and then a fractional one. */
const histogram = fc
  .record({
    log2Width: fc.integer({ min: -10, max: 3 }),
    first: fc.integer({ min: -300, max: 300 }),
    counts: fc.array(
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 500 }) },
        { weight: 1, arbitrary: fc.double({ min: 0, max: 20, noNaN: true }) },
      ),
      { minLength: 1, maxLength: 400 },
    ),
  })
  .map((h): HistogramData => ({ ...h, counts: Float64Array.from(h.counts) }));

/** [lo, hi] around, inside or across the histogram's extent (start, start + extent). */
function window(hist: HistogramData, loFraction: number, widthFraction: number) {
  const w = 2 ** hist.log2Width;
  const start = hist.first * w;
  const extent = hist.counts.length * w;
  const lo = start + loFraction * extent;
  return { lo, hi: lo + widthFraction * extent, start, extent };
}

describe('uniformBins', () => {
  it('gives the dense loop’s counts bit for bit, and uniformBinsSparse its non-empty bins (fast-check)', () => {
    fc.assert(
      fc.property(
        histogram,
        fc.double({ min: -0.2, max: 0.8, noNaN: true }),
        fc.double({ min: 0.01, max: 1.5, noNaN: true }),
        fc.integer({ min: 1, max: 3000 }),
        (hist, loFraction, widthFraction, bins) => {
          const { lo, hi } = window(hist, loFraction, widthFraction);
          const want = referenceUniformBins(hist, lo, hi, bins);
          const got = uniformBins(hist, lo, hi, bins);
          expect(Array.from(got, (x) => (Object.is(x, -0) ? '-0' : x))).toEqual(
            Array.from(want, (x) => (Object.is(x, -0) ? '-0' : x)),
          );
          const sparse = uniformBinsSparse(hist, lo, hi, bins);
          const nonEmpty = Array.from(want.entries()).filter(([, c]) => c !== 0);
          expect(Array.from(sparse.index)).toEqual(nonEmpty.map(([j]) => j));
          expect(Array.from(sparse.counts)).toEqual(nonEmpty.map(([, c]) => c));
        },
      ),
      { numRuns: 1500 },
    );
  });
});

/** Numbers as strings where -0 and +0 differ, for comparisons that must be bit for bit. */
const exact = (xs: ArrayLike<number>) => Array.from(xs, (x) => (Object.is(x, -0) ? '-0' : String(x)));

function listed(hist: HistogramData): HistogramData {
  const nonEmpty = Int32Array.from(Array.from(hist.counts.keys()).filter((k) => (hist.counts[k] as number) !== 0));
  return { ...hist, nonEmpty };
}

describe('readers of HistogramData.nonEmpty', () => {
  it('uniformBinsSparse and histogramQuantiles give the same numbers with the list as without it (fast-check)', () => {
    fc.assert(
      fc.property(
        histogram.filter((h) => Array.from(h.counts).some((c) => c > 0)),
        fc.double({ min: -0.2, max: 0.8, noNaN: true }),
        fc.double({ min: 0.01, max: 1.5, noNaN: true }),
        fc.integer({ min: 1, max: 3000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
        (hist, loFraction, widthFraction, bins, fractions) => {
          const { lo, hi, start, extent } = window(hist, loFraction, widthFraction);
          const dense = uniformBinsSparse(hist, lo, hi, bins);
          const sparse = uniformBinsSparse(listed(hist), lo, hi, bins);
          expect(Array.from(sparse.index)).toEqual(Array.from(dense.index));
          expect(exact(sparse.counts)).toEqual(exact(dense.counts));
          const min = start;
          const max = start + extent;
          expect(exact(histogramQuantiles(listed(hist), fractions, min, max))).toEqual(
            exact(histogramQuantiles(hist, fractions, min, max)),
          );
        },
      ),
      { numRuns: 1500 },
    );
  });
});
