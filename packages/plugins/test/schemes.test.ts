import {
  type ChannelEncoding,
  computeGrid,
  type GridSpec,
  InvalidArgumentError,
  mergeTensorStats,
  statsFromValues,
  type TensorStats,
} from '@quantsim/core';
import { describe, expect, it } from 'vitest';
import { seededRandom as prng } from '../../../test-support/random.js';
import { defaultSchemes, entropyScheme, minmaxScheme, mseScheme, percentileScheme, tfEnhancedScheme } from '../src/index.js';

const spec = (more: Partial<GridSpec> = {}): GridSpec => ({
  bitwidth: 8,
  dtype: 'int',
  symmetric: false,
  strictSymmetric: false,
  unsignedSymmetric: false,
  schemeOptions: {},
  ...more,
});

const histogramSchemes = [tfEnhancedScheme, percentileScheme, mseScheme, entropyScheme];

function gaussian(n: number, seed: number): Float32Array {
  const random = prng(seed);
  return new Float32Array(n).map(() => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

const stats = (values: ArrayLike<number>): TensorStats => statsFromValues(Float32Array.from(values), { histogram: true });

/** The statistics of `s` with every value repeated `times` times (counts scale, nothing else changes). */
function repeated(s: TensorStats, times: number): TensorStats {
  const h = s.histogram;
  if (h === undefined) throw new Error('needs a histogram');
  return { ...s, count: s.count * times, histogram: { ...h, counts: Float64Array.from(h.counts, (c) => c * times) } };
}

function expectGrid(actual: ChannelEncoding, expected: ChannelEncoding, digits = 5): void {
  expect(actual.offset).toBe(expected.offset);
  expect(actual.scale).toBeCloseTo(expected.scale, digits + 2);
  expect(actual.min).toBeCloseTo(expected.min, digits);
  expect(actual.max).toBeCloseTo(expected.max, digits);
}

// 10^7 standard normal values plus one at 60: an outlier rare enough (1e-7) that clipping it costs
// less than the rounding error it would cause at 8 bits, so every histogram scheme should clip it.
const bulk = stats(gaussian(100_000, 1));
const withOutlier = mergeTensorStats(repeated(bulk, 100), stats([60]));

describe('all-zero and empty data', () => {
  const zeros = stats(new Float32Array(1000));

  it('minmax gives [0, 0.01] (AIMET tf)', () => {
    expectGrid(minmaxScheme.compute(zeros, spec()), { min: 0, max: 0.01, scale: 0.01 / 255, offset: 0 }, 12);
  });

  it('histogram schemes give [-1.00392, 0.996078] with offset -128 at 8 bits (AIMET)', () => {
    for (const scheme of histogramSchemes) {
      for (const s of [spec(), spec({ symmetric: true }), spec({ symmetric: true, unsignedSymmetric: true })]) {
        const grid = scheme.compute(zeros, s);
        expectGrid(grid, { min: -1.00392, max: 0.996078, scale: 2 / 255, offset: -128 });
        expect(grid.min).toBeCloseTo(-256 / 255, 12);
      }
    }
  });

  it('histogram schemes scale the all-zero grid with the bitwidth', () => {
    // 4 bits: Δ = 2/15, offset floor(-7.5) = -8.
    for (const scheme of histogramSchemes) {
      expectGrid(scheme.compute(zeros, spec({ bitwidth: 4 })), { min: -16 / 15, max: 14 / 15, scale: 2 / 15, offset: -8 });
    }
    // Strict: TF-enhanced keeps 255 steps, the others use 254 (Δ = 2/254, offset -127), as in AIMET.
    const strict = spec({ symmetric: true, strictSymmetric: true });
    expectGrid(tfEnhancedScheme.compute(zeros, strict), { min: -256 / 255, max: 254 / 255, scale: 2 / 255, offset: -128 });
    for (const scheme of [percentileScheme, mseScheme, entropyScheme]) {
      expectGrid(scheme.compute(zeros, strict), { min: -1, max: 1, scale: 2 / 254, offset: -127 });
    }
  });

  it('every scheme gives the minimal grid [0, 0.01] when no data was seen', () => {
    const none = statsFromValues(new Float32Array([Number.NaN]), { histogram: true });
    for (const scheme of defaultSchemes) {
      expectGrid(scheme.compute(none, spec()), { min: 0, max: 0.01, scale: 0.01 / 255, offset: 0 }, 12);
    }
  });
});

describe('constant data', () => {
  // All values 1: the range is [0, 1] (0 included); no scheme has a reason to clip.
  const ones = stats(new Float32Array(1000).fill(1));

  it('gives [0, 1], Δ = 1/255, offset 0, for every scheme', () => {
    for (const scheme of [minmaxScheme, tfEnhancedScheme, percentileScheme, mseScheme, entropyScheme]) {
      expectGrid(scheme.compute(ones, spec()), { min: 0, max: 1, scale: 1 / 255, offset: 0 }, 9);
    }
  });
});

describe('minmax', () => {
  it('is the grid of the observed range and never clips', () => {
    const s = stats([-1, 0.5, 3]);
    expect(minmaxScheme.compute(s, spec())).toEqual(computeGrid(-1, 3, spec()));
    expect(minmaxScheme.compute(s, spec({ symmetric: true }))).toEqual(computeGrid(-1, 3, spec({ symmetric: true })));
    // Covered to within Δ/2, the shift that makes 0 exactly representable.
    const grid = minmaxScheme.compute(withOutlier, spec());
    expect(grid).toEqual(computeGrid(withOutlier.min, 60, spec()));
    expect(grid.max).toBeGreaterThanOrEqual(60 - grid.scale / 2);
    expect(minmaxScheme.statistics).toBe('minmax');
  });

  it('takes no options', () => {
    expect(() => minmaxScheme.compute(bulk, spec({ schemeOptions: { p: 99 } }))).toThrow(
      /'minmax' takes no options, received option 'p'/,
    );
  });
});

describe('outliers', () => {
  it('are clipped by TF-enhanced, percentile, MSE and entropy, asymmetric and symmetric', () => {
    for (const scheme of histogramSchemes) {
      for (const s of [spec(), spec({ symmetric: true })]) {
        const grid = scheme.compute(withOutlier, s);
        // AIMET's entropy search keeps at least 255 of its 512 bins: about half the range.
        const bound = scheme.name === 'entropy' ? 0.55 * withOutlier.max : 30;
        expect(grid.max, `${scheme.name} symmetric=${s.symmetric}`).toBeLessThan(bound);
        expect(grid.min, `${scheme.name} symmetric=${s.symmetric}`).toBeLessThan(-2.5);
      }
    }
  });

  it('are kept by TF-enhanced when clipping is weighted heavily enough (gamma)', () => {
    const keep = tfEnhancedScheme.compute(withOutlier, spec({ schemeOptions: { gamma: 1e6 } }));
    expect(keep.max).toBeGreaterThanOrEqual(59);
  });
});

describe('tf-enhanced', () => {
  it('covers nearly all of uniform data, where clipping only hurts', () => {
    const random = prng(3);
    const uniform = stats(new Float32Array(50_000).map(() => random() * 2 - 1));
    const grid = tfEnhancedScheme.compute(uniform, spec());
    expect(grid.min).toBeLessThan(-0.9);
    expect(grid.max).toBeGreaterThan(0.9);
    expect(grid.max).toBeLessThan(1.1);
  });

  it('keeps the symmetric offsets: -128, -127 when strict, 0 when unsigned on non-negative data', () => {
    const signed = tfEnhancedScheme.compute(bulk, spec({ symmetric: true }));
    expect(signed.offset).toBe(-128);
    expect(signed.max).toBeCloseTo(127 * signed.scale, 12);
    const strict = tfEnhancedScheme.compute(bulk, spec({ symmetric: true, strictSymmetric: true }));
    expect(strict.offset).toBe(-127);
    expect(strict.max).toBeCloseTo(127 * strict.scale, 12);
    const positive = stats(gaussian(20_000, 2).map(Math.abs));
    const unsigned = tfEnhancedScheme.compute(positive, spec({ symmetric: true, unsignedSymmetric: true }));
    expect(unsigned.offset).toBe(0);
    expect(unsigned.max).toBeCloseTo(255 * unsigned.scale, 12);
  });

  it('needs a histogram and checks its options', () => {
    const minmaxOnly = statsFromValues(new Float32Array([1, 2]), { histogram: false });
    expect(() => tfEnhancedScheme.compute(minmaxOnly, spec())).toThrow(/needs a histogram/);
    expect(() => tfEnhancedScheme.compute(bulk, spec({ schemeOptions: { gamma: 0 } }))).toThrow(
      /option 'gamma' must be a number in \(0, ∞\), received 0/,
    );
    expect(() => tfEnhancedScheme.compute(bulk, spec({ schemeOptions: { bins: 100.5 } }))).toThrow(/'bins' must be an integer/);
  });
});

describe('percentile', () => {
  // 10000 evenly spaced values on [-50, 49.99].
  const ramp = stats(Array.from({ length: 10000 }, (_, i) => i / 100 - 50));

  it('clips (100 - p)% at each end of an asymmetric grid', () => {
    const grid = percentileScheme.compute(ramp, spec({ schemeOptions: { p: 99 } }));
    const expected = computeGrid(-49, 49, spec());
    expect(grid.offset).toBe(expected.offset);
    expect(grid.min).toBeCloseTo(expected.min, 1);
    expect(grid.max).toBeCloseTo(expected.max, 1);
  });

  it('clips (100 - p)% at each end of a symmetric grid, then takes the symmetric delta (AIMET)', () => {
    // Each tail clipped at 1%: [-49, 49]; Δ = max(49 / 127, 49 / 128) = 49 / 127, within one bin.
    const grid = percentileScheme.compute(ramp, spec({ symmetric: true, schemeOptions: { p: 99 } }));
    expect(grid.offset).toBe(-128);
    expect(grid.scale).toBeCloseTo(49 / 127, 2);
  });

  it('is minmax at p = 100 and clips at the default 99.99', () => {
    expect(percentileScheme.compute(ramp, spec({ schemeOptions: { p: 100 } }))).toEqual(minmaxScheme.compute(ramp, spec()));
    const grid = percentileScheme.compute(stats([...gaussian(100_000, 5), 60]), spec());
    expect(grid.max).toBeLessThan(5);
  });

  it("names the option 'p' and its valid range when it is wrong", () => {
    for (const p of [49, 100.5, '99', Number.NaN]) {
      expect(() => percentileScheme.compute(ramp, spec({ schemeOptions: { p } }))).toThrow(
        /Scheme 'percentile': option 'p' must be a number in \[50, 100\]/,
      );
    }
    expect(() => percentileScheme.compute(ramp, spec({ schemeOptions: { percentile: 99 } }))).toThrow(
      /no option 'percentile'; its options are 'p'/,
    );
    try {
      percentileScheme.compute(ramp, spec({ schemeOptions: { p: 120 } }));
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).hint).toMatch(/\{ p: 99.99 \}/);
    }
  });
});

describe('mse', () => {
  it('does not clip uniform data, where clipping only adds error', () => {
    const random = prng(4);
    const uniform = stats(new Float32Array(50_000).map(() => random() * 2 - 1));
    const grid = mseScheme.compute(uniform, spec());
    expect(grid.min).toBeLessThan(-0.97);
    expect(grid.max).toBeGreaterThan(0.97);
  });

  it('clips a Gaussian near 4σ at 8 bits and tighter at 4 bits', () => {
    const at8 = mseScheme.compute(bulk, spec({ symmetric: true }));
    expect(at8.max).toBeGreaterThan(3.2);
    expect(at8.max).toBeLessThan(4.5);
    // The MSE-optimal clip of a unit Gaussian at 4 bits is about 2.5σ (Banner et al., ACIQ).
    const at4 = mseScheme.compute(bulk, spec({ symmetric: true, bitwidth: 4 }));
    expect(at4.max).toBeGreaterThan(2);
    expect(at4.max).toBeLessThan(3);
  });

  it('checks its options', () => {
    expect(() => mseScheme.compute(bulk, spec({ schemeOptions: { candidates: 0 } }))).toThrow(
      /option 'candidates' must be an integer in \[1, 10000\]/,
    );
  });
});

describe('entropy', () => {
  it('uses the observed range at 16 bits (AIMET searches at 8 bits; TensorRT has fewer bins than levels)', () => {
    for (const schemeOptions of [{}, { variant: 'tensorrt' }])
      expect(entropyScheme.compute(withOutlier, spec({ bitwidth: 16, schemeOptions }))).toEqual(
        computeGrid(withOutlier.min, 60, spec({ bitwidth: 16 })),
      );
  });

  it('keeps most of a Gaussian at 8 bits, symmetric and asymmetric', () => {
    for (const s of [spec(), spec({ symmetric: true })]) {
      const grid = entropyScheme.compute(bulk, s);
      expect(grid.max).toBeGreaterThan(2.5);
      expect(grid.max).toBeLessThanOrEqual(bulk.max + grid.scale);
    }
  });

  it('checks its options', () => {
    expect(() => entropyScheme.compute(bulk, spec({ schemeOptions: { variant: 'tensorrt', bins: 8 } }))).toThrow(
      /option 'bins' must be an integer in \[16, 65536\]/,
    );
  });
});

describe('every scheme', () => {
  it('is registered under its name, with the statistics it needs', () => {
    expect(defaultSchemes.map((s) => [s.name, s.statistics])).toEqual([
      ['minmax', 'minmax'],
      ['tf-enhanced', 'histogram'],
      ['percentile', 'histogram'],
      ['mse', 'histogram'],
      ['entropy', 'histogram'],
    ]);
  });

  it('returns valid grids: integer offset in [-N, 0], min = Δ·offset, 0 inside', () => {
    const shapes = [
      spec(),
      spec({ bitwidth: 4 }),
      spec({ symmetric: true }),
      spec({ symmetric: true, strictSymmetric: true }),
      spec({ symmetric: true, unsignedSymmetric: true }),
    ];
    const data = [bulk, withOutlier, stats(gaussian(5000, 9).map((x) => x * x + 2))];
    for (const scheme of defaultSchemes) {
      for (const s of shapes) {
        for (const d of data) {
          const grid = scheme.compute(d, s);
          const n = 2 ** s.bitwidth - 1 - (s.symmetric && s.strictSymmetric ? 1 : 0);
          const label = `${scheme.name} ${JSON.stringify(s)}`;
          expect(Number.isInteger(grid.offset) && grid.offset >= -n && grid.offset <= 0, label).toBe(true);
          expect(grid.min, label).toBeCloseTo(grid.scale * grid.offset, 9);
          expect(grid.max / grid.scale, label).toBeCloseTo(grid.offset + n, 6);
          if (s.symmetric && !(s.unsignedSymmetric && d.min >= 0))
            expect(grid.offset, label).toBe(s.strictSymmetric ? -127 : -128);
          if (s.symmetric && s.unsignedSymmetric && d.min >= 0) expect(grid.offset, label).toBe(0);
        }
      }
    }
  });
});
