/*
 * AIMET's TF-enhanced (SQNR) scheme. Sources checked:
 *  - libpymo C++ (which aimet_onnx uses), ModelOptimizations/DlQuantization/src/
 *    TfEnhancedEncodingAnalyzer.{h,cpp}: GAMMA = 3, MIN_RANGE = 0.01; _findRangeOfAggregateStats;
 *    _pickTestCandidatesAsymmetric (17 deltas f·Δobs, f = 1/16 … 17/16, times 21 offsets
 *    trunc(-N + N/20·i), each clamped to the observed range by _clampToObservedMinMax, which drops
 *    candidates covering both ends or collapsing to a point, plus the observed pair);
 *    _pickTestCandidatesSymmetric (101 deltas f·absMax/(N/2), f = 1/100 … 101/100, offset
 *    floor(-N/2); unsigned symmetric: absMax/N, offset 0); _findBestCandidate (strictly lowest cost
 *    wins, so the first of equal candidates); computeEncoding's all-zero case ([-1, 1] grid).
 *  - aimet_torch v2, quantization/encoding_analyzer.py, SqnrEncodingAnalyzer
 *    (_pick_test_candidates, _clamp_delta_offset_values, _estimate_clip_and_quant_noise, gamma=3):
 *    the cost used here, per histogram bin at its midpoint x with count c:
 *      q = round(x/Δ - offset); clipped = q < 0 or q > N; x̂ = Δ·(clamp(q, 0, N) + offset);
 *      cost += c·(x̂ - x)² · (gamma if clipped else 1).
 *    (The C++ cost measures saturation from the midpoint of the bin holding the grid end rather than
 *    from the grid end; the two agree to within a bin.)
 * Differences from AIMET, by design: the 512 bins span the observed [min, max] of all the data and
 * hold counts (AIMET: 512·3 bins over three times the first batch's range, values outside dropped,
 * per-batch probabilities averaged); the range searched is the exact observed range (AIMET: left
 * edges of the extreme non-empty bins); the 101 symmetric deltas are exact multiples of 1/100.
 */
import {
  type ChannelEncoding,
  type EncodingScheme,
  type GridSpec,
  gridSteps,
  MIN_ENCODING_RANGE,
  roundHalfAway,
  type TensorStats,
  uniformBins,
} from '@quantsim/core';
import { readOptions } from './options.js';
import { degenerateEncoding, histogramRange, requireHistogram } from './special-cases.js';

interface Candidate {
  readonly delta: number;
  readonly offset: number;
}

function asymmetricCandidates(minVal: number, maxVal: number, n: number): Candidate[] {
  const candidates: Candidate[] = [];
  // Map the observed range to grid points.
  const observedDelta = (maxVal - minVal) / n;
  const observedOffset = roundHalfAway(minVal / observedDelta);
  const observedMin = observedDelta * observedOffset;
  const observedMax = observedDelta * (observedOffset + n);
  for (let k = 1; k <= 17; k++) {
    for (let i = 0; i <= 20; i++) {
      const testDelta = (k / 16) * observedDelta;
      // C++ converts the double to int, truncating towards zero.
      const testOffset = Math.trunc(-n + (n / 20) * i);
      let testMin = testDelta * testOffset;
      let testMax = testDelta * (testOffset + n);
      // A candidate that covers the whole observed range adds nothing to the observed pair.
      if (testMin < observedMin && testMax > observedMax) continue;
      testMin = Math.max(observedMin, testMin);
      testMax = Math.min(observedMax, testMax);
      if (testMin === testMax) continue;
      const delta = (testMax - testMin) / n;
      candidates.push({ delta, offset: roundHalfAway(testMin / delta) });
    }
  }
  candidates.push({ delta: observedDelta, offset: observedOffset });
  return candidates;
}

function symmetricCandidates(minVal: number, maxVal: number, n: number, unsigned: boolean): Candidate[] {
  const deltaMax = unsigned ? maxVal / n : Math.max(Math.abs(maxVal), Math.abs(minVal)) / (n / 2);
  const offset = unsigned ? 0 : Math.floor(-n / 2);
  const candidates: Candidate[] = [];
  for (let j = 1; j <= 101; j++) candidates.push({ delta: (j / 100) * deltaMax, offset });
  return candidates;
}

/** Weighted squared error of the histogram on one grid, clipping errors counted `gamma` times. */
function sqnrCost(mids: Float64Array, counts: Float64Array, delta: number, offset: number, n: number, gamma: number): number {
  let cost = 0;
  for (let i = 0; i < mids.length; i++) {
    const x = mids[i] as number;
    let q = roundHalfAway(x / delta - offset);
    let weight = counts[i] as number;
    if (q < 0) {
      q = 0;
      weight *= gamma;
    } else if (q > n) {
      q = n;
      weight *= gamma;
    }
    const e = delta * (q + offset) - x;
    cost += weight * e * e;
  }
  return cost;
}

/**
 * AIMET's TF-enhanced scheme: a grid search for the (Δ, offset) with the best
 * signal-to-quantization-noise ratio over a 512-bin histogram, where clipping errors cost
 * `gamma` (3) times rounding errors. Asymmetric grids try 17 scales times 21 offsets clamped to
 * the observed range, plus the observed range itself; symmetric grids try 101 scales. One pass
 * over the data (the mergeable power-of-two histogram). All-zero data give [-1.00392, 0.996078]
 * with offset -128 at 8 bits, as in AIMET.
 *
 * Options: `gamma` (default 3, > 0), `bins` (default 512).
 */
export const tfEnhancedScheme: EncodingScheme = Object.freeze({
  name: 'tf-enhanced',
  statistics: 'histogram',
  description: "AIMET's SQNR search over a histogram; clips rare outliers, weighs clipping 3x.",
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding {
    const { gamma, bins } = readOptions('tf-enhanced', spec.schemeOptions, {
      gamma: { fallback: 3, min: 0, minExclusive: true, max: Number.POSITIVE_INFINITY, example: 3 },
      bins: { fallback: 512, min: 16, max: 65536, integer: true, example: 512 },
    });
    const n = gridSteps(spec);
    // AIMET's all-zero grid uses 2^b - 1 steps even for strict symmetric quantizers.
    const degenerate = degenerateEncoding(stats, spec, 2 ** spec.bitwidth - 1);
    if (degenerate !== undefined) return degenerate;
    const histogram = requireHistogram(stats, 'tf-enhanced');

    const { lo, hi } = histogramRange(stats);
    const binCounts = uniformBins(histogram, lo, hi, bins);
    const width = (hi - lo) / bins;
    let used = 0;
    for (const c of binCounts) if (c > 0) used++;
    const mids = new Float64Array(used);
    const counts = new Float64Array(used);
    for (let i = 0, j = 0; i < bins; i++) {
      const c = binCounts[i] as number;
      if (c > 0) {
        mids[j] = lo + (i + 0.5) * width;
        counts[j++] = c;
      }
    }

    const minVal = Math.min(stats.min, 0);
    const maxVal = Math.max(Math.max(stats.max, 0), minVal + MIN_ENCODING_RANGE);
    const unsigned = spec.symmetric && spec.unsignedSymmetric && minVal === 0;
    const candidates = spec.symmetric
      ? symmetricCandidates(minVal, maxVal, n, unsigned)
      : asymmetricCandidates(minVal, maxVal, n);

    let best = candidates[0] as Candidate;
    let bestCost = Number.POSITIVE_INFINITY;
    for (const candidate of candidates) {
      const cost = sqnrCost(mids, counts, candidate.delta, candidate.offset, n, gamma);
      if (cost < bestCost) {
        bestCost = cost;
        best = candidate;
      }
    }
    const offset = Math.min(0, Math.max(-n, best.offset)) + 0;
    return { min: best.delta * offset + 0, max: best.delta * (offset + n), scale: best.delta, offset };
  },
});
