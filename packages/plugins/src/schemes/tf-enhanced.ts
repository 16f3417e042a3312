/*
 * AIMET's TF-enhanced (SQNR) scheme, in its two published forms.
 *
 * v2 (default): aimet_torch v2, quantization/encoding_analyzer.py, SqnrEncodingAnalyzer with its
 * defaults (num_bins 2048, 17 asymmetric deltas, 21 offsets, 101 symmetric deltas, gamma 3):
 *  - range: min(min, 0), max(max, 0), max ≥ min + ε·N (ε = float32 epsilon, _MINIMUM_SCALE);
 *  - asymmetric candidates (_pick_test_candidates_asymmetric): Δmax = (max - min)/N, observed
 *    offset round(min/Δmax), deltas Δmax·k/16 (k = 1…17), offsets round(-N + i·N/19) for i = 0…19,
 *    plus the observed offset; each pair clamped to the observed grid (_clamp_delta_offset_values:
 *    its ends moved inside [observed min, observed max], Δ = (max' - min')/N ≥ ε, offset
 *    round(min'/Δ)); torch.round rounds halves to even;
 *  - symmetric candidates: Δmax = 2·max(max, -min)/N, deltas max(Δmax·k/100, ε) (k = 1…101),
 *    offset floor(-N/2);
 *  - cost (_estimate_clip_and_quant_noise): every bin of the 2048-bin histogram over the observed
 *    range is taken at its midpoint x with count c: q = round(x/Δ - offset), clipped when q < 0 or
 *    q > N, x̂ = Δ·(clamp(q, 0, N) + offset), cost += c·(x̂ - x)²·(gamma if clipped else 1);
 *  - the first candidate of lowest cost wins (delta-major order).
 *
 * v1 (`variant: 'v1'`): AIMET 1.x's libpymo, ModelOptimizations/DlQuantization/src/
 * TfEnhancedEncodingAnalyzer.cpp, as aimet_onnx and aimet_torch 1.x run it: PDF_SIZE = 512 bins;
 *  - asymmetric candidates (_pickTestCandidatesAsymmetric): deltas f·Δobs (f = 1/16 … 17/16) times
 *    21 offsets trunc(-N + N/20·i), each clamped by _clampToObservedMinMax, which drops candidates
 *    that cover both ends or collapse to a point; plus the observed pair;
 *  - symmetric candidates: f·absMax/(N/2), f = 1/100 … 101/100, offset floor(-N/2); unsigned
 *    symmetric: f·max/N, offset 0;
 *  - cost (_quantAndSatCost): bins below the bin holding the grid's min, and from the bin holding
 *    its max up, saturate to the midpoint of that bin and cost gamma·c·(x - x_end)²; bins between
 *    cost c·(x - x̂)² at their midpoints (C's round, halves away from zero); the grid has
 *    2^b - 1 steps even when strict.
 *
 * Differences from AIMET, by design, in both: the histogram is resampled from quantsim's
 * mergeable power-of-two histogram (2048 to 4096 bins over the observed range) to 2048 or 512
 * equal bins over the exact observed [min, max] of all the data (AIMET 2.x: the same range,
 * histograms merged by re-binning; 1.x: 512 bins over three times the first batch's range, values
 * outside dropped, per-batch probabilities averaged); unsigned symmetric grids in v2 search the
 * 1.x unsigned candidates (AIMET 2.x has no unsigned case in this analyzer).
 *
 * The search (tf-enhanced-search.ts) finds the same candidate as costing every one in order would,
 * with the same floats (test/reference/tf-enhanced.ts is that plain search), but finishes the cost
 * only of candidates that can still win.
 */
import {
  type ChannelEncoding,
  describeValue,
  type EncodingScheme,
  type GridSpec,
  gridSteps,
  InvalidArgumentError,
  MIN_ENCODING_RANGE,
  roundHalfAway,
  roundHalfEven,
  type TensorStats,
} from '@quantsim/core';
import { compactBins } from './compact-bins.js';
import { readOptions } from './options.js';
import { degenerateEncoding, requireHistogram } from './special-cases.js';
import { type Candidate, cheapest, searchBins, v1CostBelow, v2CostBelow } from './tf-enhanced-search.js';

/** float32 epsilon: aimet_torch v2's `_MINIMUM_SCALE`. */
const MINIMUM_SCALE = 2 ** -23;

function v2AsymmetricCandidates(minVal: number, maxVal: number, n: number): Candidate[] {
  const maxDelta = (maxVal - minVal) / n;
  const observedOffset = roundHalfEven(minVal / maxDelta);
  const observedMin = maxDelta * observedOffset;
  const observedMax = observedMin + maxDelta * n;
  const numOffsets = Math.min(n + 2, 21);
  const step = n / (numOffsets - 2);
  // torch.arange(-n, step, step): ceil((step + n) / step) values.
  const offsets: number[] = [];
  const count = Math.ceil((step + n) / step);
  for (let i = 0; i < count; i++) offsets.push(roundHalfEven(-n + i * step));
  offsets.push(observedOffset);
  const candidates: Candidate[] = [];
  for (let k = 1; k <= 17; k++) {
    const testDelta = (maxDelta * k) / 16;
    for (const testOffset of offsets) {
      const rawMin = testDelta * testOffset;
      const testMin = Math.max(observedMin, rawMin);
      const testMax = Math.min(observedMax, rawMin + testDelta * n);
      const delta = Math.max((testMax - testMin) / n, MINIMUM_SCALE);
      candidates.push({ delta, offset: roundHalfEven(testMin / delta) });
    }
  }
  return candidates;
}

function v2SymmetricCandidates(minVal: number, maxVal: number, n: number): Candidate[] {
  const maxDelta = (2 * Math.max(maxVal, -minVal)) / n;
  const offset = Math.floor(-n / 2);
  const candidates: Candidate[] = [];
  for (let k = 1; k <= 101; k++) candidates.push({ delta: Math.max((maxDelta * k) / 100, MINIMUM_SCALE), offset });
  return candidates;
}

function v1AsymmetricCandidates(minVal: number, maxVal: number, n: number): Candidate[] {
  const candidates: Candidate[] = [];
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

function unsignedCandidates(maxVal: number, n: number): Candidate[] {
  const candidates: Candidate[] = [];
  for (let j = 1; j <= 101; j++) candidates.push({ delta: ((j / 100) * maxVal) / n, offset: 0 });
  return candidates;
}

function v1SymmetricCandidates(minVal: number, maxVal: number, n: number): Candidate[] {
  const deltaMax = Math.max(Math.abs(maxVal), Math.abs(minVal)) / (n / 2);
  const offset = Math.floor(-n / 2);
  const candidates: Candidate[] = [];
  for (let j = 1; j <= 101; j++) candidates.push({ delta: (j / 100) * deltaMax, offset });
  return candidates;
}

/** Reads `variant` ('v2' or 'v1'); the other options are numbers. */
function readVariant(options: Readonly<Record<string, unknown>> | undefined): {
  variant: 'v1' | 'v2';
  rest: Readonly<Record<string, unknown>> | undefined;
} {
  if (options === undefined || typeof options !== 'object' || options === null || !('variant' in options))
    return { variant: 'v2', rest: options };
  const { variant, ...rest } = options as Record<string, unknown>;
  if (variant !== 'v1' && variant !== 'v2')
    throw new InvalidArgumentError(
      `Scheme 'tf-enhanced': option 'variant' must be 'v2' (AIMET 2.x, the default) or 'v1' (AIMET 1.x libpymo), received ${describeValue(variant)}.`,
      { hint: "For example .scheme('tf-enhanced', { variant: 'v1' })." },
    );
  return { variant, rest };
}

/**
 * AIMET's TF-enhanced scheme: a grid search for the (Δ, offset) with the best
 * signal-to-quantization-noise ratio over a histogram, clipping errors weighted `gamma` (3) times.
 *
 * - `variant: 'v2'` (default), AIMET 2.x's SqnrEncodingAnalyzer: 2048 bins; asymmetric grids try
 *   17 scales times 21 offsets (20 spread from -N to 0 and the observed one), clamped into the
 *   observed range; symmetric grids try 101 scales; every bin's midpoint is quantized on the grid.
 * - `variant: 'v1'`, AIMET 1.x's libpymo: 512 bins; its candidate set (17 × 21 offsets truncated,
 *   candidates covering both ends dropped, plus the observed grid) and its cost (saturation measured
 *   from the midpoint of the bin holding each grid end).
 *
 * One pass over the data (the mergeable power-of-two histogram). All-zero data give
 * [-1.00392, 0.996078] with offset -128 at 8 bits, as in AIMET. See docs/encoding-schemes.md.
 *
 * Options: `variant` ('v2' or 'v1'), `gamma` (default 3, > 0), `bins` (default 2048 for v2, 512
 * for v1).
 */
export const tfEnhancedScheme: EncodingScheme = Object.freeze({
  name: 'tf-enhanced',
  statistics: 'histogram',
  transientStats: true,
  description: "AIMET's SQNR search over a histogram; clips rare outliers, weighs clipping 3x.",
  compute(stats: TensorStats, spec: GridSpec): ChannelEncoding {
    const { variant, rest } = readVariant(spec.schemeOptions);
    const { gamma, bins } = readOptions('tf-enhanced', rest, {
      gamma: { fallback: 3, min: 0, minExclusive: true, max: Number.POSITIVE_INFINITY, example: 3 },
      bins: { fallback: variant === 'v1' ? 512 : 2048, min: 16, max: 65536, integer: true, example: 2048 },
    });
    const n = gridSteps(spec);
    // AIMET's all-zero grid uses 2^b - 1 steps even for strict symmetric quantizers.
    const degenerate = degenerateEncoding(stats, spec, 2 ** spec.bitwidth - 1);
    if (degenerate !== undefined) return degenerate;
    const histogram = requireHistogram(stats, 'tf-enhanced');
    const h = compactBins({ ...stats, histogram }, bins);

    const minVal = Math.min(stats.min, 0);
    const unsigned = spec.symmetric && spec.unsignedSymmetric && minVal === 0;
    const s = searchBins(h, bins, gamma);
    let best: Candidate;
    if (variant === 'v2') {
      const maxVal = Math.max(Math.max(stats.max, 0), minVal + MINIMUM_SCALE * n);
      const candidates = unsigned
        ? unsignedCandidates(maxVal, n)
        : spec.symmetric
          ? v2SymmetricCandidates(minVal, maxVal, n)
          : v2AsymmetricCandidates(minVal, maxVal, n);
      const i = cheapest(s, candidates, n, (c, limit) => v2CostBelow(s, c.delta, c.offset, n, limit));
      best = candidates[i] as Candidate;
    } else {
      const maxVal = Math.max(Math.max(stats.max, 0), minVal + MIN_ENCODING_RANGE);
      const candidates = unsigned
        ? unsignedCandidates(maxVal, n)
        : spec.symmetric
          ? v1SymmetricCandidates(minVal, maxVal, n)
          : v1AsymmetricCandidates(minVal, maxVal, n);
      const steps = 2 ** spec.bitwidth - 1;
      const i = cheapest(s, candidates, steps, (c, limit) => v1CostBelow(s, bins, c.delta, c.offset, steps, limit));
      best = candidates[i] as Candidate;
    }
    const offset = Math.min(0, Math.max(-n, best.offset)) + 0;
    return { min: best.delta * offset + 0, max: best.delta * (offset + n), scale: best.delta, offset };
  },
});
