// Frozen copy of packages/plugins/src/schemes/mse.ts as of commit de24651 (before the search speed-ups
// of issue 15): the reference that scheme-search-equivalence.test.ts and bench/scheme-search.ts compare
// the current implementation against. Do not edit, except to follow changes of core's API.
import {
  type ChannelEncoding,
  computeGrid,
  type EncodingScheme,
  type GridSpec,
  gridSteps,
  type TensorStats,
} from '@quantsim/core';
import { readOptions } from '../../src/schemes/options.js';
import { degenerateEncoding, requireHistogram } from '../../src/schemes/special-cases.js';
import { compactBins } from './compact-bins.js';

/**
 * ∫ (s - round(s))² ds from -1/2 to t: whole periods contribute 1/12 each, the last partial one
 * ∫ u² du from -1/2 to r - 1/2.
 */
function roundingErrorIntegral(t: number): number {
  const shifted = t + 0.5;
  const periods = Math.floor(shifted);
  const u = shifted - periods - 0.5;
  return periods / 12 + (u * u * u + 0.125) / 3;
}

/**
 * Expected squared quantization error of the histogram on one grid, each bin's values taken as
 * spread uniformly over the bin: below the grid a value costs (x - min)², above it (x - max)²,
 * inside it the rounding error, integrated exactly (grid points are the multiples of Δ). Exact
 * integration matters because bins can be wider than Δ, where midpoint errors say nothing.
 * Stops early once the sum passes `limit`, since the candidate has lost by then.
 */
function mseCost(lefts: Float64Array, counts: Float64Array, width: number, grid: ChannelEncoding, limit: number): number {
  const { scale, min, max } = grid;
  const cube = scale * scale * scale;
  let cost = 0;
  for (let i = 0; i < lefts.length; i++) {
    const a = lefts[i] as number;
    const b = a + width;
    let integral = 0;
    if (a < min) {
      const top = Math.min(b, min) - min;
      const bottom = a - min;
      integral += (top * top * top - bottom * bottom * bottom) / 3;
    }
    if (b > max) {
      const top = b - max;
      const bottom = Math.max(a, max) - max;
      integral += (top * top * top - bottom * bottom * bottom) / 3;
    }
    const inLo = Math.max(a, min);
    const inHi = Math.min(b, max);
    if (inHi > inLo) integral += cube * (roundingErrorIntegral(inHi / scale) - roundingErrorIntegral(inLo / scale));
    cost += ((counts[i] as number) / width) * integral;
    if (cost > limit) return cost;
  }
  return cost;
}

/**
 * MSE calibration: the clipping range whose grid minimises the expected squared quantization error
 * (rounding plus clipping, weighted equally) over a histogram of the data, in the manner of AIMET's
 * MseEncodingAnalyzer, with values spread uniformly inside each bin and the error integrated
 * exactly (AIMET quantizes bin midpoints). Candidates scale the observed range [min(min, 0), max(max, 0)]:
 * - asymmetric: (i/K · lo, j/K · hi) for i, j in 0…K (K = `candidates`), every pair but (0, 0),
 *   so each end clips independently;
 * - symmetric (signed or unsigned): (s · lo, s · hi) for s = j/K, j = 1…K, since a symmetric grid
 *   is fixed by one scale.
 * Each candidate's grid comes from `computeGrid`; its cost is evaluated on `bins` uniform bins over
 * the observed range; ties go to the wider range. AIMET pairs every histogram edge below 0 with
 * every edge above (O(bins³)) and clamps values to the candidate range instead of the grid; the
 * scaled candidates keep per-channel weights affordable. One pass over the data. All-zero data give
 * AIMET's [-1, 1] grid.
 *
 * Options: `candidates` (K, default 100), `bins` (default 512).
 */
export const referenceMseScheme: EncodingScheme = Object.freeze({
  name: 'mse',
  statistics: 'histogram',
  description: 'The clipping range that minimises the expected squared quantization error.',
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding {
    const { candidates, bins } = readOptions('mse', spec.schemeOptions, {
      candidates: { fallback: 100, min: 1, max: 10000, integer: true, example: 100 },
      bins: { fallback: 512, min: 16, max: 65536, integer: true, example: 512 },
    });
    const degenerate = degenerateEncoding(stats, spec, gridSteps(spec));
    if (degenerate !== undefined) return degenerate;
    const histogram = requireHistogram(stats, 'mse');

    const { lefts, counts, width } = compactBins({ ...stats, histogram }, bins);

    const rangeLo = Math.min(stats.min, 0);
    const rangeHi = Math.max(stats.max, 0);
    let best = computeGrid(rangeLo, rangeHi, spec);
    let bestCost = mseCost(lefts, counts, width, best, Number.POSITIVE_INFINITY);
    const consider = (candidateLo: number, candidateHi: number) => {
      const grid = computeGrid(candidateLo, candidateHi, spec);
      const cost = mseCost(lefts, counts, width, grid, bestCost);
      if (cost < bestCost) {
        bestCost = cost;
        best = grid;
      }
    };
    const k = candidates;
    if (spec.symmetric) {
      for (let j = k - 1; j >= 1; j--) consider((j / k) * rangeLo, (j / k) * rangeHi);
    } else {
      const iMax = rangeLo < 0 ? k : 0;
      const jMax = rangeHi > 0 ? k : 0;
      for (let i = iMax; i >= 0; i--) {
        for (let j = jMax; j >= 0; j--) {
          if ((i === iMax && j === jMax) || (i === 0 && j === 0)) continue;
          consider((i / k) * rangeLo, (j / k) * rangeHi);
        }
      }
    }
    return best;
  },
});
