import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom as prng } from '../../../test-support/random.js';
import {
  createStatsAccumulator,
  foldHistogram,
  HISTOGRAM_MAX_BINS,
  type HistogramData,
  histogramQuantile,
  InvalidArgumentError,
  mergeHistograms,
  mergeTensorStats,
  statsFromValues,
  type TensorStats,
  uniformBins,
} from '../src/index.js';

/** Heavy-tailed data over many magnitudes, with the odd exact zero and negative zero. */
function sample(n: number, seed: number): Float32Array {
  const random = prng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = random();
    out[i] = r < 0.01 ? 0 : r < 0.02 ? -0 : (random() - 0.4) * 10 ** (random() * 6 - 3);
  }
  return out;
}

function shards(values: Float32Array, parts: number, seed: number): Float32Array[] {
  const random = prng(seed);
  const cuts = Array.from({ length: parts - 1 }, () => Math.floor(random() * values.length)).sort((a, b) => a - b);
  const bounds = [0, ...cuts, values.length];
  return bounds.slice(1).map((end, i) => values.slice(bounds[i], end));
}

function gather(parts: readonly Float32Array[], histogram = true): TensorStats {
  const accumulator = createStatsAccumulator({ histogram });
  for (const part of parts) accumulator.add(part);
  return accumulator.toStats();
}

function total(hist: HistogramData | undefined): number {
  let sum = 0;
  for (const c of hist?.counts ?? []) sum += c;
  return sum;
}

describe('power-of-two histogram', () => {
  it('picks the finest power-of-two width at which the range fits in 4096 bins', () => {
    // Range [0, 1]: at 2^-11, floor(1 * 2048) + 1 = 2049 bins fit; at 2^-12, 4097 would not.
    const stats = statsFromValues(new Float32Array([0, 0.5, 1]), { histogram: true });
    const hist = stats.histogram as HistogramData;
    expect(hist.log2Width).toBe(-11);
    expect(hist.first).toBe(0);
    expect(hist.counts).toHaveLength(2049);
    expect([hist.counts[0], hist.counts[1024], hist.counts[2048], total(hist)]).toEqual([1, 1, 1, 3]);
    // Range [-1, 1] needs 2/w + 1 bins: 2^-10 gives 2049, so bin -0.3 is floor(-307.2) = -308.
    const signed = statsFromValues(new Float32Array([-1, -0.3, 1]), { histogram: true }).histogram as HistogramData;
    expect([signed.log2Width, signed.first, signed.counts.length]).toEqual([-10, -1024, 2049]);
    expect(signed.counts[-308 - signed.first]).toBe(1);
  });

  it('gives sharded and unsharded data the same statistics, bit for bit', () => {
    const values = sample(60_000, 1);
    const whole = gather([values]);
    expect(whole.histogram?.counts.length).toBeLessThanOrEqual(HISTOGRAM_MAX_BINS);
    expect(total(whole.histogram)).toBe(whole.count);
    for (let split = 0; split < 8; split++) {
      const parts = shards(values, 2 + split, 100 + split);
      // One accumulator per shard, merged in a random order, as workers would.
      const stats = parts.map((p) => gather([p]));
      const order = prng(200 + split);
      stats.sort(() => order() - 0.5);
      const merged = stats.reduce((a, b) => mergeTensorStats(a, b));
      expect(merged).toEqual(whole);
      // One accumulator fed the shards in turn.
      expect(gather(parts)).toEqual(whole);
    }
    // Sorted data split into shards: each shard spans a narrow range, so merging must coarsen.
    const sorted = values.slice().sort();
    for (let split = 0; split < 4; split++) {
      const stats = shards(sorted, 3 + split, 300 + split).map((p) => gather([p]));
      expect(stats.reduceRight((a, b) => mergeTensorStats(a, b))).toEqual(whole);
      expect(stats.reduce((a, b) => mergeTensorStats(a, b))).toEqual(whole);
    }
  });

  it('gives the same statistics for tensors added one by one as for one add, past NaN, infinities and range growth', () => {
    // The first add sets the bins; the second mostly falls inside them but holds values past
    // both ends, NaN and infinities part-way. Per tensor and per channel (long channels).
    const first = sample(40_000, 11);
    const second = sample(60_000, 12);
    second[30_000] = Number.NaN;
    second[30_001] = Number.POSITIVE_INFINITY;
    second[45_000] = 1e6;
    second[50_000] = -2e6;
    const third = sample(50_000, 13);
    const all = new Float32Array([...first, ...second, ...third]);
    expect(gather([first, second, third])).toEqual(gather([all]));
    expect(gather([first, third])).toEqual(gather([new Float32Array([...first, ...third])]));
    const perChannel = (parts: Float32Array[]) => {
      const accumulator = createStatsAccumulator({ histogram: true, channelAxis: 0 });
      for (const p of parts) accumulator.add(p, [2, p.length / 2]);
      return accumulator.toStats();
    };
    expect(perChannel([first, second])).toEqual(
      statsFromValues(
        new Float32Array([
          ...first.subarray(0, 20_000),
          ...second.subarray(0, 30_000),
          ...first.subarray(20_000),
          ...second.subarray(30_000),
        ]),
        { histogram: true, axis: 0, dims: [2, 50_000] },
      ),
    );
  });

  it('merges associatively and commutatively, and ignores the order of the values', () => {
    const [a, b, c] = [1, 2, 3].map((seed) => gather([sample(5000 * seed, seed)]));
    if (!a || !b || !c) throw new Error('unreachable');
    expect(mergeTensorStats(mergeTensorStats(a, b), c)).toEqual(mergeTensorStats(a, mergeTensorStats(b, c)));
    expect(mergeTensorStats(a, b)).toEqual(mergeTensorStats(b, a));
    const values = sample(4000, 9);
    const reversed = values.slice().reverse();
    expect(gather([reversed])).toEqual(gather([values]));
  });

  it('coarsens by merging adjacent bins as the range grows', () => {
    const small = new Float32Array(1000).map((_, i) => i / 1000);
    const accumulator = createStatsAccumulator({ histogram: true });
    accumulator.add(small);
    const before = accumulator.toStats().histogram as HistogramData;
    const wide = new Float32Array([-3, 1e6]);
    accumulator.add(wide);
    const after = accumulator.toStats();
    const hist = after.histogram as HistogramData;
    expect(hist.log2Width).toBeGreaterThan(before.log2Width);
    // Canonical: the range fits at this width and would not at half of it.
    const span = (e: number) => Math.floor(1e6 / 2 ** e) - Math.floor(-3 / 2 ** e) + 1;
    expect(span(hist.log2Width)).toBeLessThanOrEqual(HISTOGRAM_MAX_BINS);
    expect(span(hist.log2Width - 1)).toBeGreaterThan(HISTOGRAM_MAX_BINS);
    expect(hist.counts).toHaveLength(span(hist.log2Width));
    expect(total(hist)).toBe(1002);
    const all = new Float32Array([...small, ...wide]);
    expect(after).toEqual(statsFromValues(all, { histogram: true }));
    // The 1000 values of [0, 1) all fall in bin 0 of width 2^8.
    expect(hist.counts[-hist.first]).toBe(1000);
  });

  it('counts NaN and infinities as non-finite and leaves them out of everything else', () => {
    const values = new Float32Array([1, Number.NaN, -2, Infinity, -Infinity, 0.5, Number.NaN]);
    const stats = statsFromValues(values, { histogram: true });
    expect(stats.count).toBe(3);
    expect(stats.nonFinite).toBe(4);
    expect([stats.min, stats.max]).toEqual([-2, 1]);
    expect(total(stats.histogram)).toBe(3);
    const accumulator = createStatsAccumulator({ histogram: false });
    accumulator.add(values);
    accumulator.add(values.subarray(0, 2));
    expect([accumulator.count, accumulator.nonFinite]).toEqual([4, 5]);
    const none = statsFromValues(new Float32Array([Number.NaN, Infinity]), { histogram: true });
    expect(none).toEqual({
      count: 0,
      nonFinite: 2,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
      histogram: { log2Width: -149, first: 0, counts: new Float64Array(0) },
    });
    expect(mergeTensorStats(none, stats)).toEqual({ ...stats, nonFinite: 6 });
  });

  it('treats -0 and +0 alike whatever comes first', () => {
    const a = gather([new Float32Array([-0]), new Float32Array([0])]);
    const b = gather([new Float32Array([0]), new Float32Array([-0])]);
    expect(a).toEqual(b);
    expect(Object.is(a.min, 0) && Object.is(a.max, 0)).toBe(true);
  });

  it('keeps minmax-only statistics without a histogram', () => {
    const stats = gather([new Float32Array([3, -1, 2])], false);
    expect(stats).toEqual({ count: 3, min: -1, max: 3, nonFinite: 0 });
    expect(() => mergeTensorStats(stats, gather([new Float32Array([1])]))).toThrow(/histogram/);
  });
});

describe('per-channel statistics', () => {
  // Shape [2, 3, 4], channel axis 1: channel c holds v[o][c][j] for o < 2, j < 4.
  const dims = [2, 3, 4];
  const values = new Float32Array(24).map((_, i) => ((i * 7) % 24) - 11.5);
  const channel = (c: number) => [0, 1].flatMap((o) => [0, 1, 2, 3].map((j) => values[o * 12 + c * 4 + j] as number));

  it('gathers each channel along the axis, negative axes counting from the end', () => {
    const stats = statsFromValues(values, { histogram: true, axis: 1, dims });
    expect(stats.axis).toBe(1);
    expect(stats.channels).toHaveLength(3);
    for (let c = 0; c < 3; c++) {
      const expected = statsFromValues(new Float32Array(channel(c)), { histogram: true });
      expect(stats.channels?.[c]).toEqual(expected);
    }
    expect([stats.count, stats.min, stats.max]).toEqual([24, -11.5, 11.5]);
    expect(statsFromValues(values, { histogram: true, axis: -2, dims })).toEqual(stats);
  });

  it('merges batch shards of different sizes exactly', () => {
    const accumulator = createStatsAccumulator({ histogram: true, channelAxis: 1 });
    accumulator.add(values.slice(0, 12), [1, 3, 4]);
    accumulator.add(values.slice(12), [1, 3, 4]);
    expect(accumulator.toStats()).toEqual(statsFromValues(values, { histogram: true, axis: 1, dims }));
    const first = statsFromValues(values.slice(0, 12), { histogram: true, axis: 1, dims: [1, 3, 4] });
    const second = statsFromValues(values.slice(12), { histogram: true, axis: 1, dims: [1, 3, 4] });
    expect(mergeTensorStats(first, second)).toEqual(statsFromValues(values, { histogram: true, axis: 1, dims }));
  });

  it('rejects inconsistent shapes, naming them', () => {
    expect(() => statsFromValues(values, { histogram: true, axis: 3, dims })).toThrow(/out of range for a tensor of rank 3/);
    expect(() => statsFromValues(values, { histogram: true, axis: 1 })).toThrow(/need dims/);
    const accumulator = createStatsAccumulator({ histogram: false, channelAxis: 1, dims });
    expect(() => accumulator.add(values.slice(0, 10))).toThrow(/10 values do not match dims \[2, 3, 4\]/);
    expect(() => accumulator.add(values, [2, 4, 3])).toThrow(/4 channels along axis 1, earlier 3/);
    // @ts-expect-error: checking the runtime guard
    expect(() => accumulator.add([1, 2, 3])).toThrow(InvalidArgumentError);
    const perTensor = statsFromValues(values, { histogram: true });
    const perChannel = statsFromValues(values, { histogram: true, axis: 1, dims });
    expect(() => mergeTensorStats(perTensor, perChannel)).toThrow(/per-channel statistics differ/);
  });
});

describe('histogram resampling and queries', () => {
  it('resamples to uniform bins, splitting bins in proportion to overlap', () => {
    const one: HistogramData = { log2Width: 0, first: 0, counts: [4] };
    expect(Array.from(uniformBins(one, 0, 1, 4))).toEqual([1, 1, 1, 1]);
    // Narrowed to [0.5, 1) first: the whole count is in the first half-bin.
    expect(Array.from(uniformBins(one, 0.5, 1.5, 2))).toEqual([4, 0]);
    expect(Array.from(uniformBins(one, 0, 2, 8))).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    // Bins outside [lo, hi] go to the end bins.
    const outside: HistogramData = { log2Width: 0, first: -3, counts: [2, 0, 0, 0, 0, 0, 0, 0, 5] };
    expect(Array.from(uniformBins(outside, 0, 1, 4))).toEqual([2, 0, 0, 5]);
  });

  it('preserves the total and puts data bins where the values are', () => {
    const values = new Float32Array([0.1, 0.3, 0.6, 0.9, -0.2]);
    const stats = statsFromValues(values, { histogram: true });
    expect(Array.from(uniformBins(stats.histogram as HistogramData, -0.25, 1, 5))).toEqual([1, 1, 1, 1, 1]);
    const big = statsFromValues(sample(20000, 4), { histogram: true });
    const bins = uniformBins(big.histogram as HistogramData, big.min, big.max, 512);
    expect(bins.reduce((a, b) => a + b, 0)).toBeCloseTo(big.count, 6);
    expect(bins.every((c) => c >= 0)).toBe(true);
  });

  it('finds quantiles by interpolating inside bins, clamped to the observed range', () => {
    const ramp = new Float32Array(10000).map((_, i) => i / 100 - 50);
    const stats = statsFromValues(ramp, { histogram: true });
    const hist = stats.histogram as HistogramData;
    expect(histogramQuantile(hist, 0, stats.min, stats.max)).toBe(-50);
    expect(histogramQuantile(hist, 1, stats.min, stats.max)).toBeCloseTo(49.99, 5);
    expect(histogramQuantile(hist, 0.99, stats.min, stats.max)).toBeCloseTo(49, 1);
    expect(histogramQuantile(hist, 0.25, stats.min, stats.max)).toBeCloseTo(-25, 1);
    expect(() => histogramQuantile(hist, 1.5, stats.min, stats.max)).toThrow(/fraction must be in \[0, 1\]/);
  });

  it('folds a histogram onto absolute values without resampling', () => {
    // -0.7 rather than -0.75: a negative value exactly on a bin edge would fold one bin low.
    const stats = statsFromValues(new Float32Array([-0.7, -0.3, 0.2, 0.3, 1]), { histogram: true });
    const hist = stats.histogram as HistogramData;
    const folded = foldHistogram(hist);
    const at = (h: HistogramData, x: number) => h.counts[Math.floor(x / 2 ** h.log2Width) - h.first];
    expect(folded.log2Width).toBe(hist.log2Width);
    expect(folded.first).toBeGreaterThanOrEqual(0);
    expect(total(folded)).toBe(5);
    expect([at(folded, 0.2), at(folded, 0.3), at(folded, 0.7), at(folded, 1)]).toEqual([1, 2, 1, 1]);
    expect(total(mergeHistograms(folded, folded))).toBe(10);
  });
});

describe('accumulator throughput', () => {
  it('reports elements per millisecond (informational, no timing assertion)', () => {
    const values = sample(2_000_000, 5);
    for (const histogram of [false, true]) {
      const accumulator = createStatsAccumulator({ histogram });
      accumulator.add(values);
      const start = performance.now();
      const rounds = 5;
      for (let r = 0; r < rounds; r++) accumulator.add(values);
      const ms = performance.now() - start;
      console.log(`stats accumulator (histogram: ${histogram}): ${Math.round((rounds * values.length) / ms)} elements/ms`);
      expect(accumulator.toStats().count).toBe((rounds + 1) * values.length);
    }
  });
});

describe('the histogram accumulator, batch after batch', () => {
  it('holds exactly the histogram of every finite value at its final width, whatever the batches (fast-check)', () => {
    const value = fc.oneof(
      { weight: 8, arbitrary: fc.float({ min: -4, max: 4, noNaN: true }) },
      { weight: 1, arbitrary: fc.float({ min: -3e4, max: 3e4, noNaN: true }) },
      { weight: 1, arbitrary: fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY) },
    );
    let runs = 0;
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 300 }), { minLength: 1, maxLength: 8 }), (batches) => {
        runs++;
        const acc = createStatsAccumulator({ histogram: true });
        for (const b of batches) acc.add(Float32Array.from(b));
        const stats = acc.toStats();
        const all = batches.flat().map((v) => Math.fround(v));
        const finite = all.filter((v) => Number.isFinite(v));
        expect(stats.count).toBe(finite.length);
        expect(stats.nonFinite).toBe(all.length - finite.length);
        if (finite.length === 0) return;
        expect(stats.min).toBe(Math.min(...finite) + 0);
        expect(stats.max).toBe(Math.max(...finite) + 0);
        const h = stats.histogram as NonNullable<typeof stats.histogram>;
        const want = new Float64Array(h.counts.length);
        for (const v of finite) {
          const k = Math.floor(v * 2 ** -h.log2Width) - h.first;
          want[k] = (want[k] as number) + 1;
        }
        expect(Array.from(h.counts)).toEqual(Array.from(want));
      }),
      { numRuns: 300, seed: 20261202 },
    );
    console.log(`histogram accumulator: ${runs} random batch sequences checked`);
  });

  it('the same with batches large enough for the four-value loop (≥ 8 values per bin), ReLU-like zeros, one value out of range or non-finite', () => {
    const value = fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 4, arbitrary: fc.integer({ min: -300, max: 300 }).map((k) => k / 64) },
      { weight: 1, arbitrary: fc.float({ min: -8, max: 8, noNaN: true }) },
      { weight: 1, arbitrary: fc.constant(-0) },
    );
    // At most one value that ends the four-value loop early (NaN, infinity, or outside the range
    // the first batch set), anywhere in any batch, so that the loop runs long stretches and stops
    // at every offset within its group of four.
    const poison = fc.option(
      fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 1000, -1000, 8.5)),
    );
    let runs = 0;
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: 33_000, maxLength: 36_000 }), { minLength: 2, maxLength: 3 }),
        poison,
        (batches, bad) => {
          runs++;
          if (bad) {
            const batch = batches[bad[0] % batches.length] as number[];
            batch[bad[1] % batch.length] = bad[2];
          }
          const acc = createStatsAccumulator({ histogram: true });
          for (const b of batches) acc.add(Float32Array.from(b));
          const stats = acc.toStats();
          const finite = batches.flat().filter((v) => Number.isFinite(v));
          expect(stats.count).toBe(finite.length);
          expect(stats.nonFinite).toBe(batches.flat().length - finite.length);
          expect(stats.min).toBe(Math.min(...finite) + 0);
          expect(stats.max).toBe(Math.max(...finite) + 0);
          const h = stats.histogram as NonNullable<typeof stats.histogram>;
          const want = new Float64Array(h.counts.length);
          for (const v of finite) {
            const k = Math.floor(Math.fround(v) * 2 ** -h.log2Width) - h.first;
            want[k] = (want[k] as number) + 1;
          }
          expect(Array.from(h.counts)).toEqual(Array.from(want));
        },
      ),
      { numRuns: 24, seed: 20261203, endOnFailure: true }, // shrinking 35 000-value arrays takes minutes
    );
    console.log(`histogram accumulator, large batches: ${runs} random batch sequences checked`);
  });
});

describe('the histogram accumulator with the exact range of each batch (from a backend)', () => {
  const exactRange = (b: Float32Array) => {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of b) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { min, max };
  };

  it('gives bit for bit the statistics of the checked path, and falls back to it when a range is too narrow (fast-check)', () => {
    const value = fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 4, arbitrary: fc.integer({ min: -300, max: 300 }).map((k) => k / 64) },
      { weight: 2, arbitrary: fc.float({ min: -8, max: 8, noNaN: true }) },
      { weight: 1, arbitrary: fc.float({ min: -3e4, max: 3e4, noNaN: true }) },
      { weight: 1, arbitrary: fc.constant(-0) },
    );
    let runs = 0;
    let narrowed = 0;
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: 1, maxLength: 40_000 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        (batches, narrow) => {
          runs++;
          const checked = createStatsAccumulator({ histogram: true });
          const ranged = createStatsAccumulator({ histogram: true });
          batches.forEach((b, i) => {
            const values = Float32Array.from(b);
            checked.add(values);
            const r = exactRange(values);
            // A range that leaves out the largest value: the accumulator must notice and bin the checked way.
            const wrong = narrow[i] && r.max > r.min;
            if (wrong) narrowed++;
            ranged.add(values, undefined, wrong ? { min: r.min, max: r.min } : r);
          });
          const a = checked.toStats();
          const b = ranged.toStats();
          expect(b.count).toBe(a.count);
          expect(b.min).toBe(a.min);
          expect(b.max).toBe(a.max);
          expect(b.histogram?.log2Width).toBe(a.histogram?.log2Width);
          expect(b.histogram?.first).toBe(a.histogram?.first);
          expect(Array.from(b.histogram?.counts ?? [])).toEqual(Array.from(a.histogram?.counts ?? []));
        },
      ),
      { numRuns: 60, seed: 20261204, endOnFailure: true },
    );
    console.log(`ranged histogram accumulator: ${runs} batch sequences, ${narrowed} batches with a too-narrow range`);
    expect(narrowed).toBeGreaterThan(0);
  });
});
