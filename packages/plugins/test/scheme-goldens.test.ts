// Golden tests of the schemes against AIMET's and ONNX Runtime's published definitions: cases
// from aimet_torch v2's test_encoding_analyzer.py (SqnrEncodingAnalyzer, PercentileEncodingAnalyzer),
// libpymo's TestTfEnhancedEncodingAnalyzer.cpp, and TensorRT's / ONNX Runtime's KL calibration.
import { readFileSync } from 'node:fs';
import { type GridSpec, statsFromValues, type TensorStats } from '@quantsim/core';
import { describe, expect, it } from 'vitest';
import { entropyScheme, percentileScheme, tfEnhancedScheme } from '../src/index.js';

const spec = (more: Partial<GridSpec> = {}): GridSpec => ({
  bitwidth: 8,
  dtype: 'int',
  symmetric: false,
  strictSymmetric: false,
  unsignedSymmetric: false,
  schemeOptions: {},
  ...more,
});

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const stats = (values: ArrayLike<number>): TensorStats => statsFromValues(Float32Array.from(values), { histogram: true });

function gaussian(n: number, seed: number): Float32Array {
  const random = prng(seed);
  return new Float32Array(n).map(() => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

describe('tf-enhanced v2 (aimet_torch v2 SqnrEncodingAnalyzer)', () => {
  it('test_computed_encodings_uniform_dist: evenly spaced data keep the observed grid exactly', () => {
    // x = arange(-100, 101) / 100, gamma 1: Δ = 2/255, offset round(-127.5) = -128 (halves to even).
    const x = stats(Array.from({ length: 201 }, (_, i) => (i - 100) / 100));
    const grid = tfEnhancedScheme.compute(x, spec({ schemeOptions: { gamma: 1 } }));
    expect(grid.offset).toBe(-128);
    expect(grid.scale).toBeCloseTo(2 / 255, 15);
    expect(grid.min).toBeCloseTo((-128 * 2) / 255, 14);
    expect(grid.max).toBeCloseTo((127 * 2) / 255, 14);
  });

  it('test_computed_encodings_with_outliers: the optimal clip is 3/4 of a lone outlier', () => {
    // n uniform values on [0, 25.5) and one outlier at 34: with gamma 1, Δ = 0.1 is optimal, and
    // Δ = 34/255 · 12/16 = 0.1 is a candidate. AIMET expects [0, 25.5]. (Its comment says n is
    // 210,100; its formula gives 260,100.)
    const delta = 0.1;
    const outlier = (255 * delta) / 0.75;
    const n = Math.round((12 * 255 * outlier) / delta - 12 * 255 ** 2);
    const random = prng(11);
    const values = new Float32Array(n + 1).map(() => random() * 255 * delta);
    values[n] = outlier;
    const grid = tfEnhancedScheme.compute(stats(values), spec({ schemeOptions: { gamma: 1 } }));
    expect(grid.offset).toBe(0);
    expect(grid.min).toBe(0);
    expect(grid.max).toBeCloseTo(25.5, 4);
  });

  it('uses 2048 bins by default and checks the variant', () => {
    expect(() => tfEnhancedScheme.compute(stats([1, 2, 3]), spec({ schemeOptions: { variant: 'v3' } }))).toThrow(
      /option 'variant' must be 'v2' \(AIMET 2.x, the default\) or 'v1'/,
    );
  });
});

describe('tf-enhanced v1 (libpymo TfEnhancedEncodingAnalyzer)', () => {
  // libpymo's tests: N(2, 2) data, 8 bits.
  const normal = stats(gaussian(100_000, 3).map((x) => 2 + 2 * x));
  const v1 = (more: Partial<GridSpec> = {}) => spec({ ...more, schemeOptions: { variant: 'v1' } });

  it('Asymmetric: covers the bulk of a normal distribution, clipping the far tails', () => {
    const grid = tfEnhancedScheme.compute(normal, v1());
    expect(grid.min).toBeGreaterThan(2 - 6 * 2);
    expect(grid.min).toBeLessThan(2 - 2 * 2);
    expect(grid.max).toBeGreaterThan(2 + 2 * 2);
    expect(grid.max).toBeLessThan(2 + 6 * 2);
  });

  it('Symmetric and StrictSymmetric: offsets -128 and -127, inside the absolute range', () => {
    const absMax = Math.max(-normal.min, normal.max);
    const sym = tfEnhancedScheme.compute(normal, v1({ symmetric: true }));
    expect(sym.offset).toBe(-128);
    expect(sym.max).toBeLessThan(absMax);
    expect(sym.scale).toBeCloseTo((sym.max - sym.min) / 255, 12);
    const strict = tfEnhancedScheme.compute(normal, v1({ symmetric: true, strictSymmetric: true }));
    expect(strict.offset).toBe(-127);
    expect(strict.min).toBeCloseTo(-strict.max, 12);
  });

  it('SymmetricUnsigned: ReLU-ed normal data get min 0 and nearly the whole range', () => {
    const relu = stats(gaussian(100_000, 4).map((x) => Math.max(0, 2 + 2 * x)));
    const grid = tfEnhancedScheme.compute(relu, v1({ symmetric: true, unsignedSymmetric: true }));
    expect(grid.min).toBe(0);
    expect(grid.offset).toBe(0);
    // libpymo's test (fewer values) allows 0.015; with 10^5 values gamma 3 clips the last few.
    expect(grid.max).toBeLessThanOrEqual(relu.max + grid.scale);
    expect(grid.max).toBeGreaterThan(0.95 * relu.max);
  });
});

describe('percentile (aimet_torch v2 PercentileEncodingAnalyzer)', () => {
  const ramp = stats(Array.from({ length: 1001 }, (_, i) => i));
  // AIMET's tests use 500 bins and take bin edges: its answers are within one of its bins (2).
  const aimetBin = 1000 / 500;

  it('test_compute_encodings_asymmetric_sequential: [0, 990]', () => {
    const grid = percentileScheme.compute(ramp, spec({ schemeOptions: { p: 99 } }));
    expect(grid.min).toBe(0);
    expect(Math.abs(grid.max - 990)).toBeLessThanOrEqual(aimetBin);
  });

  it('test_compute_encodings_signed_symmetric_sequential: strict symmetric [-990, 990]', () => {
    const grid = percentileScheme.compute(ramp, spec({ symmetric: true, strictSymmetric: true, schemeOptions: { p: 99 } }));
    expect(grid.offset).toBe(-127);
    expect(grid.min).toBeCloseTo(-grid.max, 9);
    expect(Math.abs(grid.max - 990)).toBeLessThanOrEqual(aimetBin);
  });

  it('test_compute_percentile_encodings_with_outliers: p = 90 clips 800 and 1000 to about 90', () => {
    const values = Array.from({ length: 101 }, (_, i) => i);
    values[100] = 1000;
    values[99] = 800;
    const grid = percentileScheme.compute(stats(values), spec({ schemeOptions: { p: 90 } }));
    expect(grid.max).toBeGreaterThan(89);
    expect(grid.max).toBeLessThan(91 + grid.scale);
  });

  it('clips each side before the symmetric delta: a large negative side sets Δ (4 bits)', () => {
    // Uniform on [-8, 1]: the clipped ends are about -8 and 1; Δ = max(1/7, 8/8) = 1, grid [-8, 7].
    // Taking the percentile of |x| onto the positive side would give Δ = 8/7, 8/7 too wide.
    const data = stats(Array.from({ length: 90_001 }, (_, i) => -8 + i / 10_000));
    const grid = percentileScheme.compute(data, spec({ bitwidth: 4, symmetric: true, schemeOptions: { p: 99.99 } }));
    expect(grid.offset).toBe(-8);
    expect(grid.scale).toBeCloseTo(1, 2);
    expect(grid.min).toBeCloseTo(-8, 2);
  });
});

describe("entropy, variant 'tensorrt' (TensorRT, ONNX Runtime KL calibration)", () => {
  const trt = (more: Partial<GridSpec> = {}) => spec({ ...more, schemeOptions: { variant: 'tensorrt' } });
  const bulk = stats(gaussian(200_000, 7));

  it('keeps at least ±3σ of a signed Gaussian at 8 bits (TensorRT clips N(0, 1) near 4σ)', () => {
    for (const s of [trt(), trt({ symmetric: true })]) {
      const grid = entropyScheme.compute(bulk, s);
      expect(grid.min).toBeLessThan(-3);
      expect(grid.max).toBeGreaterThan(3);
      expect(grid.max).toBeLessThanOrEqual(bulk.max + grid.scale);
    }
  });

  it('one-sided data use the whole grid: ReLU outputs with half their mass at 0 keep their range', () => {
    // Half zeros, half uniform on [0, 6] (a ReLU6 output): clipping a uniform tail only hurts.
    const random = prng(5);
    const relu6 = stats(new Float32Array(100_000).map((_, i) => (i % 2 === 0 ? 0 : random() * 6)));
    const grid = entropyScheme.compute(relu6, trt());
    expect(grid.min).toBe(0);
    expect(grid.max).toBeGreaterThan(5);
  });

  it('does not collapse on the spike of exact zeros of ReLU and HardSwish outputs', () => {
    // Half exact zeros, half |N(0, 1)|: merging the zero spike into its level would make the
    // narrowest window (levels/bins of the range) win; 0 is exact on every grid.
    const relu = stats(gaussian(200_000, 12).map((x, i) => (i % 2 === 0 ? 0 : Math.abs(x))));
    expect(entropyScheme.compute(relu, trt()).max).toBeGreaterThan(2.5);
    // HardSwish-like: zeros, a small negative dip, a long positive tail.
    const hardswish = stats(gaussian(200_000, 13).map((x) => (x < -1 ? 0 : x < 0 ? -0.2 * (x + 1) * -x : 2 * x)));
    const grid = entropyScheme.compute(hardswish, trt());
    expect(grid.max).toBeGreaterThan(5);
    expect(grid.min).toBeLessThan(-0.04);
  });

  it('clips a rare far outlier, signed and one-sided', () => {
    const withOutlier = stats([...gaussian(200_000, 8), 60]);
    expect(entropyScheme.compute(withOutlier, trt()).max).toBeLessThan(20);
    const oneSided = stats([...gaussian(200_000, 9).map(Math.abs), 60]);
    expect(entropyScheme.compute(oneSided, trt()).max).toBeLessThan(20);
  });

  it('uses the observed range when there are fewer values than bins (weights per channel)', () => {
    const few = stats(gaussian(500, 10));
    for (const s of [trt(), trt({ symmetric: true })]) {
      const grid = entropyScheme.compute(few, s);
      expect(grid.min).toBeLessThanOrEqual(few.min + grid.scale / 2);
      expect(grid.max).toBeGreaterThanOrEqual(few.max - grid.scale / 2);
    }
  });
});

describe("entropy, variant 'aimet' (the default: libpymo EntropyEncodingAnalyzer)", () => {
  // 512 bins over the observed range, windows of at least 255 bins (255 quantized bins).
  it('never clips below 255 of 512 bins: a rare far outlier is cut to about half the range', () => {
    const withOutlier = stats([...gaussian(200_000, 8), 60]);
    const lo = withOutlier.min;
    const w = (60 - lo) / 512;
    // The right end holds no mass, so the window shrinks from the right, 2 bins a step.
    const grid = entropyScheme.compute(withOutlier, spec());
    expect(grid.max).toBeGreaterThanOrEqual(lo + 255 * w - grid.scale);
    expect(grid.max).toBeLessThan(lo + 0.55 * 512 * w);
    expect(grid.min).toBeLessThan(-3);
    // Symmetric grids: 512 bins over [-60, 60], shrunk from both ends: |t| ≥ 255/512 · 60.
    const sym = entropyScheme.compute(withOutlier, spec({ symmetric: true }));
    expect(sym.max).toBeGreaterThanOrEqual((255 / 512) * 60 - sym.scale);
    expect(sym.max).toBeLessThan(0.55 * 60);
  });

  it('keeps a signed Gaussian whole: halving the range does not pay at 255 levels over 512 bins', () => {
    const bulk = stats(gaussian(200_000, 7));
    for (const s of [spec(), spec({ symmetric: true })]) {
      const grid = entropyScheme.compute(bulk, s);
      expect(grid.min).toBeLessThan(-3);
      expect(grid.max).toBeGreaterThan(3);
    }
  });

  it('does not shrink an asymmetric window past 0', () => {
    // All values in [2, 10] with a far outlier: the left end would lose nothing, but 0 must stay.
    const random = prng(3);
    const positive = stats([...Array.from({ length: 50_000 }, () => 2 + 8 * random()), 40]);
    const grid = entropyScheme.compute(positive, spec());
    expect(grid.min).toBe(0);
    expect(grid.max).toBeGreaterThan(10);
  });

  it('does not clip a sparse side away at a spike of exact zeros (an image input with zero padding)', () => {
    // The PaddleOCR classifier's input, measured: 11 % exact zeros (padding), 12 % dark text pixels
    // spread over [-1, 0), light background on [0, 1]. Keeping the zero bin's own count where the
    // window clips into it made [0, 1] look cheapest and turned every dark pixel grey (dev accuracy
    // 0.974 -> 0.902). At a clipping end the bin is merged as AIMET merges it.
    const { bins } = JSON.parse(
      readFileSync(new URL('fixtures/ocr-classifier-input-histogram.json', import.meta.url), 'utf8'),
    ) as {
      bins: number[];
    };
    const values: number[] = [-1, 1];
    bins.forEach((count, i) => {
      for (let k = 0; k < count; k++) values.push(i === 256 ? 0 : -1 + (i + 0.5) / 256);
    });
    const grid = entropyScheme.compute(stats(values), spec());
    expect(grid.min).toBeLessThan(-0.5);
    expect(grid.max).toBeGreaterThanOrEqual(1 - grid.scale);
  });

  it('searches at 8 bits only (as AIMET): other bitwidths take the observed range', () => {
    const withOutlier = stats([...gaussian(200_000, 8), 60]);
    const grid = entropyScheme.compute(withOutlier, spec({ bitwidth: 4 }));
    expect(grid.max).toBeGreaterThanOrEqual(60 - grid.scale / 2);
  });

  it("refuses TensorRT's options without variant 'tensorrt', and unknown variants", () => {
    const bulk = stats(gaussian(10_000, 1));
    expect(() => entropyScheme.compute(bulk, spec({ schemeOptions: { bins: 1024 } }))).toThrow(/belongs to variant 'tensorrt'/);
    expect(() => entropyScheme.compute(bulk, spec({ schemeOptions: { variant: 'trt' } }))).toThrow(/'aimet'.*'tensorrt'/);
    expect(entropyScheme.compute(bulk, spec({ schemeOptions: { variant: 'tensorrt', bins: 1024 } })).max).toBeGreaterThan(2);
  });
});
