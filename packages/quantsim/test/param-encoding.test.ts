import { defaultSchemes } from '@quantsim/plugins';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test-support/random.js';
import {
  type EncodingScheme,
  encodingFromStats,
  type HistogramData,
  histogramQuantile,
  histogramQuantiles,
  ModelBuilder,
  paramEncoding,
  paramStats,
  quant,
  statsFromValues,
  type TensorStats,
} from '../src/index.js';

/** histogramQuantile as it was first written: the total, then one walk from the lowest bin. */
function referenceQuantile(hist: HistogramData, fraction: number, min: number, max: number): number {
  const counts = hist.counts;
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  const w = 2 ** hist.log2Width;
  const target = fraction * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (c === 0) continue;
    if (cumulative + c >= target) {
      const left = Math.max((hist.first + i) * w, min);
      const right = Math.min((hist.first + i + 1) * w, max);
      const t = Math.min(1, Math.max(0, (target - cumulative) / c));
      return Math.min(max, Math.max(min, left + t * (right - left)));
    }
    cumulative += c;
  }
  return max;
}

/** Conv weights [6, 4, 3, 3] (channels on axis 0) and a MatMul weight [20, 7] (channels on the last axis). */
function convThenMatMul(seed: number) {
  const rand = seededRandom(seed);
  const w = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => (rand() - 0.5) * scale * (rand() < 0.05 ? 8 : 1));
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 4, 6, 6]);
  b.initializer('w1', [6, 4, 3, 3], w(6 * 4 * 9, 2));
  b.initializer('b1', [6], w(6, 1));
  b.initializer('shape', [2], [1, -1], 'int64');
  b.initializer('w2', [6 * 4 * 4, 7], w(96 * 7, 0.5));
  const h = b.node('Conv', [x, 'w1', 'b1'], { name: 'conv' });
  const r = b.node('Relu', [h], { name: 'relu' });
  const f = b.node('Reshape', [r, 'shape'], { name: 'flat' });
  b.output(b.node('MatMul', [f, 'w2'], { name: 'fc', outputs: ['y'] }), 'float32', [1, 7]);
  return b.build();
}

/** One Conv with `channels` output channels (weights [channels, 3, 3, 3]). */
function wideConv(seed: number, channels: number) {
  const rand = seededRandom(seed);
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 3, 5, 5]);
  b.initializer(
    'w',
    [channels, 3, 3, 3],
    Float32Array.from({ length: channels * 27 }, () => (rand() - 0.5) * (1 + rand() * 4)),
  );
  b.output(b.node('Conv', [x, 'w'], { name: 'conv', outputs: ['y'] }), 'float32', [1, channels, 3, 3]);
  return b.build();
}

describe('parameter encodings, channel by channel', () => {
  it('a scheme that keeps the statistics it is given (no transientStats) keeps them intact; one that throws leaves nothing behind', async () => {
    const model = wideConv(21, 75); // three groups of channels
    const data = [{ x: { data: new Float32Array(75).fill(0.5), dims: [1, 3, 5, 5] } }];
    const sim = await quant(model).scheme('percentile').biasCorrection(false).perChannel().calibrate(data);
    try {
      const q = sim.plan.quantizers.find((p) => p.kind === 'param' && p.tensor === 'w' && p.enabled);
      if (!q) throw new Error('no weight quantizer');
      const percentile = defaultSchemes.find((d) => d.name === 'percentile');
      if (!percentile?.transientStats) throw new Error('the built-in percentile scheme should say transientStats');
      const kept: TensorStats[] = [];
      const keeping: EncodingScheme = {
        name: 'keeping',
        statistics: 'histogram',
        compute: (stats, spec) => {
          kept.push(stats);
          return percentile.compute(stats, spec);
        },
      };
      const want = paramEncoding(sim.prepared, q, percentile);
      expect(paramEncoding(sim.prepared, q, keeping)).toEqual(want);
      const own = paramStats(sim.prepared, q, percentile).channels ?? [];
      expect(kept.length).toBe(75);
      kept.forEach((s, c) => {
        const { nonEmpty: _listed, ...h } = s.histogram as HistogramData;
        expect({ ...s, histogram: { ...h, counts: Array.from(h.counts) } }, `channel ${c}`).toEqual({
          ...own[c],
          histogram: { ...(own[c]?.histogram as HistogramData), counts: Array.from(own[c]?.histogram?.counts ?? []) },
        });
      });
      let calls = 0;
      const throwing: EncodingScheme = {
        ...percentile,
        name: 'throwing',
        compute: (stats, spec) => {
          if (++calls === 40) throw new Error('scheme failed');
          return percentile.compute(stats, spec);
        },
      };
      expect(() => paramEncoding(sim.prepared, q, throwing)).toThrow('scheme failed');
      // The shared histogram memory was zeroed again: the next encodings are unchanged.
      expect(paramEncoding(sim.prepared, q, percentile)).toEqual(want);
      expect(sim.encodings.get(q.id)).toEqual(want);
    } finally {
      await sim.release();
    }
  });

  it('histogramQuantiles gives what one walk from the lowest bin gives, bit for bit (fast-check)', () => {
    const counts = fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 1000 }) },
        { weight: 1, arbitrary: fc.double({ min: 0, max: 50, noNaN: true }) },
      ),
      { minLength: 1, maxLength: 300 },
    );
    const fraction = fc.oneof(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(0, 1, 0.5, 1e-4, 1 - 1e-4, 0.9999, 0.99999),
    );
    fc.assert(
      fc.property(
        counts,
        fc.array(fraction, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: -12, max: 4 }),
        fc.integer({ min: -500, max: 500 }),
        (c, fractions, e, first) => {
          if (c.every((x) => x === 0)) (c as number[])[0] = 1;
          const hist: HistogramData = { log2Width: e, first, counts: Float64Array.from(c) };
          const min = first * 2 ** e;
          const max = (first + c.length) * 2 ** e;
          const got = histogramQuantiles(hist, fractions, min, max);
          fractions.forEach((f, i) => {
            const want = referenceQuantile(hist, f, min, max);
            expect(Object.is(got[i], want), `fraction ${f}: ${got[i]} vs ${want}`).toBe(true);
            expect(Object.is(histogramQuantile(hist, f, min, max), want)).toBe(true);
          });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('per-channel statistics along any axis are each channel’s own statistics (channel-major gather)', () => {
    const rand = seededRandom(5);
    const dims = [3, 5, 4, 2];
    const n = dims.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: n }, () => (rand() - 0.3) * 10);
    values[7] = -0;
    for (const axis of [0, 1, 2, 3, -1]) {
      const a = axis < 0 ? axis + dims.length : axis;
      const stats = statsFromValues(values, { histogram: true, axis, dims });
      const outer = dims.slice(0, a).reduce((x, y) => x * y, 1);
      const inner = dims.slice(a + 1).reduce((x, y) => x * y, 1);
      const channels = dims[a] as number;
      for (let c = 0; c < channels; c++) {
        const own: number[] = [];
        for (let o = 0; o < outer; o++)
          for (let i = 0; i < inner; i++) own.push(values[(o * channels + c) * inner + i] as number);
        expect(stats.channels?.[c], `axis ${axis} channel ${c}`).toEqual(
          statsFromValues(Float32Array.from(own), { histogram: true }),
        );
      }
    }
  });

  it('paramEncoding equals encodingFromStats over paramStats for every scheme, per channel on axis 0 and on the last axis', async () => {
    const model = convThenMatMul(3);
    const data = [0, 1, 2].map((i) => {
      const rand = seededRandom(10 + i);
      return { x: { data: Float32Array.from({ length: 4 * 36 }, () => rand() * 2 - 1), dims: [1, 4, 6, 6] } };
    });
    for (const scheme of ['minmax', 'percentile', 'tf-enhanced', 'mse', 'entropy']) {
      for (const perChannel of [true, false]) {
        const b = quant(model).scheme(scheme).biasCorrection(false);
        const sim = await (perChannel ? b.perChannel() : b.perTensor()).calibrate(data);
        try {
          const params = sim.plan.quantizers.filter((q) => q.kind === 'param' && q.enabled && q.dtype !== 'float');
          const axes = params.filter((q) => q.tensor.startsWith('w')).map((q) => q.perChannelAxis);
          expect(axes.sort()).toEqual(perChannel ? [0, 1] : [undefined, undefined]);
          for (const q of params) {
            const s = defaultSchemes.find((d) => d.name === q.scheme);
            if (!s) throw new Error(`no scheme ${q.scheme}`);
            const direct = encodingFromStats(q, paramStats(sim.prepared, q, s), s);
            expect(paramEncoding(sim.prepared, q, s), `${scheme} ${q.id}`).toEqual(direct);
            expect(sim.encodings.get(q.id), `${scheme} ${q.id}`).toEqual(direct);
          }
        } finally {
          await sim.release();
        }
      }
    }
  });
});
