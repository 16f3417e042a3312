// The fast searches of tf-enhanced (v1, v2) and mse against frozen copies of the searches they
// replaced (test/reference/): the same encoding, bit for bit (Object.is on every field), over
// thousands of random histograms of varied shapes, bitwidths and grid kinds.
import {
  type ChannelEncoding,
  computeGrid,
  type EncodingScheme,
  type GridSpec,
  statsFromValues,
  type TensorStats,
} from '@quantsim/core';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test-support/random.js';
import { mseScheme, tfEnhancedScheme } from '../src/index.js';
import { gridMaker } from '../src/schemes/candidate-grid.js';
import { referenceMseScheme } from './reference/mse.js';
import { referenceTfEnhancedScheme } from './reference/tf-enhanced.js';

type Random = () => number;

const normal = (r: Random) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

/** Data shapes a quantizer meets, and the awkward ones: ties, constants, a few distinct values. */
const SHAPES: Readonly<Record<string, (r: Random, n: number) => Float32Array>> = {
  gaussian: (r, n) => {
    const mean = r() < 0.5 ? 0 : normal(r) * 2;
    return Float32Array.from({ length: n }, () => mean + normal(r));
  },
  heavyTailed: (r, n) => Float32Array.from({ length: n }, () => normal(r) * Math.exp(1.5 * normal(r))),
  withOutlier: (r, n) => {
    const values = Float32Array.from({ length: n }, () => normal(r));
    values[0] = (r() < 0.5 ? -1 : 1) * (10 + 100 * r());
    return values;
  },
  relu: (r, n) => Float32Array.from({ length: n }, () => Math.max(0, normal(r) + 0.3)),
  exponential: (r, n) => Float32Array.from({ length: n }, () => -Math.log(1 - r())),
  negative: (r, n) => Float32Array.from({ length: n }, () => -Math.abs(normal(r)) - (r() < 0.5 ? 0 : 1)),
  uniform: (r, n) => {
    const a = normal(r);
    const b = a + Math.abs(normal(r)) + 1e-3;
    return Float32Array.from({ length: n }, () => a + (b - a) * r());
  },
  onGrid: (r, n) => {
    // Values on a grid: exact ties between candidates and halfway cases in the rounding.
    const step = pick(r, [1, 0.5, 1 / 16, 2 / 255, 0.1]);
    const lo = -Math.floor(r() * 130);
    const hi = Math.floor(r() * 130);
    return Float32Array.from({ length: n }, () => (lo + Math.floor(r() * (hi - lo + 1))) * step);
  },
  nearConstant: (r, n) => {
    const c = normal(r) * 10;
    return Float32Array.from({ length: n }, () => c + normal(r) * 1e-6 * Math.abs(c));
  },
  constant: (r, n) => new Float32Array(n).fill(r() < 0.2 ? 0 : normal(r) * 5),
  sparse: (r, n) => {
    const values = Array.from({ length: 1 + Math.floor(r() * 5) }, () => normal(r) * 3);
    return Float32Array.from({ length: n }, () => pick(r, values));
  },
  single: (r) => Float32Array.of(normal(r) * 4),
  bimodal: (r, n) => Float32Array.from({ length: n }, () => (r() < 0.3 ? -3 : 2) + normal(r) * 0.2),
};

function randomStats(r: Random, shape: string): TensorStats {
  const make = SHAPES[shape] as (r: Random, n: number) => Float32Array;
  const n = pick(r, [1, 2, 7, 50, 300, 2000]);
  const scale = 10 ** (r() * 8 - 4);
  const values = make(r, n).map((x) => x * scale);
  const stats = statsFromValues(values, { histogram: true });
  const h = stats.histogram;
  // Large and fractional counts, as merged and resampled statistics have.
  if (h === undefined || r() < 0.6) return stats;
  const factor = pick(r, [3, 1000, 1e6 + 0.37]);
  return { ...stats, count: stats.count * factor, histogram: { ...h, counts: Float64Array.from(h.counts, (c) => c * factor) } };
}

function randomSpec(r: Random, scheme: 'v1' | 'v2' | 'mse'): GridSpec {
  const symmetric = r() < 0.5;
  const schemeOptions: Record<string, unknown> = {};
  if (scheme !== 'mse') {
    schemeOptions.variant = scheme;
    if (r() < 0.3) schemeOptions.gamma = pick(r, [1, 0.5, 10, 1e-300]);
    if (r() < 0.2) schemeOptions.bins = pick(r, [64, 300, 1024]);
  } else {
    // Smaller searches than the default (100 candidates, 512 bins) keep the reference affordable.
    schemeOptions.candidates = pick(r, [1, 7, 20, 40, 100]);
    schemeOptions.bins = pick(r, [16, 64, 128, 512]);
  }
  return {
    bitwidth: r() < 0.05 ? pick(r, [2, 3]) : pick(r, [4, 8, 16]),
    dtype: 'int',
    symmetric,
    strictSymmetric: symmetric && r() < 0.25,
    unsignedSymmetric: symmetric && r() < 0.4,
    schemeOptions,
  };
}

function expectIdentical(actual: ChannelEncoding, expected: ChannelEncoding, what: () => string): void {
  const keys = [...new Set([...Object.keys(actual), ...Object.keys(expected)])];
  for (const key of keys) {
    const a = (actual as unknown as Record<string, unknown>)[key];
    const e = (expected as unknown as Record<string, unknown>)[key];
    if (!Object.is(a, e)) expect.fail(`${key}: ${String(a)} instead of ${String(e)} for ${what()}`);
  }
}

const SCHEMES: readonly { name: 'v1' | 'v2' | 'mse'; fast: EncodingScheme; reference: EncodingScheme; cases: number }[] = [
  { name: 'v2', fast: tfEnhancedScheme, reference: referenceTfEnhancedScheme, cases: 3000 },
  { name: 'v1', fast: tfEnhancedScheme, reference: referenceTfEnhancedScheme, cases: 3000 },
  { name: 'mse', fast: mseScheme, reference: referenceMseScheme, cases: 2500 },
];

describe('fast scheme searches give the encodings of the reference searches, bit for bit', () => {
  for (const { name, fast, reference, cases } of SCHEMES) {
    it(`${name === 'mse' ? 'mse' : `tf-enhanced ${name}`}: ${cases} random histograms`, () => {
      const r = seededRandom(0x5eed + cases + name.charCodeAt(1));
      const shapes = Object.keys(SHAPES);
      let compared = 0;
      for (let k = 0; k < cases; k++) {
        const shape = shapes[k % shapes.length] as string;
        const stats = randomStats(r, shape);
        const spec = randomSpec(r, name);
        expectIdentical(fast.compute(stats, spec), reference.compute(stats, spec), () =>
          JSON.stringify({ case: k, shape, spec, min: stats.min, max: stats.max, count: stats.count }),
        );
        compared++;
      }
      console.log(`scheme-search-equivalence ${name}: ${compared} cases compared, all identical`);
      expect(compared).toBe(cases);
    });
  }
});

describe("the MSE search's grids are computeGrid's", () => {
  it('bit for bit, over random ranges and every grid kind', () => {
    const r = seededRandom(0x9e1d);
    const ends = () => {
      const u = r();
      if (u < 0.03) return pick(r, [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e39, -1e39, 0.004, -0.006]);
      return (r() < 0.5 ? -1 : 1) * 10 ** (r() * 12 - 6) * (u < 0.3 ? 0 : 1) + (u < 0.3 ? normal(r) * 1e-3 : 0);
    };
    let compared = 0;
    for (let k = 0; k < 400; k++) {
      const symmetric = r() < 0.6;
      const spec: GridSpec = {
        bitwidth: symmetric ? pick(r, [2, 3, 4, 8, 16, 32]) : pick(r, [1, 2, 4, 8, 16, 32]),
        dtype: 'int',
        symmetric,
        strictSymmetric: symmetric && r() < 0.4,
        unsignedSymmetric: symmetric && r() < 0.5,
        schemeOptions: {},
      };
      const grid = gridMaker(spec);
      for (let t = 0; t < 50; t++) {
        const lo = ends();
        const hi = r() < 0.2 ? lo : ends();
        expectIdentical(grid(lo, hi), computeGrid(lo, hi, spec), () => JSON.stringify({ spec, lo, hi }));
        compared++;
      }
    }
    console.log(`scheme-search-equivalence grids: ${compared} ranges compared, all identical`);
    expect(compared).toBe(20_000);
  });
});
