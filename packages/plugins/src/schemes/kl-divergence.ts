/*
 * The pieces of KL-divergence (entropy) calibration shared by its one-sided (TensorRT) and
 * two-sided (AIMET) searches. They follow AIMET's EntropyEncodingAnalyzer.cpp (libpymo):
 * _conditionHistogram, _computeKL and the construction of Q in _optimizeKL, which in turn follow
 * TensorRT's "8-bit inference with TensorRT" (Migacz, GTC 2017) and MXNet's _smooth_distribution.
 */

/** Smoothing mass given to empty bins, taken evenly from the others (AIMET, MXNet: 0.0001). */
const EPSILON = 0.0001;

/** How smoothing changes a distribution: empty bins become `fill`, the others lose `taken`. */
interface Smoothing {
  readonly fill: number;
  readonly taken: number;
  readonly sum: number;
}

/**
 * The smoothing of a distribution (its first `length` entries) that leaves no bin empty: empty bins
 * get {@link EPSILON}, the others lose the same total, so the sum is unchanged. Skipped, as in
 * AIMET, when that would take 1 or more from a bin; counts here can be fractional (proportional
 * rebinning), so it is also skipped when it would empty the smallest non-empty bin.
 */
function smoothing(dist: Float64Array, length: number): Smoothing {
  let zeros = 0;
  let smallest = Number.POSITIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const v = dist[i] as number;
    sum += v;
    if (v === 0) zeros++;
    else if (v < smallest) smallest = v;
  }
  if (zeros === 0 || zeros === length) return { fill: 0, taken: 0, sum };
  const taken = (EPSILON * zeros) / (length - zeros);
  if (taken >= 1 || taken >= smallest) return { fill: 0, taken: 0, sum };
  return { fill: EPSILON, taken, sum };
}

/**
 * KL(P ‖ Q) of the first `length` entries after smoothing both and normalising each to sum 1;
 * bins where either is still 0 add nothing. Neither array is modified.
 */
export function smoothedKlDivergence(p: Float64Array, q: Float64Array, length: number): number {
  const sp = smoothing(p, length);
  const sq = smoothing(q, length);
  let divergence = 0;
  // Bins empty in both get the same smoothed pair, so their terms are summed once (sparse
  // histograms, such as those stretched by an outlier, are mostly such bins).
  let bothEmpty = 0;
  for (let i = 0; i < length; i++) {
    const rawP = p[i] as number;
    const rawQ = q[i] as number;
    if (rawP === 0 && rawQ === 0) {
      bothEmpty++;
      continue;
    }
    const pi = (rawP === 0 ? sp.fill : rawP - sp.taken) / sp.sum;
    const qi = (rawQ === 0 ? sq.fill : rawQ - sq.taken) / sq.sum;
    if (pi > 0 && qi > 0) divergence += pi * Math.log(pi / qi);
  }
  const pe = sp.fill / sp.sum;
  const qe = sq.fill / sq.sum;
  if (bothEmpty > 0 && pe > 0 && qe > 0) divergence += bothEmpty * pe * Math.log(pe / qe);
  return divergence;
}

/**
 * Q: the `size` bins of `hist` starting at `start`, merged into `levels` quantization levels (level
 * l takes bins ceil(l·size/levels) to ceil((l+1)·size/levels) - 1), then expanded back, each
 * level's count spread evenly over its non-empty bins. Writes `q[0…size)`; returns its sum.
 *
 * `zeroBin` (relative to `start`), when given, is the bin that starts at 0: it keeps its own count
 * instead of being merged, because 0 is exactly representable on every grid. Without this, the
 * spike of exact zeros that ReLU and HardSwish outputs have is smeared over its level's bins at
 * every window wider than `levels` bins, and the search always picks the narrowest window.
 */
export function quantizedDistribution(
  hist: Float64Array,
  start: number,
  size: number,
  levels: number,
  q: Float64Array,
  zeroBin?: number,
): number {
  q.fill(0, 0, size);
  let total = 0;
  for (let level = 0; level < levels; level++) {
    const from = Math.ceil((level * size) / levels);
    const to = level < levels - 1 ? Math.ceil(((level + 1) * size) / levels) : size;
    let sum = 0;
    let nonEmpty = 0;
    for (let j = from; j < to; j++) {
      if (j === zeroBin) continue;
      const v = hist[start + j] as number;
      sum += v;
      if (v !== 0) nonEmpty++;
    }
    total += sum;
    if (nonEmpty === 0) continue;
    const share = sum / nonEmpty;
    for (let j = from; j < to; j++) if (j !== zeroBin && (hist[start + j] as number) !== 0) q[j] = share;
  }
  if (zeroBin !== undefined && zeroBin >= 0 && zeroBin < size) {
    q[zeroBin] = hist[start + zeroBin] as number;
    total += q[zeroBin] as number;
  }
  return total;
}
