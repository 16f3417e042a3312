import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test-support/random.js';
import {
  assembleEncoding,
  type ChannelEncoding,
  computeGrid,
  type GridShape,
  gridSteps,
  InvalidArgumentError,
  quantizeDequantize,
  roundHalfAway,
  roundHalfEven,
} from '../src/index.js';

const asym = (bitwidth = 8): GridShape => ({
  bitwidth,
  dtype: 'int',
  symmetric: false,
  strictSymmetric: false,
  unsignedSymmetric: false,
});
const sym = (bitwidth = 8, more: Partial<GridShape> = {}): GridShape => ({ ...asym(bitwidth), symmetric: true, ...more });

function expectGrid(actual: ChannelEncoding, expected: ChannelEncoding): void {
  expect(actual.offset).toBe(expected.offset);
  expect(actual.scale).toBeCloseTo(expected.scale, 12);
  expect(actual.min).toBeCloseTo(expected.min, 12);
  expect(actual.max).toBeCloseTo(expected.max, 12);
}

// Hand-computed from AIMET's getComputedEncodings (libpymo quantization_utils.cpp, 2.x) and
// TfEncodingAnalyzer's MIN_RANGE = 0.01; see the comment at the top of src/encoding/grid.ts.
describe('computeGrid, asymmetric', () => {
  it('covers [-1, 3] at 8 bits with Δ = 4/255 and offset round(-63.75) = -64', () => {
    expectGrid(computeGrid(-1, 3, asym()), { scale: 4 / 255, offset: -64, min: (-64 * 4) / 255, max: (191 * 4) / 255 });
  });

  it('widens a positive range to include 0: [2, 5] becomes [0, 5] with offset 0', () => {
    expectGrid(computeGrid(2, 5, asym()), { scale: 5 / 255, offset: 0, min: 0, max: 5 });
  });

  it('widens a negative range to include 0: [-5, -2] becomes [-5, 0] with offset -255', () => {
    expectGrid(computeGrid(-5, -2, asym()), { scale: 5 / 255, offset: -255, min: -5, max: 0 });
  });

  it('rounds the offset halfway away from zero, as C round() in AIMET: -126.5 gives -127', () => {
    // Δ = 255/255 = 1 and min/Δ = -126.5 exactly; half to even would give -126.
    expectGrid(computeGrid(-126.5, 128.5, asym()), { scale: 1, offset: -127, min: -127, max: 128 });
  });

  it('uses 15 steps at 4 bits and 65535 at 16 bits', () => {
    expectGrid(computeGrid(-1, 3, asym(4)), { scale: 4 / 15, offset: -4, min: -16 / 15, max: (11 * 4) / 15 });
    expectGrid(computeGrid(-1, 3, asym(16)), {
      scale: 4 / 65535,
      offset: -16384,
      min: (-16384 * 4) / 65535,
      max: (49151 * 4) / 65535,
    });
  });

  it('makes ranges narrower than 0.01 0.01 wide by raising max (AIMET MIN_RANGE)', () => {
    expectGrid(computeGrid(0, 0, asym()), { scale: 0.01 / 255, offset: 0, min: 0, max: 0.01 });
    expectGrid(computeGrid(0, 0.004, asym()), { scale: 0.01 / 255, offset: 0, min: 0, max: 0.01 });
    // [-0.003, 0.002] becomes [-0.003, 0.007]; -0.003 / (0.01/255) = -76.5 rounds to -77.
    expectGrid(computeGrid(-0.003, 0.002, asym()), {
      scale: 0.01 / 255,
      offset: -77,
      min: (-77 * 0.01) / 255,
      max: (178 * 0.01) / 255,
    });
  });

  it('clamps infinite ranges into the float32 range', () => {
    const grid = computeGrid(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, asym());
    expect(Number.isFinite(grid.min) && Number.isFinite(grid.max) && Number.isFinite(grid.scale)).toBe(true);
    expect(grid.max).toBeLessThanOrEqual(3.4028234663852886e38);
    expect(grid.min).toBeGreaterThanOrEqual(-3.4028234663852886e38);
  });
});

describe('computeGrid, symmetric', () => {
  it('uses Δ = max(max/127, -min/128) and offset -128 at 8 bits (AIMET 2.x)', () => {
    expectGrid(computeGrid(-1, 3, sym()), { scale: 3 / 127, offset: -128, min: (-128 * 3) / 127, max: 3 });
    expectGrid(computeGrid(-4, 1, sym()), { scale: 4 / 128, offset: -128, min: -4, max: 127 * (4 / 128) });
  });

  it('drops one step when strict: offset -127 and [-127, 127]Δ at 8 bits', () => {
    expect(gridSteps(sym(8, { strictSymmetric: true }))).toBe(254);
    expectGrid(computeGrid(-4, 1, sym(8, { strictSymmetric: true })), { scale: 4 / 127, offset: -127, min: -4, max: 4 });
    expectGrid(computeGrid(-1, 3, sym(8, { strictSymmetric: true })), { scale: 3 / 127, offset: -127, min: -3, max: 3 });
  });

  it('uses offset 0 and Δ = max/N for non-negative data when unsigned symmetric', () => {
    const unsigned = sym(8, { unsignedSymmetric: true });
    expectGrid(computeGrid(0.5, 2, unsigned), { scale: 2 / 255, offset: 0, min: 0, max: 2 });
    // With negative data, or without the flag, the grid is signed.
    expectGrid(computeGrid(-1, 2, unsigned), { scale: 2 / 127, offset: -128, min: (-128 * 2) / 127, max: 2 });
    expectGrid(computeGrid(0.5, 2, sym()), { scale: 2 / 127, offset: -128, min: (-128 * 2) / 127, max: 2 });
  });

  it('uses 7 positive and 8 negative steps at 4 bits, 7 and 7 when strict', () => {
    expectGrid(computeGrid(-1, 3, sym(4)), { scale: 3 / 7, offset: -8, min: (-8 * 3) / 7, max: 3 });
    expectGrid(computeGrid(-1, 3, sym(4, { strictSymmetric: true })), { scale: 3 / 7, offset: -7, min: -3, max: 3 });
  });

  it('uses offset -32768 at 16 bits', () => {
    expectGrid(computeGrid(-1, 3, sym(16)), { scale: 3 / 32767, offset: -32768, min: (-32768 * 3) / 32767, max: 3 });
  });

  it('gives both sides 2 steps at 2 bits (N = 3), as AIMET does to use every bin', () => {
    expectGrid(computeGrid(-1, 1, sym(2)), { scale: 0.5, offset: -2, min: -1, max: 0.5 });
  });

  it('widens an all-zero range to [0, 0.01] before making it symmetric', () => {
    expectGrid(computeGrid(0, 0, sym()), { scale: 0.01 / 127, offset: -128, min: (-128 * 0.01) / 127, max: 0.01 });
    expectGrid(computeGrid(0, 0, sym(8, { unsignedSymmetric: true })), { scale: 0.01 / 255, offset: 0, min: 0, max: 0.01 });
  });
});

describe('computeGrid invariants', () => {
  it('always gives min = Δ·offset and max = Δ·(offset + N) with an integer offset in [-N, 0]', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const bitwidth = 2 + Math.floor(random() * 15);
      const spec: GridShape = {
        bitwidth,
        dtype: 'int',
        symmetric: random() < 0.5,
        strictSymmetric: random() < 0.5,
        unsignedSymmetric: random() < 0.5,
      };
      const a = (random() - 0.5) * 10 ** (random() * 8 - 4);
      const b = (random() - 0.3) * 10 ** (random() * 8 - 4);
      const grid = computeGrid(Math.min(a, b), Math.max(a, b), spec);
      const n = gridSteps(spec);
      expect(Number.isInteger(grid.offset) && grid.offset <= 0 && grid.offset >= -n).toBe(true);
      expect(grid.min).toBeCloseTo(grid.scale * grid.offset, 12);
      expect(grid.max / grid.scale).toBeCloseTo(grid.offset + n, 6);
      expect(grid.max - grid.min).toBeGreaterThanOrEqual(0.01 * (1 - 1e-12));
      // The data range is covered to within Δ/2 (the shift that makes 0 exact), except where AIMET's
      // 2-bit symmetric rule trades range for clipping.
      if (!(spec.symmetric && n === 3)) {
        const slack = grid.scale / 2 + 1e-12 * Math.max(Math.abs(a), Math.abs(b));
        expect(grid.min).toBeLessThanOrEqual(Math.min(a, b, 0) + slack);
        expect(grid.max).toBeGreaterThanOrEqual(Math.max(a, b, 0) - slack);
      }
    }
  });

  it('rejects what has no integer grid, naming the problem', () => {
    expect(() => computeGrid(-1, 1, { ...asym(), dtype: 'float' })).toThrow(/dtype 'float'/);
    expect(() => computeGrid(-1, 1, asym(0))).toThrow(/bitwidth must be an integer from 1 to 32/);
    expect(() => computeGrid(-1, 1, asym(33))).toThrow(InvalidArgumentError);
    expect(() => computeGrid(-1, 1, asym(2.5))).toThrow(InvalidArgumentError);
    expect(() => computeGrid(-1, 1, sym(1))).toThrow(/symmetric grid needs at least 2 bits/);
    expect(() => computeGrid(Number.NaN, 1, asym())).toThrow(/min and max must be numbers/);
  });
});

describe('rounding', () => {
  it('roundHalfEven sends halfway cases to the even neighbour, as ONNX QuantizeLinear', () => {
    const inputs = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.6, -2.6, 3];
    expect(inputs.map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, -2, 2, 3, -3, 3]);
  });

  it('roundHalfAway sends halfway cases away from zero, as C round()', () => {
    const inputs = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -2.6];
    expect(inputs.map(roundHalfAway)).toEqual([1, 2, 3, -1, -2, -3, 2, -3]);
  });
});

describe('quantizeDequantize', () => {
  // Δ = 1, offset -2: the grid is -2, -1, …, 253.
  const grid: ChannelEncoding = { min: -2, max: 253, scale: 1, offset: -2 };
  const values = new Float32Array([0.5, 1.5, 2.5, -0.5, -1.5, 300, -5, Number.NaN, Infinity, -Infinity, 0, 7.25]);

  it('rounds halfway cases to even by default and clamps to the grid', () => {
    const out = Array.from(quantizeDequantize(values, grid, 8));
    expect(out).toEqual([0, 2, 2, 0, -2, 253, -2, Number.NaN, 253, -2, 0, 7]);
  });

  it('rounds halfway cases away from zero on request (AIMET)', () => {
    const out = Array.from(quantizeDequantize(values, grid, 8, { rounding: 'half-away' }));
    expect(out).toEqual([1, 2, 3, -1, -2, 253, -2, Number.NaN, 253, -2, 0, 7]);
  });

  it('keeps 0 exact, lands on the grid and errs by at most Δ/2 inside the range', () => {
    const enc = computeGrid(-0.7, 2.3, asym());
    const data = new Float32Array(1001).map((_, i) => -0.7 + (3 * i) / 1000);
    data[500] = 0;
    const out = quantizeDequantize(data, enc, 8);
    expect(out[500]).toBe(0);
    for (let i = 0; i < data.length; i++) {
      const q = (out[i] as number) / enc.scale - enc.offset;
      expect(Math.abs(q - Math.round(q))).toBeLessThan(1e-3);
      expect(Math.abs((out[i] as number) - (data[i] as number))).toBeLessThanOrEqual(enc.scale / 2 + 1e-6);
    }
  });

  it('refuses an encoding wider than the bitwidth, or a bad rounding mode', () => {
    expect(() => quantizeDequantize(values, grid, 4)).toThrow(/255 steps/);
    expect(() => quantizeDequantize(values, { ...grid, scale: 0 }, 8)).toThrow(/positive finite scale/);
    // @ts-expect-error: checking the runtime guard
    expect(() => quantizeDequantize(values, grid, 8, { rounding: 'up' })).toThrow(/rounding must be/);
  });
});

describe('assembleEncoding', () => {
  const one = computeGrid(-1, 3, sym());

  it('builds per-tensor and per-channel integer encodings', () => {
    const perTensor = assembleEncoding({ ...sym(), strictSymmetric: false, unsignedSymmetric: true }, [one]);
    expect(perTensor).toEqual({
      dtype: 'int',
      bitwidth: 8,
      symmetric: true,
      strictSymmetric: false,
      unsignedSymmetric: true,
      channels: [one],
    });
    const perChannel = assembleEncoding(asym(4), [one, one], 0);
    expect(perChannel.axis).toBe(0);
    expect(perChannel.channels).toHaveLength(2);
    expect('strictSymmetric' in perChannel).toBe(false);
    expect(Object.isFrozen(perChannel)).toBe(true);
  });

  it('builds float encodings without channels', () => {
    expect(assembleEncoding({ ...asym(16), dtype: 'float' }, [])).toEqual({
      dtype: 'float',
      bitwidth: 16,
      symmetric: false,
      channels: [],
    });
  });

  it('rejects mismatched channels and axes', () => {
    expect(() => assembleEncoding(asym(), [])).toThrow(/exactly one channel grid/);
    expect(() => assembleEncoding(asym(), [one, one])).toThrow(/exactly one channel grid/);
    expect(() => assembleEncoding(asym(), [], 0)).toThrow(/at least one channel grid/);
    expect(() => assembleEncoding(asym(), [one], -1)).toThrow(/axis must be a non-negative integer/);
    expect(() => assembleEncoding({ ...asym(16), dtype: 'float' }, [one])).toThrow(/no channels/);
  });
});
