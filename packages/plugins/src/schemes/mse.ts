import { type ChannelEncoding, type EncodingScheme, type GridSpec, gridSteps, type TensorStats } from '@quantsim/core';
import { gridMaker } from './candidate-grid.js';
import { compactBins } from './compact-bins.js';
import { readOptions } from './options.js';
import { BOUND_MARGIN, boundLimit } from './search-bounds.js';
import { degenerateEncoding, requireHistogram } from './special-cases.js';

// A module-level copy: reading the import itself in the hot loops made the MSE search about 35 %
// slower under tsx (probably a getter per read, as its module transform emits).
const SAFE = BOUND_MARGIN;

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

/** Per-bin values every candidate's cost reads, computed once per search. */
interface MseBins {
  readonly lefts: Float64Array;
  /** left + width, as the cost computes each bin's right edge. */
  readonly rights: Float64Array;
  /** count / width, as the cost computes each bin's density. */
  readonly densities: Float64Array;
  /** Σ density · (|left| + |right|) and Σ density: the size of the rounding errors in the cost. */
  readonly spread: number;
  readonly density: number;
  /** The bins, densest first (roughly): their index, left and right edges, and density. */
  readonly byDensity: {
    readonly index: Int32Array;
    readonly lefts: Float64Array;
    readonly rights: Float64Array;
    readonly densities: Float64Array;
  };
}

function mseBins(lefts: Float64Array, counts: Float64Array, width: number): MseBins {
  const m = lefts.length;
  const rights = new Float64Array(m);
  const densities = new Float64Array(m);
  let spread = 0;
  let density = 0;
  for (let i = 0; i < m; i++) {
    const a = lefts[i] as number;
    const b = a + width;
    const d = (counts[i] as number) / width;
    rights[i] = b;
    densities[i] = d;
    spread += d * (Math.abs(a) + Math.abs(b));
    density += d;
  }
  // Densest quarter first, then the next quarter, then the rest (each in bin order): cheaper than
  // a full sort, and as good for a bound that only needs the big terms early.
  const sorted = densities.slice().sort();
  const cuts = [sorted[Math.floor(m * 0.75)] as number, sorted[Math.floor(m * 0.5)] as number, Number.NEGATIVE_INFINITY];
  const byDensity = {
    index: new Int32Array(m),
    lefts: new Float64Array(m),
    rights: new Float64Array(m),
    densities: new Float64Array(m),
  };
  let k = 0;
  let upper = Number.POSITIVE_INFINITY;
  for (const cut of cuts) {
    for (let i = 0; i < m; i++) {
      const d = densities[i] as number;
      if (d >= cut && d < upper) {
        byDensity.index[k] = i;
        byDensity.lefts[k] = lefts[i] as number;
        byDensity.rights[k] = rights[i] as number;
        byDensity.densities[k++] = d;
      }
    }
    upper = cut;
  }
  return { lefts, rights, densities, spread, density, byDensity };
}

/**
 * Whether `clipping` and the rounding terms of the bins inside (indices inside to above), summed
 * densest first, pass `threshold` (with the margin SAFE).
 */
function roundingAbove(
  byDensity: MseBins['byDensity'],
  inside: number,
  above: number,
  scale: number,
  clipping: number,
  threshold: number,
): boolean {
  const { index, lefts, rights, densities } = byDensity;
  const cube = scale * scale * scale;
  let rounding = 0;
  for (let k = 0; k < index.length; k++) {
    const i = index[k] as number;
    if (i < inside || i >= above) continue;
    const a = lefts[k] as number;
    const b = rights[k] as number;
    if (b > a) {
      rounding += (densities[k] as number) * (cube * (roundingErrorIntegral(b / scale) - roundingErrorIntegral(a / scale)));
      if ((clipping + rounding) * SAFE > threshold) return true;
    }
  }
  return false;
}

/**
 * Grid ends already found to lose by their clipping alone, with that clipping (a lower bound of the
 * clipping of every grid whose top end is at most `top`, or whose bottom end is at least `bottom`).
 */
interface LostEnds {
  top: number;
  topClipping: number;
  bottom: number;
  bottomClipping: number;
}

/**
 * Expected squared quantization error of the histogram on one grid, each bin's values taken as
 * spread uniformly over the bin: below the grid a value costs (x - min)², above it (x - max)²,
 * inside it the rounding error, integrated exactly (grid points are the multiples of Δ). Exact
 * integration matters because bins can be wider than Δ, where midpoint errors say nothing.
 * Stops early once the sum passes `limit`, since the candidate has lost by then.
 *
 * Faster than summing every bin, with the same result (the reference is test/reference/mse.ts):
 * the clipping terms of the bins beyond the grid's ends, outermost first where a losing candidate
 * loses most, then the rounding terms of the bins inside, densest first, bound the cost from below
 * before the sum (the clipping above the grid also while it runs); the candidate is dropped (+∞)
 * once that bound passes `limit`. The terms left out of the bound (the boundary bins' rounding) are
 * ≥ 0, and the rounding terms taken in are exact, up to float rounding: at most
 * u·Δ²·density·(|left| + |right| + Δ) per bin, u = 2^-53; ten times their sum is added to `limit`.
 * The bound sums in another order than the cost, so it is trusted only with the margin SAFE. The
 * sum itself and its early stop at `limit` are those of the reference: a candidate is kept exactly
 * when the reference keeps it.
 */
function mseCost(bins: MseBins, grid: ChannelEncoding, limit: number, lost: LostEnds, likelyToLose: boolean): number {
  const { lefts, rights, densities } = bins;
  const m = lefts.length;
  const { scale, min, max } = grid;
  const cube = scale * scale * scale;
  // The bins beyond the grid's top end are a suffix (rights ascend), those below its bottom end a prefix.
  let above = m;
  let aboveClipping = 0;
  const cap = boundLimit(limit);
  let threshold = cap;
  if (cap < Number.POSITIVE_INFINITY) {
    threshold = cap + 2e-15 * scale * scale * (bins.spread + 8 * scale * bins.density);
    // A lower top end clips more of every bin above it (and a higher bottom end, below it).
    if (max <= lost.top && lost.topClipping * SAFE > threshold) return Number.POSITIVE_INFINITY;
    if (min >= lost.bottom && lost.bottomClipping * SAFE > threshold) return Number.POSITIVE_INFINITY;
    while (above > 0 && (rights[above - 1] as number) > max) {
      above--;
      const high = (rights[above] as number) - max;
      const low = Math.max(lefts[above] as number, max) - max;
      aboveClipping += (densities[above] as number) * ((high * high * high - low * low * low) / 3);
      if (aboveClipping * SAFE > threshold) {
        if (max > lost.top) {
          lost.top = max;
          lost.topClipping = aboveClipping;
        }
        return Number.POSITIVE_INFINITY;
      }
    }
    let belowClipping = 0;
    let inside = 0;
    for (; inside < above && (lefts[inside] as number) < min; inside++) {
      const i = inside;
      const high = Math.min(rights[i] as number, min) - min;
      const low = (lefts[i] as number) - min;
      belowClipping += (densities[i] as number) * ((high * high * high - low * low * low) / 3);
      if ((aboveClipping + belowClipping) * SAFE > threshold) {
        if (belowClipping * SAFE > threshold && min < lost.bottom) {
          lost.bottom = min;
          lost.bottomClipping = belowClipping;
        }
        return Number.POSITIVE_INFINITY;
      }
    }
    // The rounding terms of the bins inside the grid, densest first (where a noisy grid loses most):
    // a second pass over the bins, worth it for a candidate that will likely lose.
    if (likelyToLose && roundingAbove(bins.byDensity, inside, above, scale, aboveClipping + belowClipping, threshold))
      return Number.POSITIVE_INFINITY;
  }
  let cost = 0;
  for (let i = 0; i < m; i++) {
    const a = lefts[i] as number;
    const b = rights[i] as number;
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
    cost += (densities[i] as number) * integral;
    if (cost > limit) return cost;
    // The clipping terms of the bins above the grid are still to come.
    if (i < above && (cost + aboveClipping) * SAFE > threshold) return Number.POSITIVE_INFINITY;
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
export const mseScheme: EncodingScheme = Object.freeze({
  name: 'mse',
  statistics: 'histogram',
  transientStats: true,
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
    const perBin = mseBins(lefts, counts, width);

    const rangeLo = Math.min(stats.min, 0);
    const rangeHi = Math.max(stats.max, 0);
    const grid = gridMaker(spec);
    const lost: LostEnds = {
      top: Number.NEGATIVE_INFINITY,
      topClipping: 0,
      bottom: Number.POSITIVE_INFINITY,
      bottomClipping: 0,
    };
    let best = grid(rangeLo, rangeHi);
    let bestCost = mseCost(perBin, best, Number.POSITIVE_INFINITY, lost, false);
    // Right after an improvement the next (slightly narrower) candidate often improves again.
    let improved = true;
    const consider = (candidateLo: number, candidateHi: number) => {
      const candidate = grid(candidateLo, candidateHi);
      const cost = mseCost(perBin, candidate, bestCost, lost, !improved);
      improved = cost < bestCost;
      if (improved) {
        bestCost = cost;
        best = candidate;
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
