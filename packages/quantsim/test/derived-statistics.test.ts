import { CpuBackend } from '@quantsim/backends';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test-support/random.js';
import {
  type Backend,
  buildStatisticsGraph,
  type CalibrationStats,
  computeDerived,
  computeProduct,
  createStatsAccumulator,
  float,
  loadModel,
  ModelBuilder,
  quant,
  type TensorStats,
} from '../src/index.js';

/**
 * Chains of monotone ops with scalar constants (derived in the statistics graph) and ops that are
 * not (reduced): the decomposed hardswish, Sub both ways, Mul by a negative constant first, Relu,
 * Transpose, Div, Clip with one bound or none, a Mul that overflows to infinity, and operands that
 * rule derivation out (two activations, a zero, a two-element constant, c / x, Sigmoid). Products
 * of two activations (computed from their factors for histograms, reduced otherwise): the
 * hardswish's, `x ⊙ (x + 3)` (which overflows), `4x ⊙ gate` (−∞ · 0 = NaN where
 * x < -8.5e37), and two that are not computed: factors reordered apart (Transpose) and factors of
 * different sources.
 */
function chain(opset: number) {
  const b = new ModelBuilder({ opset });
  b.input('x', 'float32', [2, 3, 8]);
  b.initializer('three', [1], [3]);
  b.constant('six', [], [6]);
  b.constant('zero', [], [0]);
  b.initializer('half', [1, 1, 1], [0.5]);
  b.initializer('neg2', [], [-2]);
  b.initializer('negThird', [1], [-1 / 3]);
  b.initializer('one', [1], [1]);
  b.initializer('huge', [1], [1e37]);
  b.initializer('four', [1], [4]);
  b.initializer('pair', [2, 1, 1], [1, 2]);
  b.initializer('shape', [2], [6, 8], 'int64');
  b.node('Add', ['x', 'three'], { outputs: ['plus3'] });
  if (opset >= 11) b.node('Clip', ['plus3', 'zero', 'six'], { outputs: ['clipped'] });
  else b.node('Clip', ['plus3'], { outputs: ['clipped'], attrs: { min: float(0), max: float(6) } });
  b.node('Div', ['clipped', 'six'], { outputs: ['gate'] });
  b.node('Mul', ['x', 'gate'], { outputs: ['hswish'] }); // two activations: reduced
  b.node('Sub', ['hswish', 'half'], { outputs: ['minusHalf'] });
  b.node('Sub', ['one', 'minusHalf'], { outputs: ['oneMinus'] });
  b.node('Mul', ['neg2', 'oneMinus'], { outputs: ['times'] });
  b.node('Relu', ['times'], { outputs: ['relu'] });
  b.node('Transpose', ['relu'], { outputs: ['moved'], attrs: { perm: [2, 0, 1] } });
  b.node('Div', ['moved', 'negThird'], { outputs: ['divided'] });
  b.node('Sigmoid', ['divided'], { outputs: ['sig'] }); // not monotone-derivable: reduced
  b.node('Add', ['sig', 'moved'], { outputs: ['sum'] }); // two activations: reduced
  b.node('Reshape', ['sum', 'shape'], { outputs: ['flat'] });
  b.node('Mul', ['x', 'huge'], { outputs: ['overflow'] }); // infinite where |x| > 34
  b.node('Div', ['overflow', 'six'], { outputs: ['overflowScaled'] });
  b.node('Mul', ['x', 'zero'], { outputs: ['zeroed'] }); // a zero constant: reduced
  b.node('Add', ['x', 'pair'], { outputs: ['paired'] }); // two elements: reduced
  b.node('Div', ['six', 'sum'], { outputs: ['inverse'] }); // c / x: reduced
  b.node('Mul', ['x', 'plus3'], { outputs: ['sq'] });
  b.node('Mul', ['sq', 'half'], { outputs: ['sqHalf'] });
  b.node('Mul', ['moved', 'divided'], { outputs: ['movedSq'] }); // a factor of a Transpose: reduced
  b.node('Mul', ['paired', 'x'], { outputs: ['mixed'] }); // factors of two sources: reduced
  if (opset >= 11) {
    b.node('Clip', ['x', 'zero'], { outputs: ['lower'] });
    b.node('Clip', ['x', '', 'six'], { outputs: ['upper'] });
  } else {
    b.node('Clip', ['x'], { outputs: ['lower'], attrs: { min: float(0) } });
    b.node('Clip', ['x'], { outputs: ['upper'], attrs: { max: float(6) } });
  }
  b.node('Mul', ['x', 'four'], { outputs: ['x4'] }); // infinite where |x| > 8.5e37
  b.node('Mul', ['x4', 'gate'], { outputs: ['gated'] });
  b.node('Relu', ['gated'], { outputs: ['gatedRelu'] });
  for (const o of [
    'flat',
    'overflowScaled',
    'zeroed',
    'paired',
    'inverse',
    'lower',
    'upper',
    'sqHalf',
    'movedSq',
    'mixed',
    'gatedRelu',
  ])
    b.output(o);
  return b.build();
}

const DERIVED = ['plus3', 'clipped', 'gate', 'minusHalf', 'oneMinus', 'times', 'relu', 'moved', 'divided', 'flat'];
const DERIVED_OVERFLOW = ['overflow', 'overflowScaled', 'lower', 'upper', 'sqHalf', 'x4', 'gatedRelu'];
const REDUCED = ['hswish', 'sig', 'sum', 'zeroed', 'paired', 'inverse', 'sq', 'movedSq', 'mixed', 'gated'];

/**
 * Random samples with negatives, zeros of both signs and tiny values; with `huge`, values near the
 * float32 limits too (which overflow to infinity in several tensors); NaN in sample `nan`.
 */
function samples(count: number, seed: number, { huge = false, nan = -1 } = {}) {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, s) => {
    const data = new Float32Array(48);
    for (let i = 0; i < data.length; i++) {
      const r = random();
      data[i] =
        r < 0.1
          ? -0
          : r < 0.15
            ? 0
            : r < 0.2 && huge
              ? (random() - 0.5) * 6.8e38
              : r < 0.25
                ? (random() - 0.5) * 1e-40
                : (random() - 0.5) * 8 * (1 + s / 2);
    }
    if (s === nan) data[7] = Number.NaN;
    return { x: { data, dims: [2, 3, 8] } };
  });
}

/** The samples with one element set to -1e38 (finite, but not 4 times it). */
function oneLarge(data: ReturnType<typeof samples>): ReturnType<typeof samples> {
  return data.map(({ x }) => {
    const values = x.data.slice();
    values[5] = -1e38;
    return { x: { data: values, dims: x.dims } };
  });
}

/** Count, range and non-finite count of every tensor, with -0 as +0. */
function ranges(stats: CalibrationStats): Record<string, number[]> {
  return Object.fromEntries(Object.entries(stats.tensors).map(([t, s]) => [t, [s.min + 0, s.max + 0, s.count, s.nonFinite]]));
}

/** The same, computed here from every element of every requested tensor. */
async function everyElement(
  model: ReturnType<typeof chain>,
  tensors: readonly string[],
  data: ReturnType<typeof samples>,
): Promise<Record<string, number[]>> {
  const whole = buildStatisticsGraph(
    model,
    tensors.map((tensor) => ({ tensor, full: true })),

    { derive: false },
  );
  const session = await new CpuBackend().createSession(whole.model.toBytes(), { mode: 'float' });
  const expected: Record<string, [number, number, number, number]> = {};
  try {
    for (const feeds of data) {
      const computed = tensors.filter((t) => t !== 'x');
      const out = await session.run({ x: { type: 'float32', ...feeds.x } } as never, computed);
      for (const t of tensors) {
        const values = (t === 'x' ? feeds.x.data : out[t]?.data) as Float32Array;
        let [min, max, count, nonFinite] = expected[t] ?? [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 0];
        for (const v of values) {
          if (!Number.isFinite(v)) nonFinite++;
          else {
            if (v < min) min = v + 0;
            if (v > max) max = v + 0;
            count++;
          }
        }
        expected[t] = [min, max, count, nonFinite];
      }
    }
  } finally {
    await session.release();
  }
  return expected;
}

/** Every requested tensor's statistics with histograms, binned here the checked way from every element. */
async function everyHistogram(
  model: ReturnType<typeof chain>,
  tensors: readonly string[],
  data: ReturnType<typeof samples>,
): Promise<Record<string, TensorStats>> {
  const whole = buildStatisticsGraph(
    model,
    tensors.map((tensor) => ({ tensor, full: true })),
    { derive: false },
  );
  const session = await new CpuBackend().createSession(whole.model.toBytes(), { mode: 'float' });
  const accumulators = new Map(tensors.map((t) => [t, createStatsAccumulator({ histogram: true })]));
  try {
    for (const feeds of data) {
      const out = await session.run(
        { x: { type: 'float32', ...feeds.x } } as never,
        tensors.filter((t) => t !== 'x'),
      );
      for (const t of tensors) accumulators.get(t)?.add((t === 'x' ? feeds.x.data : out[t]?.data) as Float32Array);
    }
  } finally {
    await session.release();
  }
  return Object.fromEntries([...accumulators].map(([t, a]) => [t, a.toStats()]));
}

/** Statistics as plain comparable data: -0 as +0, histograms as arrays. */
function plain(tensors: Readonly<Record<string, TensorStats>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(tensors).map(([t, s]) => [
      t,
      {
        count: s.count,
        min: s.min + 0,
        max: s.max + 0,
        nonFinite: s.nonFinite,
        histogram: s.histogram && { ...s.histogram, counts: Array.from(s.histogram.counts) },
      },
    ]),
  );
}

describe('derived statistics (monotone ops with scalar constants)', () => {
  for (const opset of [9, 13])
    it(`the statistics graph reduces only what it cannot derive (opset ${opset})`, async () => {
      const model = chain(opset);
      const tensors = [...DERIVED, ...DERIVED_OVERFLOW, ...REDUCED];
      const requests = ['x', ...tensors].map((tensor) => ({ tensor, full: false }));
      const built = buildStatisticsGraph(model, requests);
      const plain = buildStatisticsGraph(model, requests, { derive: false });
      const derived = new Map(built.outputs.map((o) => [o.tensor, o.derived]));
      for (const t of [...DERIVED, ...DERIVED_OVERFLOW]) expect(derived.get(t), t).toBeDefined();
      for (const t of ['x', ...REDUCED]) expect(derived.get(t), t).toBeUndefined();
      expect(derived.get('oneMinus')).toEqual({ from: 'minusHalf', op: 'rsub', constant: 1 });
      expect(derived.get('times')).toEqual({ from: 'oneMinus', op: 'mul', constant: -2 });
      expect(derived.get('lower')).toEqual({ from: 'x', op: 'clip', lo: 0 });
      const reductions = (m: typeof built) => (m.model.proto.graph?.node ?? []).filter((n) => n.opType === 'ReduceMin').length;
      expect(built.packed?.count).toBe(1 + REDUCED.length);
      expect(reductions(built)).toBe(1 + REDUCED.length);
      expect(reductions(plain)).toBe(requests.length);
      // A tensor that is not requested breaks the chain: its consumers are reduced.
      const partial = buildStatisticsGraph(
        model,
        ['x', 'clipped', 'gate'].map((tensor) => ({ tensor, full: false })),
      );
      expect(partial.outputs.map((o) => o.derived?.from)).toEqual([undefined, undefined, 'clipped']);
    });

  for (const opset of [9, 13])
    it(`calibration gives the range, count and non-finite count of every element (opset ${opset})`, async () => {
      const model = chain(opset);
      const job = await quant(model).scheme('minmax').statisticsJob();
      const requested = job.requests.map((r) => r.tensor);
      const built = buildStatisticsGraph(await loadModel(job.model), job.requests);
      expect(built.outputs.filter((o) => o.derived).length).toBeGreaterThan(5);
      const clean = samples(6, 11 + opset);
      const stats = await quant(model).scheme('minmax').collectStats(clean);
      expect(ranges(stats)).toEqual(await everyElement(model, requested, clean));
      expect(stats.tensors.overflow?.nonFinite).toBe(0);
      // Values near the float32 limits: infinities where a product overflows, counted with 'ignore'.
      const huge = samples(6, 3 + opset, { huge: true });
      const overflowed = await quant(model).scheme('minmax').collectStats(huge, { nonFinite: 'ignore' });
      expect(ranges(overflowed)).toEqual(await everyElement(model, requested, huge));
      expect(overflowed.tensors.overflow?.nonFinite).toBeGreaterThan(0);
      expect(overflowed.tensors.overflowScaled?.nonFinite).toBe(overflowed.tensors.overflow?.nonFinite);
      // A NaN in one sample: counted with 'ignore', reported with 'error'.
      const bad = samples(4, 5 + opset, { nan: 2 });
      const ignored = await quant(model).scheme('minmax').collectStats(bad, { nonFinite: 'ignore' });
      expect(ranges(ignored)).toEqual(await everyElement(model, requested, bad));
      expect(ignored.tensors.gate?.nonFinite).toBe(1);
      await expect(quant(model).scheme('minmax').collectStats(bad)).rejects.toThrow(
        /holds NaN or infinite values in calibration sample 2/,
      );
    });

  for (const opset of [9, 13])
    it(`histogram schemes compute derived whole tensors from their sources and bin within derived ranges: the histograms of every element (opset ${opset})`, async () => {
      const model = chain(opset);
      const job = await quant(model).scheme('percentile').statisticsJob();
      const requested = job.requests.map((r) => r.tensor);
      expect(job.requests.every((r) => r.full)).toBe(true);
      const built = buildStatisticsGraph(await loadModel(job.model), job.requests);
      // Whole tensors derived from whole tensors, and products of two computed from one: computed
      // in JavaScript, neither outputs nor reduced.
      const computed = built.outputs.filter((o) => o.computed);
      expect(computed.length).toBeGreaterThan(5);
      expect(
        computed.every(
          (o) => (o.derived !== undefined) !== (o.product !== undefined) && o.values === undefined && o.index === undefined,
        ),
      ).toBe(true);
      expect(Object.fromEntries(computed.flatMap((o) => (o.product ? [[o.tensor, o.product]] : [])))).toEqual({
        hswish: { op: 'product', from: 'x', other: 'gate' },
        sq: { op: 'product', from: 'x', other: 'plus3' },
        gated: { op: 'product', from: 'x4', other: 'gate' },
      });
      for (const t of ['movedSq', 'mixed']) expect(built.outputs.find((o) => o.tensor === t)?.index, t).toBeDefined();
      // A product with a derived tensor that is only reduced (a minmax layer, say) is reduced too:
      // that tensor's range needs the product's in the main thread.
      const mixedSchemes = buildStatisticsGraph(
        await loadModel(job.model),
        job.requests.map((r) => (r.tensor === 'oneMinus' ? { ...r, full: false } : r)),
      );
      const hswish = mixedSchemes.outputs.find((o) => o.tensor === 'hswish');
      expect(hswish?.product).toBeUndefined();
      expect(hswish?.index).toBeDefined();
      expect(mixedSchemes.outputs.find((o) => o.tensor === 'sq')?.product).toBeDefined();
      // Without ranges of whole tensors (calibration under 'error'), only those that a reduced
      // request derives from are reduced.
      const unranged = buildStatisticsGraph(await loadModel(job.model), job.requests, { wholeRanges: false });
      expect(unranged.outputs.filter((o) => o.index !== undefined).map((o) => o.tensor)).toEqual([]);
      expect(unranged.outputs.filter((o) => o.values).length).toBe(built.outputs.filter((o) => o.values).length);
      const unrangedMixed = buildStatisticsGraph(
        await loadModel(job.model),
        job.requests.map((r) => (r.tensor === 'oneMinus' ? { ...r, full: false } : r)),
        { wholeRanges: false },
      );
      expect(unrangedMixed.outputs.filter((o) => o.index !== undefined).map((o) => o.tensor)).toEqual(['hswish']);
      // A NaN under 'error': the binning reports it, with its sample.
      await expect(
        quant(model)
          .scheme('percentile')
          .collectStats(samples(4, 29 + opset, { nan: 2 })),
      ).rejects.toThrow(/Tensor 'x' holds NaN or infinite values in calibration sample 2/);
      const outputs = new Set((built.model.proto.graph?.output ?? []).map((o) => o.name));
      for (const o of computed) expect(outputs.has(o.tensor), o.tensor).toBe(false);
      // The tensors each run fetches: a product whose factors are not all finite in a sample (4x
      // overflows in the huge samples) is fetched with what follows from it, as what Clip or Relu
      // make of ∞ · 0 = NaN depends on the backend; otherwise products are computed.
      const fetched: string[] = [];
      const cpu = new CpuBackend();
      const recording: Backend = {
        name: 'recording',
        capabilities: cpu.capabilities,
        probe: () => cpu.probe(),
        createSession: async (bytes, options) => {
          const session = await cpu.createSession(bytes, options);
          return {
            inputNames: session.inputNames,
            outputNames: session.outputNames,
            run: (feeds, names) => {
              fetched.push(...(names ?? []));
              return session.run(feeds, names);
            },
            release: () => session.release(),
          };
        },
      };
      for (const [data, options, productsFetched] of [
        [samples(6, 21 + opset), {}, false],
        [samples(6, 23 + opset, { huge: true }), { nonFinite: 'ignore' as const }, true],
        [samples(4, 25 + opset, { nan: 2 }), { nonFinite: 'ignore' as const }, true],
        // One large value: x and its sum stay finite, 4x does not.
        [oneLarge(samples(4, 27 + opset)), { nonFinite: 'ignore' as const }, true],
      ] as const) {
        fetched.length = 0;
        const stats = await quant(model).backend(recording).scheme('percentile').collectStats(data, options);
        expect(plain(stats.tensors)).toEqual(plain(await everyHistogram(model, requested, data)));
        expect(fetched.includes('gated') && fetched.includes('gatedRelu')).toBe(productsFetched);
      }
    });

  for (const opset of [9, 13])
    it(`computes derived values exactly as ONNX Runtime's float32 ops do, element by element (opset ${opset})`, async () => {
      const model = chain(opset);
      const job = await quant(model).scheme('percentile').statisticsJob();
      const built = buildStatisticsGraph(await loadModel(job.model), job.requests);
      const computed = built.outputs.filter((o) => o.computed);
      const tensors = [
        ...new Set(
          computed.flatMap((o) => [o.tensor, ...(o.product ? [o.product.from, o.product.other] : [o.derived?.from as string])]),
        ),
      ];
      const exposed = buildStatisticsGraph(
        model,
        tensors.map((tensor) => ({ tensor, full: true })),
        { derive: false },
      );
      const session = await new CpuBackend().createSession(exposed.model.toBytes(), { mode: 'float' });
      let compared = 0;
      try {
        for (const feeds of [...samples(4, 31 + opset), ...samples(4, 37 + opset, { huge: true })]) {
          const out = await session.run(
            { x: { type: 'float32', ...feeds.x } } as never,
            tensors.filter((t) => t !== 'x'),
          );
          const value = (t: string) => (t === 'x' ? feeds.x.data : out[t]?.data) as Float32Array;
          for (const o of computed) {
            const want = value(o.tensor);
            const got = new Float32Array(want.length);
            if (o.product) computeProduct(value(o.product.from), value(o.product.other), got);
            else {
              const how = o.derived as NonNullable<typeof o.derived>;
              if (how.op === 'identity') continue; // the same multiset, reordered (no arithmetic)
              computeDerived(how, value(how.from), got);
            }
            // Bit for bit, but for the sign of zero (one histogram bin either way).
            for (let i = 0; i < want.length; i++) {
              const a = (want[i] as number) + 0;
              const b = (got[i] as number) + 0;
              if (!Object.is(a, b)) expect(`${o.tensor}[${i}] = ${b}`).toBe(`${o.tensor}[${i}] = ${a}`);
            }
            compared += want.length;
          }
        }
      } finally {
        await session.release();
      }
      expect(compared).toBeGreaterThan(1000);
    });
});
