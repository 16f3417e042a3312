import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { assembleKernels, KERNELS_TS, kernelsSource } from '../../../scripts/build-wasm.js';
import {
  binWithDerived,
  computeDerived,
  computeExtent,
  computeProduct,
  type DerivedRange,
  type DerivedValues,
  type ProductOf,
} from '../src/calibrate/derived-values.js';
import { HISTOGRAM_MAX_BINS } from '../src/calibrate/histogram.js';
import {
  reserveFloats,
  wasmBin,
  wasmClamp,
  wasmExtent,
  wasmFold,
  wasmKernelsStatus,
  wasmMap,
  wasmProduct,
} from '../src/calibrate/kernels.js';
import { pow2 } from '../src/calibrate/pow2.js';
import {
  binKnownJs,
  binKnownWasm,
  createStatsAccumulator,
  type KnownRange,
  type StatsAccumulator,
} from '../src/calibrate/stats.js';

/** Every float32 bit pattern is a possible activation: normal, subnormal, ±0, ±Infinity and NaN. */
const anyFloat32 = fc
  .integer({ min: 0, max: 0xffffffff })
  .map((bits) => new Float32Array(new Uint32Array([bits]).buffer)[0] as number);
/** Mostly values of the sizes activations have, with the special ones mixed in. */
const activation = fc.oneof(
  { weight: 4, arbitrary: fc.float({ min: -1000, max: 1000, noNaN: true }) },
  { weight: 1, arbitrary: anyFloat32 },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e-45, -1e-45, 1.1754942e-38, 3.4028235e38, Number.POSITIVE_INFINITY) },
);
const batch = fc.array(activation, { minLength: 0, maxLength: 300 }).map((a) => new Float32Array(a));
const float32Constant = fc.float({ noNaN: true, noDefaultInfinity: true }).filter((c) => c !== 0);

const status = wasmKernelsStatus();
// Node 20 on x86-64 and arm64 runs WebAssembly SIMD (SSE4.1 / NEON); elsewhere the JavaScript loops
// stand in and only the tests that need the kernels skip.
const simdHost = process.arch === 'x64' || process.arch === 'arm64';
if (!status.available) console.log(`WebAssembly kernels off: ${status.reason}; their tests skip.`);

/** Bits of a float32 array, so that -0 and +0 (and NaN payloads, where kept) compare as bits. */
function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/**
 * {@link bits} with every NaN as one: which operand's payload a NaN product keeps depends on the
 * instruction's operand order (a histogram only counts NaN as non-finite).
 */
function bitsAnyNaN(a: Float32Array): number[] {
  return bits(a).map((b, i) => (Number.isNaN(a[i]) ? 0x7fc00000 : b));
}

/** The statistics of values on their own, added the checked way. */
function statsOf(values: Float32Array) {
  const a = createStatsAccumulator({ histogram: true });
  a.add(values);
  return a.toStats();
}

describe('WebAssembly calibration kernels', () => {
  it('the committed module is what kernels.wat assembles to', async () => {
    expect(readFileSync(KERNELS_TS, 'utf8')).toBe(kernelsSource(await assembleKernels()));
  });

  it(`load on this host (${process.arch})`, () => {
    if (!simdHost) {
      console.log(`skipped: ${process.arch} is not a host where Node is known to run WebAssembly SIMD`);
      return;
    }
    expect(status).toEqual({ available: true });
  });

  it.skipIf(!status.available)(
    'bin exactly as the JavaScript loop, strays (outside, NaN, ±Infinity) included (fast-check)',
    () => {
      fc.assert(
        fc.property(
          batch,
          // Bin widths around those of activations, and the edges of the float32 kernel's
          // (2^-127 … 1) and of all widths.
          fc.oneof(
            { weight: 4, arbitrary: fc.integer({ min: -30, max: 30 }) },
            { weight: 1, arbitrary: fc.constantFrom(-149, -148, -128, -127, -126, -1, 0, 1, 2, 40) },
          ),
          fc.integer({ min: 1, max: HISTOGRAM_MAX_BINS }),
          fc.oneof(
            { weight: 4, arbitrary: fc.integer({ min: -2000, max: 2000 }) },
            // The edges of the float32 kernel's first bins (2^22) and of all (2^30).
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                2 ** 22,
                -(2 ** 22),
                2 ** 22 + 1,
                -(2 ** 22) - 1,
                2 ** 22 - 5000,
                2 ** 30,
                -(2 ** 30),
                2 ** 30 + 1,
                -(2 ** 30) - 1,
              ),
            },
          ),
          (values, e, length, first) => {
            const inv = pow2(-e);
            const js = new Float64Array(length).fill(3);
            const wasm = js.slice();
            const okJs = binKnownJs(values, js, inv, first);
            const okWasm = binKnownWasm(values, wasm, inv, first);
            expect(okWasm).toBe(okJs);
            expect(wasm).toEqual(js);
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  it.skipIf(!status.available)("fold adds up each bin's four counters and zeroes them (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: HISTOGRAM_MAX_BINS }),
        fc.array(fc.integer({ min: 0, max: 2 ** 28 }), {
          minLength: 4 * (HISTOGRAM_MAX_BINS + 1),
          maxLength: 4 * (HISTOGRAM_MAX_BINS + 1),
        }),
        (length, lanes) => {
          // The counters the binning kernel left: wasmBin of nothing returns them, all zero.
          const counters = wasmBin(new Float32Array(0), 1, 1, 0);
          if (counters === undefined) throw new Error('the kernels took no batch');
          counters.fill(0);
          counters.set(lanes.slice(0, 4 * length));
          const expected = Array.from({ length }, (_, b) => lanes.slice(4 * b, 4 * b + 4).reduce((x, y) => x + y, 0));
          const sums = wasmFold(length);
          expect(Array.from(sums?.subarray(0, length) ?? [])).toEqual(expected);
          // Every counter is zero again (the next binning relies on it).
          expect(counters.every((c) => c === 0)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('pow2 is exact at every normal exponent and rejects others', () => {
    const view = new DataView(new ArrayBuffer(8));
    for (let e = -1022; e <= 1023; e++) {
      view.setFloat64(0, pow2(e));
      // Sign 0, exponent field e + 1023, mantissa 0.
      expect(view.getBigUint64(0)).toBe(BigInt(e + 1023) << 52n);
    }
    for (const bad of [-1023, 1024, 0.5, Number.NaN]) expect(() => pow2(bad)).toThrow(/integer exponent/);
  });

  it.skipIf(!status.available)(
    'bin values near the first bin as float64 does, the first bin up to 2^22 from 0 and past it',
    () => {
      // Values in every bin of [first, first + length) and a few bins either side, at first bins up
      // to the float32 kernel's edge (2^22) and past it: the same counts as the JavaScript loop, and
      // each value outside a stray for both.
      for (const e of [0, -1, -20])
        for (const first of [
          0,
          -3,
          2 ** 22 - 100,
          -(2 ** 22),
          2 ** 22,
          2 ** 22 + 1,
          -(2 ** 22) - 1,
          -(2 ** 24) + 7,
          2 ** 25 + 1,
        ]) {
          const inv = pow2(-e);
          const length = 97;
          // Candidates in and around each bin (float32 rounding may move one to a neighbour), split
          // by the bin float64 gives them.
          const inside: number[] = [];
          const outside: number[] = [];
          for (let k = -3; k < length + 3; k++)
            for (const frac of [0, 0.25, 0.5, 0.999]) {
              const v = Math.fround((first + k + frac) / inv);
              const bin = Math.floor(v * inv) - first;
              (bin >= 0 && bin < length ? inside : outside).push(v);
            }
          expect(outside.length).toBeGreaterThan(4);
          const where = `width 2^${e}, first ${first}`;
          const js = new Float64Array(length);
          const wasm = new Float64Array(length);
          expect(binKnownJs(new Float32Array(inside), js, inv, first), where).toBe(true);
          expect(binKnownWasm(new Float32Array(inside), wasm, inv, first), where).toBe(true);
          expect(wasm, where).toEqual(js);
          expect(
            js.reduce((t, c) => t + c, 0),
            where,
          ).toBe(inside.length);
          for (const v of outside) {
            // A stray among 20 values inside, in the vector loop and in the tail.
            for (const pos of [5, 19]) {
              const batch = new Float32Array(inside.slice(0, 20));
              batch[pos] = v;
              expect(binKnownWasm(batch, new Float64Array(length), inv, first), `${where}, value ${v}`).toBe(false);
              expect(binKnownJs(batch, new Float64Array(length), inv, first), `${where}, value ${v}`).toBe(false);
            }
          }
        }
    },
  );

  it.skipIf(!status.available)('bin the smallest values as float64 does at the edges of the float32 kernel', () => {
    // At width 2 (inv = 1/2, the float64 kernel), -2^-149 * inv rounds to -0 in float32: bin 0
    // instead of -1. From width 1 down (the float32 kernel) the product is exact.
    const tiny = new Float32Array([-1e-45, 1e-45, -1.1754942e-38, 0, -0, -1e-45, 1e-45, -3e-45, 1e-40]);
    for (const e of [2, 1, 0, -1, -126, -127, -128]) {
      const inv = pow2(-e);
      const first = -8;
      const js = new Float64Array(16);
      const wasm = new Float64Array(16);
      expect(binKnownJs(tiny, js, inv, first), `width 2^${e}`).toBe(true);
      expect(binKnownWasm(tiny, wasm, inv, first), `width 2^${e}`).toBe(true);
      expect(wasm, `width 2^${e}`).toEqual(js);
    }
  });

  it.skipIf(!status.available)('bin batches that fit, from inside and outside their memory, into the same counts', () => {
    // A fitted range (the common case): every value lands, so the counts must add up exactly.
    const n = 100_003;
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = Math.sin(i * 0.37) * 7.5 - (i % 5 === 0 ? 0 : 1e-30);
    const e = -8; // 3841 bins
    const inv = pow2(-e);
    const first = Math.floor(-7.5 * inv);
    const length = Math.floor(7.5 * inv) - first + 1;
    const js = new Float64Array(length);
    expect(binKnownJs(values, js, pow2(-e), first)).toBe(true);
    const copied = new Float64Array(length);
    expect(binKnownWasm(values, copied, inv, first)).toBe(true);
    const view = reserveFloats(n) as Float32Array;
    view.set(values);
    const inPlace = new Float64Array(length);
    expect(binKnownWasm(view, inPlace, inv, first)).toBe(true);
    expect(copied).toEqual(js);
    expect(inPlace).toEqual(js);
    expect(js.reduce((s, c) => s + c, 0)).toBe(n);
    // One NaN among values that fit, in the four-value loop and in the tail: a stray, counts unchanged.
    for (const at of [17, n - 1]) {
      const withNaN = values.slice();
      withNaN[at] = Number.NaN;
      const untouched = new Float64Array(length);
      expect(binKnownWasm(withNaN, untouched, inv, first)).toBe(false);
      expect(binKnownJs(withNaN, untouched, inv, first)).toBe(false);
      expect(untouched.every((c) => c === 0)).toBe(true);
    }
    // A histogram wider than the counters the module holds is left to JavaScript.
    expect(binKnownWasm(values, new Float64Array(HISTOGRAM_MAX_BINS + 1), inv, first)).toBeUndefined();
  });

  type Op = (src: Float32Array, out: Float32Array, c: number, d: number) => boolean;
  const ops: { name: string; how: (c: number, d: number) => DerivedRange; run: Op }[] = [
    { name: 'add', how: (c) => ({ from: 'x', op: 'add', constant: c }), run: (s, o, c) => wasmMap('add', s, o, c) },
    { name: 'rsub', how: (c) => ({ from: 'x', op: 'rsub', constant: c }), run: (s, o, c) => wasmMap('rsub', s, o, c) },
    { name: 'mul', how: (c) => ({ from: 'x', op: 'mul', constant: c }), run: (s, o, c) => wasmMap('mul', s, o, c) },
    { name: 'div', how: (c) => ({ from: 'x', op: 'div', constant: c }), run: (s, o, c) => wasmMap('div', s, o, c) },
    // Bounds of either sign, ±0 included (which zero max and min pick matters to the bits).
    { name: 'clip', how: (c, d) => ({ from: 'x', op: 'clip', lo: c, hi: d }), run: (s, o, c, d) => wasmClamp(s, o, c, d) },
    { name: 'relu', how: () => ({ from: 'x', op: 'relu' }), run: (s, o) => wasmClamp(s, o, 0, Number.POSITIVE_INFINITY) },
  ];
  const bound = fc.oneof(float32Constant, fc.constantFrom(0, -0, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY));
  for (const op of ops) {
    it.skipIf(!status.available)(
      `${op.name} bit for bit as computeDerived on finite values, -0 and subnormals included (fast-check)`,
      () => {
        fc.assert(
          fc.property(batch, op.name === 'clip' ? bound : float32Constant, bound, (raw, c, d) => {
            // computeDerived is for finite sources (derived tensors of a sample with NaN or ±Infinity are fetched).
            const values = raw.filter((v) => Number.isFinite(v));
            const expected = new Float32Array(values.length);
            computeDerived(op.how(c, d), values, expected);
            const region = reserveFloats(2 * values.length + 1) as Float32Array;
            const src = region.subarray(0, values.length);
            const out = region.subarray(values.length, 2 * values.length);
            src.set(values);
            expect(op.run(src, out, c, d)).toBe(true);
            expect(bits(out)).toEqual(bits(expected));
          }),
          { numRuns: 200 },
        );
      },
    );
  }

  it.skipIf(!status.available)(
    'product bit for bit as computeProduct (NaN payloads aside), with the same extremes, on any float32 values (fast-check)',
    () => {
      fc.assert(
        fc.property(batch, batch, (xs, ys) => {
          const n = Math.min(xs.length, ys.length);
          const a = xs.subarray(0, n);
          const b = ys.subarray(0, n);
          const expected = new Float32Array(n);
          const extent = computeProduct(a, b, expected);
          // The reference: each product rounded once to float32, its extremes found one by one.
          const nan = expected.some((v) => Number.isNaN(v));
          for (let i = 0; i < n; i++) expect(Object.is(expected[i], Math.fround((a[i] as number) * (b[i] as number)))).toBe(true);
          const region = reserveFloats(3 * n + 1) as Float32Array;
          const [wa, wb, out] = [0, 1, 2].map((k) => region.subarray(k * n, k * n + n)) as [
            Float32Array,
            Float32Array,
            Float32Array,
          ];
          wa.set(a);
          wb.set(b);
          const got = wasmProduct(wa, wb, out);
          expect(bitsAnyNaN(out)).toEqual(bitsAnyNaN(expected));
          if (nan || n === 0) {
            expect(got?.map((v) => Number.isNaN(v))).toEqual([nan, nan]);
            expect(extent.map((v) => Number.isNaN(v))).toEqual([nan, nan]);
          } else {
            // A zero extreme may differ in sign: the range takes it as +0.
            expect(got?.map((v) => v + 0)).toEqual(extent.map((v) => v + 0));
            expect(extent[0] + 0).toBe(Math.min(...expected) + 0);
            expect(extent[1] + 0).toBe(Math.max(...expected) + 0);
          }
          // In place, into the first factor.
          expect(wasmProduct(wa, wb, wa)).toBeDefined();
          expect(bitsAnyNaN(wa)).toEqual(bitsAnyNaN(expected));
        }),
        { numRuns: 300 },
      );
      // Views of other memory, or of different lengths, are left to JavaScript.
      const region = reserveFloats(8) as Float32Array;
      expect(wasmProduct(new Float32Array(4), region.subarray(0, 4), region.subarray(4, 8))).toBeUndefined();
      expect(wasmProduct(region.subarray(0, 4), region.subarray(4, 7), region.subarray(4, 8))).toBeUndefined();
    },
  );

  it.skipIf(!status.available)('extent as computeExtent on any float32 values (fast-check)', () => {
    fc.assert(
      fc.property(batch, (values) => {
        const expected = computeExtent(values);
        const region = reserveFloats(values.length + 1) as Float32Array;
        const view = region.subarray(0, values.length);
        view.set(values);
        const got = wasmExtent(view) as [number, number];
        if (values.some((v) => Number.isNaN(v))) expect(got.map((v) => Number.isNaN(v))).toEqual([true, true]);
        else {
          // A zero extreme may differ in sign.
          expect(got.map((v) => v + 0)).toEqual(expected.map((v) => v + 0));
          if (values.length > 0) expect(expected[0] + 0).toBe(Math.min(...values) + 0);
          if (values.length > 0) expect(expected[1] + 0).toBe(Math.max(...values) + 0);
        }
      }),
      { numRuns: 300 },
    );
    expect(wasmExtent(new Float32Array(4))).toBeUndefined();
  });

  it('binWithDerived gives the same statistics with the kernels turned off (QUANTSIM_NO_WASM)', async () => {
    vi.resetModules();
    process.env.QUANTSIM_NO_WASM = '1';
    let off: typeof import('../src/calibrate/derived-values.js');
    let offStats: typeof import('../src/calibrate/stats.js');
    try {
      off = await import('../src/calibrate/derived-values.js');
      offStats = await import('../src/calibrate/stats.js');
      const offKernels = await import('../src/calibrate/kernels.js');
      expect(offKernels.wasmKernelsStatus()).toEqual({ available: false, reason: 'turned off by QUANTSIM_NO_WASM' });
    } finally {
      delete process.env.QUANTSIM_NO_WASM;
      vi.resetModules();
    }
    // A hardswish-like chain and its product, what follows from the product, a second branch, a
    // reordering (identity), a product that overflows and a non-float32 constant.
    const chain: { tensor: string; how: DerivedRange | ProductOf }[] = [
      { tensor: 'plus3', how: { from: 'x', op: 'add', constant: 3 } },
      { tensor: 'clipped', how: { from: 'plus3', op: 'clip', lo: 0, hi: 6 } },
      { tensor: 'gate', how: { from: 'clipped', op: 'div', constant: 6 } },
      { tensor: 'hswish', how: { op: 'product', from: 'x', other: 'gate' } },
      { tensor: 'hswishHalf', how: { from: 'hswish', op: 'mul', constant: 0.5 } },
      { tensor: 'huge', how: { from: 'hswishHalf', op: 'mul', constant: 1e37 } },
      { tensor: 'hugeSquare', how: { op: 'product', from: 'huge', other: 'huge' } },
      { tensor: 'hugeSquareHalf', how: { from: 'hugeSquare', op: 'mul', constant: 0.5 } },
      { tensor: 'moved', how: { from: 'gate', op: 'identity' } },
      { tensor: 'neg', how: { from: 'x', op: 'mul', constant: -2 } },
      { tensor: 'relu', how: { from: 'neg', op: 'relu' } },
      { tensor: 'flipped', how: { from: 'relu', op: 'rsub', constant: 1 } },
      // Several buffers in use at once while x waits for its last read (buffers are reused).
      { tensor: 'flippedPlus', how: { from: 'flipped', op: 'add', constant: 1 } },
      { tensor: 'flippedSquare', how: { op: 'product', from: 'flippedPlus', other: 'flipped' } },
      { tensor: 'flippedDouble', how: { from: 'flippedSquare', op: 'mul', constant: 2 } },
      { tensor: 'minus', how: { from: 'x', op: 'sub', constant: 0.25 } },
    ];
    const oddConstant: { tensor: string; how: DerivedRange } = {
      tensor: 'third',
      how: { from: 'x', op: 'mul', constant: 1 / 3 },
    };
    const rangeOf = (v: Float32Array): KnownRange => {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const x of v) {
        if (x < min) min = x;
        if (x > max) max = x;
      }
      return { min, max };
    };
    const run = (
      bin: typeof binWithDerived,
      create: typeof createStatsAccumulator,
      batches: Float32Array[],
      links: { tensor: string; how: DerivedRange | ProductOf }[],
    ) => {
      const accs = new Map<string, StatsAccumulator>();
      const acc = (t: string) => {
        const a = accs.get(t) ?? create({ histogram: true });
        accs.set(t, a);
        return a;
      };
      for (const [b, values] of batches.entries()) {
        // The source's range as the statistics graph gives it, left out on every third batch.
        const derived: DerivedValues[] = links.map((l) => ({ tensor: l.tensor, how: l.how }));
        bin(acc, 'x', values, b % 3 === 2 ? undefined : rangeOf(values), derived);
      }
      return Object.fromEntries([...accs].map(([t, a]) => [t, a.toStats()]));
    };
    const batches = Array.from({ length: 7 }, (_, b) => {
      const v = new Float32Array(5000 + b);
      for (let i = 0; i < v.length; i++) v[i] = Math.sin(i * 0.11 + b) * (b + 1) * 4 + (i % 7 === 0 ? -0 : 0);
      return v;
    });
    for (const links of [chain, [...chain, oddConstant]]) {
      const on = run(binWithDerived, createStatsAccumulator, batches, links);
      const offResult = run(off.binWithDerived, offStats.createStatsAccumulator, batches, links);
      expect(Object.keys(on).length).toBe(links.length + 1);
      expect(on).toEqual(offResult);
      // Computed here from every element, the checked way: the same statistics.
      const reference = new Map<string, StatsAccumulator>();
      for (const values of batches) {
        const live = new Map([['x', values]]);
        const add = (t: string, v: Float32Array) => {
          const a = reference.get(t) ?? createStatsAccumulator({ histogram: true });
          reference.set(t, a);
          a.add(v);
        };
        add('x', values);
        for (const l of links) {
          const out = new Float32Array(values.length);
          const src = live.get(l.how.from) as Float32Array;
          if (l.how.op === 'product') computeProduct(src, live.get(l.how.other) as Float32Array, out);
          else computeDerived(l.how, src, out);
          live.set(l.tensor, out);
          add(l.tensor, out);
        }
      }
      expect(on).toEqual(Object.fromEntries([...reference].map(([t, a]) => [t, a.toStats()])));
      expect(on.hugeSquare?.nonFinite).toBeGreaterThan(0);
      expect(on.hugeSquareHalf?.nonFinite).toBe(on.hugeSquare?.nonFinite);
    }
  });

  it.skipIf(!status.available)(
    'binWithDerived reuses buffers without losing values: chains of any shape bin as every element does (fast-check)',
    () => {
      // Each link takes an earlier tensor (or two, for a product) at random, so that values wait
      // for late reads while other buffers are taken and given back.
      const link = fc.record({
        op: fc.constantFrom('add', 'mul', 'clip', 'identity', 'product', 'rsub'),
        from: fc.nat(),
        other: fc.nat(),
        constant: fc.constantFrom(0.5, -1.5, 3, 0.25),
      });
      fc.assert(
        fc.property(fc.array(link, { minLength: 1, maxLength: 14 }), fc.integer({ min: 1, max: 700 }), (shape, n) => {
          const names = ['x'];
          const links: DerivedValues[] = shape.map((l, j) => {
            const from = names[l.from % names.length] as string;
            const other = names[l.other % names.length] as string;
            const tensor = `t${j}`;
            names.push(tensor);
            if (l.op === 'product') return { tensor, how: { op: 'product', from, other } };
            if (l.op === 'clip') return { tensor, how: { from, op: 'clip', lo: -1, hi: 2 } };
            if (l.op === 'identity') return { tensor, how: { from, op: 'identity' } };
            return { tensor, how: { from, op: l.op as 'add' | 'mul' | 'rsub', constant: l.constant } };
          });
          const values = new Float32Array(n).map((_, i) => Math.sin(i * 0.37 + n) * 3);
          const accs = new Map<string, StatsAccumulator>();
          const acc = (t: string) => {
            const a = accs.get(t) ?? createStatsAccumulator({ histogram: true });
            accs.set(t, a);
            return a;
          };
          binWithDerived(acc, 'x', values, undefined, links);
          const live = new Map([['x', values]]);
          const expected: Record<string, unknown> = { x: statsOf(values) };
          for (const l of links) {
            const out = new Float32Array(n);
            const src = live.get(l.how.from) as Float32Array;
            if (l.how.op === 'product') computeProduct(src, live.get(l.how.other) as Float32Array, out);
            else computeDerived(l.how, src, out);
            live.set(l.tensor, out);
            expected[l.tensor] = statsOf(out);
          }
          expect(Object.fromEntries([...accs].map(([t, a]) => [t, a.toStats()]))).toEqual(expected);
        }),
        { numRuns: 150 },
      );
    },
  );

  it.skipIf(!status.available)('map only views of their own memory', () => {
    const outside = new Float32Array(8);
    const region = reserveFloats(8) as Float32Array;
    expect(wasmMap('add', outside, region, 1)).toBe(false);
    expect(wasmClamp(region, outside, 0, 1)).toBe(false);
  });
});
