/*
 * The candidate search of TF-enhanced, made fast without changing its answer.
 *
 * The answer is the first candidate (in the candidate list's order) of lowest cost, each cost summed
 * bin by bin in ascending order. Every cost that can decide the answer is still summed exactly so;
 * the speed comes from not finishing the costs that cannot:
 * - the best-guess candidate (by a cheap estimate) is costed first, so the best cost so far is low
 *   from the start; the winner is still the lowest cost, the earliest in list order on ties;
 * - a candidate equal to the one before it (same Δ and offset) has the same cost and cannot win;
 * - a cost is abandoned once a lower bound of it exceeds the best so far: the ascending partial
 *   sum (the terms are ≥ 0, so partial sums of floats only grow), and the terms of the clipped
 *   bins at the top summed first, which are the same floats as in the full sum but added in another
 *   order, so that bound is trusted only with the margin SAFE (a sum of m ≥ 0 floats is
 *   within a relative m·2^-53 of the exact sum, whatever the order, and m ≤ 65536 bins).
 */
import { roundHalfAway, roundHalfEven } from '@quantsim/core';
import type { CompactBins } from './compact-bins.js';
import { BOUND_MARGIN, boundLimit } from './search-bounds.js';

// A module-level copy: reading the import itself in the hot loops made the MSE search about 35 %
// slower under tsx (probably a getter per read, as its module transform emits).
const SAFE = BOUND_MARGIN;

/** A candidate grid: x̂ = Δ·(q + offset). */
export interface Candidate {
  readonly delta: number;
  readonly offset: number;
}

/** Per-bin values every candidate's cost reads, computed once per search. */
export interface SearchBins {
  readonly bins: CompactBins;
  /** count · gamma, the weight of a clipped bin (the same product the cost computes). */
  readonly clippedWeights: Float64Array;
  /** Prefix sums of count, count·mid and count·mid² (length m + 1), for the estimates only. */
  readonly c0: Float64Array;
  readonly c1: Float64Array;
  readonly c2: Float64Array;
  /** How many bins there are in all, kept or not. */
  readonly allBins: number;
  readonly gamma: number;
}

export function searchBins(bins: CompactBins, allBins: number, gamma: number): SearchBins {
  const { mids, counts } = bins;
  const m = mids.length;
  const clippedWeights = new Float64Array(m);
  const c0 = new Float64Array(m + 1);
  const c1 = new Float64Array(m + 1);
  const c2 = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) {
    const c = counts[i] as number;
    const x = mids[i] as number;
    clippedWeights[i] = c * gamma;
    c0[i + 1] = (c0[i] as number) + c;
    c1[i + 1] = (c1[i] as number) + c * x;
    c2[i + 1] = (c2[i] as number) + c * x * x;
  }
  return { bins, clippedWeights, c0, c1, c2, allBins, gamma };
}

/**
 * About the number of kept bins whose midpoint is below `x` (a binary search: a table over all
 * the bins cost more to build than the searches, once per weight channel).
 */
function binsBelow(s: SearchBins, x: number): number {
  const k = Math.ceil((x - s.bins.lo) / s.bins.width - 0.5);
  return firstAtOrAbove(s.bins.index, Math.min(Math.max(0, k), s.allBins));
}

/**
 * A rough cost of the grid [lo, hi] with step Δ, only to choose the order of costing: clipping
 * cost from the moments of the clipped bins, Δ²/12 per value inside.
 */
function estimate(s: SearchBins, lo: number, hi: number, delta: number): number {
  const { c0, c1, c2 } = s;
  const m = c0.length - 1;
  const a = binsBelow(s, lo);
  const b = binsBelow(s, hi);
  const low = (c2[a] as number) - 2 * lo * (c1[a] as number) + lo * lo * (c0[a] as number);
  const c2h = (c2[m] as number) - (c2[b] as number);
  const c1h = (c1[m] as number) - (c1[b] as number);
  const c0h = (c0[m] as number) - (c0[b] as number);
  const high = c2h - 2 * hi * c1h + hi * hi * c0h;
  const inside = (c0[b] as number) - (c0[a] as number);
  return s.gamma * (Math.max(0, low) + Math.max(0, high)) + ((delta * delta) / 12) * inside;
}

/**
 * The index of the first candidate of lowest cost, as a scan in list order keeping the first
 * strict improvement would find it (`candidates[0]` when no cost is below +∞).
 *
 * @param steps - the grid's steps: a candidate covers Δ·offset to Δ·(offset + steps).
 * @param cost - the exact cost, or any value > `limit` once the cost is known to exceed `limit`.
 */
export function cheapest(
  s: SearchBins,
  candidates: readonly Candidate[],
  steps: number,
  cost: (c: Candidate, limit: number) => number,
): number {
  const count = candidates.length;
  // The candidate of lowest estimate first, so that the best cost so far is low from the start;
  // then all of them in list order (a sort by estimate cost more than it saved, once per weight
  // channel). The answer does not depend on the order: a cost abandoned above the best so far
  // cannot be the lowest, and every other cost is exact.
  let first = 0;
  let lowest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const { delta, offset } = candidates[i] as Candidate;
    const g = estimate(s, delta * offset, delta * (offset + steps), delta);
    if (g < lowest) {
      lowest = g;
      first = i;
    }
  }
  let best = first;
  let bestCost = count > 0 ? cost(candidates[first] as Candidate, Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    if (i === first) continue;
    const c = candidates[i] as Candidate;
    // The same grid as the one before it (clamping makes runs of them): the same cost, later.
    const previous = candidates[i - 1];
    if (previous !== undefined && c.delta === previous.delta && c.offset === previous.offset) continue;
    const value = cost(c, bestCost);
    if (value < bestCost || (value === bestCost && i < best)) {
      bestCost = value;
      best = i;
    }
  }
  return best;
}

/**
 * aimet_torch v2's cost (every bin at its midpoint, clipped bins weighted by gamma), summed as
 * `v2Cost` of the reference does; abandoned (+∞) once it is sure to exceed `limit`.
 */
export function v2CostBelow(s: SearchBins, delta: number, offset: number, n: number, limit: number): number {
  const cap = boundLimit(limit);
  const { mids, counts } = s.bins;
  const weights = s.clippedWeights;
  const m = mids.length;
  const hiEnd = delta * (n + offset);
  // The bins clipped at the top (q > n) are a suffix: q grows with x. Their terms, from the top.
  let top = m;
  let high = 0;
  while (top > 0) {
    const x = mids[top - 1] as number;
    if (!(roundHalfEven(x / delta - offset) > n)) break;
    top--;
    const e = hiEnd - x;
    high += (weights[top] as number) * e * e;
    if (high * SAFE > cap) return Number.POSITIVE_INFINITY;
  }
  let cost = 0;
  for (let i = 0; i < top; i++) {
    const x = mids[i] as number;
    let q = roundHalfEven(x / delta - offset);
    let weight: number;
    if (q < 0) {
      q = 0;
      weight = weights[i] as number;
    } else weight = counts[i] as number;
    const e = delta * (q + offset) - x;
    cost += weight * e * e;
    if ((cost + high) * SAFE > cap) return Number.POSITIVE_INFINITY;
  }
  for (let i = top; i < m; i++) {
    const e = hiEnd - (mids[i] as number);
    cost += (weights[i] as number) * e * e;
  }
  return cost;
}

/** The first j with index[j] ≥ bin (binary search). */
function firstAtOrAbove(index: Int32Array, bin: number): number {
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((index[mid] as number) < bin) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * libpymo's cost (saturation measured from the midpoint of the bin that holds each grid end),
 * summed as `v1Cost` of the reference does; abandoned (+∞) once it is sure to exceed `limit`.
 */
export function v1CostBelow(s: SearchBins, bins: number, delta: number, offset: number, steps: number, limit: number): number {
  const cap = boundLimit(limit);
  const h = s.bins;
  const { mids, counts, index } = h;
  const gamma = s.gamma;
  const m = mids.length;
  const min = delta * offset;
  const max = delta * (offset + steps);
  const minInd = Math.min(Math.max(0, Math.floor((min - h.lo) / h.width)), bins - 1);
  const maxInd = Math.min(Math.max(0, Math.floor((max - h.lo) / h.width)), bins - 1);
  const minMid = h.lo + minInd * h.width + h.width / 2;
  const maxMid = h.lo + maxInd * h.width + h.width / 2;
  const lowEnd = firstAtOrAbove(index, minInd);
  const highStart = firstAtOrAbove(index, maxInd);
  // The saturated bins at the top, from the top: a bound before anything else.
  let high = 0;
  for (let j = m - 1; j >= highStart; j--) {
    high += (counts[j] as number) * ((mids[j] as number) - maxMid) ** 2;
    if (gamma * high * SAFE > cap) return Number.POSITIVE_INFINITY;
  }
  let saturation = 0;
  let quantization = 0;
  for (let j = 0; j < lowEnd; j++) {
    saturation += (counts[j] as number) * ((mids[j] as number) - minMid) ** 2;
    if (gamma * (saturation + high) * SAFE > cap) return Number.POSITIVE_INFINITY;
  }
  for (let j = lowEnd; j < highStart; j++) {
    const x = mids[j] as number;
    const q = roundHalfAway(x / delta - offset);
    quantization += (counts[j] as number) * (x - delta * (q + offset)) ** 2;
    if ((gamma * (saturation + high) + quantization) * SAFE > cap) return Number.POSITIVE_INFINITY;
  }
  for (let j = highStart; j < m; j++) saturation += (counts[j] as number) * ((mids[j] as number) - maxMid) ** 2;
  return gamma * saturation + quantization;
}
