import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  computeGrid,
  equalizeModel,
  float,
  inputChannelRanges,
  loadModel,
  type Model,
  ModelBuilder,
  outputChannelRanges,
  quant,
  roundHalfEven,
} from '../src/index.js';

const EPS32 = 2 ** -23;
const out = mkdtempSync(path.join(tmpdir(), 'quantsim-ptq-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A deterministic uniform generator in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Weights whose output channels have very different ranges (what CLE is for). */
function weights(rand: () => number, dims: readonly number[], spread = 1): Float32Array {
  const row = dims.slice(1).reduce((a, b) => a * b, 1);
  return Float32Array.from(
    { length: (dims[0] ?? 0) * row },
    (_, i) => (rand() - 0.5) * 2 ** (spread * ((Math.floor(i / row) % 5) - 2)),
  );
}

function input(rand: () => number, dims: readonly number[], offset = 0): { x: { data: Float32Array; dims: number[] } } {
  const n = dims.reduce((a, b) => a * b, 1);
  return { x: { data: Float32Array.from({ length: n }, () => rand() * 2 - 1 + offset), dims: [...dims] } };
}

async function floatOutput(model: Model, feeds: ReturnType<typeof input>): Promise<Float32Array> {
  const sim = await quant(model).foldBatchNorms(false).simulate();
  try {
    return (await sim.runFloat(feeds)).y?.data as Float32Array;
  } finally {
    await sim.release();
  }
}

/** The largest |a − b| over the largest |a|. */
function relativeDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
    m = Math.max(m, Math.abs(a[i] as number));
  }
  return d / m;
}

/** Conv(3→8, 3×3) → act → Conv(8→6, 3×3); returns the model and the accumulation depth. */
function convPair(act: string | undefined, seed = 1) {
  const rand = random(seed);
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 3, 8, 8]);
  b.initializer('w1', [8, 3, 3, 3], weights(rand, [8, 3, 3, 3], 2));
  b.initializer(
    'b1',
    [8],
    Float32Array.from({ length: 8 }, () => rand() - 0.5),
  );
  b.initializer('w2', [6, 8, 3, 3], weights(rand, [6, 8, 3, 3]));
  b.initializer(
    'b2',
    [6],
    Float32Array.from({ length: 6 }, () => rand() - 0.5),
  );
  const pads = { pads: [1, 1, 1, 1] };
  let h = b.node('Conv', [x, 'w1', 'b1'], { name: 'conv1', attrs: pads });
  if (act === 'LeakyRelu') h = b.node('LeakyRelu', [h], { name: 'act', attrs: { alpha: float(0.1) } });
  else if (act === 'Clip') {
    b.initializer('lo', [], [0]);
    b.initializer('hi', [], [6]);
    h = b.node('Clip', [h, 'lo', 'hi'], { name: 'act' });
  } else if (act) h = b.node(act, [h], { name: 'act' });
  b.output(b.node('Conv', [h, 'w2', 'b2'], { name: 'conv2', attrs: pads, outputs: ['y'] }), 'float32', [1, 6, 8, 8]);
  // Each output sums 27 products in conv1 and 72 in conv2.
  return { model: b.build(), depth: 27 + 72 };
}

describe('cross-layer equalization', () => {
  for (const act of [undefined, 'Relu', 'LeakyRelu']) {
    it(`equalizes Conv → ${act ?? 'nothing'} → Conv: equal ranges √(r1·r2), same float function`, async () => {
      const { model, depth } = convPair(act);
      const { model: eq, report } = equalizeModel(model, new Map(), {});
      expect(report.sets.map((s) => s.layers)).toEqual([['conv1', 'conv2']]);
      const w1 = model.constantValues('w1') as Float32Array;
      const w2 = model.constantValues('w2') as Float32Array;
      const r1 = outputChannelRanges(w1, [8, 3, 3, 3]);
      const r2 = inputChannelRanges(w2, [6, 8, 3, 3]);
      const e1 = outputChannelRanges(eq.constantValues('w1') as Float32Array, [8, 3, 3, 3]);
      const e2 = inputChannelRanges(eq.constantValues('w2') as Float32Array, [6, 8, 3, 3]);
      const s = report.sets[0]?.scales[0] as Float32Array;
      for (let i = 0; i < 8; i++) {
        const g = Math.sqrt((r1[i] as number) * (r2[i] as number));
        expect(s[i]).toBeCloseTo(g / (r2[i] as number), 5);
        // One division and one multiplication per weight: a few float32 roundings.
        expect(Math.abs((e1[i] as number) - g)).toBeLessThanOrEqual(4 * EPS32 * g);
        expect(Math.abs((e2[i] as number) - g)).toBeLessThanOrEqual(4 * EPS32 * g);
      }
      const feeds = input(random(7), [1, 3, 8, 8]);
      const before = await floatOutput(model, feeds);
      const after = await floatOutput(eq, feeds);
      // Rounding of the rescaled weights and of each accumulation: float32 ε per term of depth.
      expect(relativeDiff(before, after)).toBeLessThanOrEqual(EPS32 * depth * 2);
    });
  }

  for (const act of ['HardSwish', 'Sigmoid', 'Clip']) {
    it(`lists Conv → ${act} → Conv as not equalizable, with the reason`, () => {
      const { model } = convPair(act);
      const { report } = equalizeModel(model);
      expect(report.sets).toEqual([]);
      expect(report.skipped).toHaveLength(1);
      expect(report.skipped[0]?.layers).toEqual(['conv1', 'conv2']);
      expect(report.skipped[0]?.reason).toMatch(new RegExp(`${act}.*not positive-homogeneous`));
    });
  }

  it('equalizes a Conv → PRelu → depthwise → Relu → Conv triplet to ∛(r1·r2·r3), same function', async () => {
    const rand = random(3);
    const b = new ModelBuilder({ opset: 13 });
    const x = b.input('x', 'float32', [1, 4, 8, 8]);
    b.initializer('w1', [6, 4, 1, 1], weights(rand, [6, 4, 1, 1], 2));
    b.initializer(
      'b1',
      [6],
      Float32Array.from({ length: 6 }, () => rand() - 0.5),
    );
    b.initializer(
      'slope',
      [6, 1, 1],
      Float32Array.from({ length: 6 }, () => rand() * 0.3),
    );
    b.initializer('w2', [6, 1, 3, 3], weights(rand, [6, 1, 3, 3], 1.5));
    b.initializer(
      'b2',
      [6],
      Float32Array.from({ length: 6 }, () => rand() - 0.5),
    );
    b.initializer('w3', [5, 6, 1, 1], weights(rand, [5, 6, 1, 1]));
    b.initializer(
      'b3',
      [5],
      Float32Array.from({ length: 5 }, () => rand() - 0.5),
    );
    const h1 = b.node('PRelu', [b.node('Conv', [x, 'w1', 'b1'], { name: 'pw1' }), 'slope'], { name: 'prelu' });
    const h2 = b.node('Relu', [b.node('Conv', [h1, 'w2', 'b2'], { name: 'dw', attrs: { group: 6, pads: [1, 1, 1, 1] } })]);
    b.output(b.node('Conv', [h2, 'w3', 'b3'], { name: 'pw2', outputs: ['y'] }), 'float32', [1, 5, 8, 8]);
    const model = b.build();
    const { model: eq, report } = equalizeModel(model);
    expect(report.sets.map((s) => s.layers)).toEqual([['pw1', 'dw', 'pw2']]);
    expect(report.sets[0]?.activations).toEqual(['PRelu', 'Relu']);
    const r1 = outputChannelRanges(model.constantValues('w1') as Float32Array, [6, 4, 1, 1]);
    const r2 = outputChannelRanges(model.constantValues('w2') as Float32Array, [6, 1, 3, 3]);
    const r3 = inputChannelRanges(model.constantValues('w3') as Float32Array, [5, 6, 1, 1]);
    const e1 = outputChannelRanges(eq.constantValues('w1') as Float32Array, [6, 4, 1, 1]);
    const e2 = outputChannelRanges(eq.constantValues('w2') as Float32Array, [6, 1, 3, 3]);
    const e3 = inputChannelRanges(eq.constantValues('w3') as Float32Array, [5, 6, 1, 1]);
    for (let i = 0; i < 6; i++) {
      const c = Math.cbrt((r1[i] as number) * (r2[i] as number) * (r3[i] as number));
      for (const e of [e1, e2, e3]) expect(Math.abs((e[i] as number) - c)).toBeLessThanOrEqual(6 * EPS32 * c);
    }
    const feeds = input(random(9), [1, 4, 8, 8]);
    expect(relativeDiff(await floatOutput(model, feeds), await floatOutput(eq, feeds))).toBeLessThanOrEqual(
      EPS32 * (4 + 9 + 6) * 2,
    );
  });

  it('.equalize() after BatchNorm folding: high-bias absorption, provenance, and the exported weights', async () => {
    const rand = random(5);
    const b = new ModelBuilder({ opset: 13 });
    const x = b.input('x', 'float32', [1, 3, 6, 6]);
    b.initializer('w1', [4, 3, 1, 1], weights(rand, [4, 3, 1, 1], 2));
    b.initializer('gamma', [4], [0.5, 1, 0.25, 2]);
    // β − 3|γ| > 0 on channels 0–2: absorbed; channel 3 keeps its bias.
    b.initializer('beta', [4], [4, 5, 3, 1]);
    b.initializer('mean', [4], [0, 0, 0, 0]);
    b.initializer('var', [4], [1, 1, 1, 1]);
    b.initializer('w2', [2, 4, 1, 1], weights(rand, [2, 4, 1, 1]));
    b.initializer('b2', [2], [0.1, -0.2]);
    const c1 = b.node('Conv', [x, 'w1'], { name: 'conv1' });
    const bn = b.node('BatchNormalization', [c1, 'gamma', 'beta', 'mean', 'var'], { name: 'bn', attrs: { epsilon: float(0) } });
    const r = b.node('Relu', [bn]);
    b.output(b.node('Conv', [r, 'w2', 'b2'], { name: 'conv2', outputs: ['y'] }), 'float32', [1, 2, 6, 6]);
    const model = b.build();
    // Small inputs keep every pre-activation above the absorbed amount, where absorption is exact.
    const feeds = { x: { data: Float32Array.from({ length: 108 }, () => (rand() - 0.5) * 0.01), dims: [1, 3, 6, 6] } };
    const plain = await quant(model).simulate();
    const sim = await quant(model).equalize().simulate();
    try {
      const set = sim.postTraining.equalization?.sets[0];
      expect(set?.layers).toEqual(['conv1', 'conv2']);
      expect(set?.highBias).toEqual([true]);
      const y0 = (await plain.runFloat(feeds)).y?.data as Float32Array;
      const y1 = (await sim.runFloat(feeds)).y?.data as Float32Array;
      expect(relativeDiff(y0, y1)).toBeLessThanOrEqual(EPS32 * (3 + 4) * 8);
      const folded = plain.floatModel;
      const bias = (m: Model) => {
        const name = m.graph.node('conv1')?.inputs[2] as string;
        return m.constantValues(name) as Float32Array;
      };
      const s = set?.scales[0] as Float32Array;
      const before = bias(folded);
      const after = bias(sim.floatModel);
      const beta = [4, 5, 3, 1];
      const gamma = [0.5, 1, 0.25, 2];
      for (let i = 0; i < 4; i++) {
        const c = Math.max(0, ((beta[i] as number) - 3 * (gamma[i] as number)) / (s[i] as number));
        expect(after[i]).toBeCloseTo((before[i] as number) / (s[i] as number) - c, 5);
      }
      expect(sim.plan.toTable()).toMatch(/param\s+w2\s.*\.equalize\(\)/);
      const cal = await quant(model)
        .equalize()
        .calibrate([feeds, { x: { data: feeds.x.data.map((v) => -v), dims: [1, 3, 6, 6] } }]);
      const files = await cal.export(path.join(out, 'eq'));
      const exported = await loadModel(files.onnx as string);
      expect(exported.constantValues('w2')).toEqual(cal.floatModel.constantValues('w2'));
      expect(exported.constantValues('w2')).not.toEqual(folded.constantValues('w2'));
      const qdq = await loadModel(files.qdq as string);
      expect(qdq.graph.nodes.some((n) => n.opType === 'DequantizeLinear')).toBe(true);
      await cal.release();
    } finally {
      await Promise.all([plain.release(), sim.release()]);
    }
  });
});

/** One 3×3 Conv (4 → 3 channels, bias [0.1, 0, -0.1]) with seeded weights; output 'y'. */
function oneConv(seed: number) {
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 4, 6, 6]);
  b.initializer('w', [3, 4, 3, 3], weights(random(seed), [3, 4, 3, 3]));
  b.initializer('bias', [3], [0.1, 0, -0.1]);
  b.output(b.node('Conv', [x, 'w', 'bias'], { name: 'conv', outputs: ['y'] }), 'float32', [1, 3, 4, 4]);
  return b.build();
}

describe('bias correction', () => {
  it('moves each channel mean of the quantized output onto the float one and exports the corrected bias', async () => {
    const model = oneConv(11);
    // Positive inputs: the rounding errors of 3-bit weights do not average out.
    const data = Array.from({ length: 8 }, (_, i) => input(random(100 + i), [1, 4, 6, 6], 1.5));
    const base = quant(model).params(3).perTensor().scheme('minmax');
    const plain = await base.biasCorrection(false).calibrate(data);
    const corrected = await base.biasCorrection().calibrate(data);
    try {
      const means = async (run: (f: (typeof data)[number]) => Promise<Float32Array>) => {
        const m = new Float64Array(3);
        for (const d of data) {
          const y = await run(d);
          for (let i = 0; i < y.length; i++)
            m[Math.floor(i / 16)] = (m[Math.floor(i / 16)] as number) + (y[i] as number) / 16 / data.length;
        }
        return m;
      };
      const f = await means(async (d) => (await plain.runFloat(d)).y?.data as Float32Array);
      const q0 = await means(async (d) => (await plain.run(d)).y?.data as Float32Array);
      const q1 = await means(async (d) => (await corrected.run(d)).y?.data as Float32Array);
      const delta = corrected.encodings.get('activation:y')?.channels[0]?.scale as number;
      const record = corrected.postTraining.biasCorrection?.[0];
      expect(record?.layer).toBe('conv');
      for (let c = 0; c < 3; c++) {
        // The output's own rounding moves a mean by at most Δ/2.
        expect(Math.abs((q1[c] as number) - (f[c] as number))).toBeLessThanOrEqual(delta / 2 + 1e-6);
        expect(record?.shift[c]).toBeCloseTo((q0[c] as number) - (f[c] as number), 1);
      }
      expect(Math.max(...[0, 1, 2].map((c) => Math.abs((q0[c] as number) - (f[c] as number))))).toBeGreaterThan(delta);
      expect(corrected.plan.toTable()).toMatch(/\.biasCorrection\(\)/);
      // The float reference stays the user's float model; the corrected one is what is exported.
      for (const d of data)
        expect(Array.from((await corrected.runFloat(d)).y?.data as Float32Array)).toEqual(
          Array.from((await plain.runFloat(d)).y?.data as Float32Array),
        );
      expect(corrected.referenceModel.constantValues('bias')).toEqual(Float32Array.from([0.1, 0, -0.1]));
      expect(corrected.floatModel.constantValues('bias')?.[0]).toBeCloseTo(0.1 - (record?.shift[0] as number), 5);
      const files = await corrected.export(path.join(out, 'bc'), { formats: ['onnx'] } as never);
      const bias = (await loadModel(files.onnx as string)).constantValues('bias') as Float32Array;
      for (let c = 0; c < 3; c++) expect(bias[c]).toBeCloseTo(([0.1, 0, -0.1][c] as number) - (record?.shift[c] as number), 5);
    } finally {
      await Promise.all([plain.release(), corrected.release()]);
    }
  });
});

/** Conv → Relu → Conv → Relu → Conv (4 channels, 3×3, padded), every Conv output also a graph output. */
function convChain(seed: number) {
  const rand = random(seed);
  const b = new ModelBuilder({ opset: 13 });
  let h = b.input('x', 'float32', [1, 4, 6, 6]);
  for (let k = 1; k <= 3; k++) {
    b.initializer(`w${k}`, [4, 4, 3, 3], weights(rand, [4, 4, 3, 3]));
    b.initializer(
      `b${k}`,
      [4],
      Float32Array.from({ length: 4 }, () => rand() - 0.5),
    );
    const y = b.node('Conv', [h, `w${k}`, `b${k}`], { name: `conv${k}`, attrs: { pads: [1, 1, 1, 1] }, outputs: [`y${k}`] });
    b.output(y, 'float32', [1, 4, 6, 6]);
    h = k < 3 ? b.node('Relu', [y], { name: `relu${k}` }) : y;
  }
  return b.build();
}

/**
 * A small DAG: conv1 → relu1 → conv2 (bias a Constant node) → Add(relu1, conv2) → conv3, and a
 * second branch conv4 from relu1; every Conv output is a graph output.
 */
function convDag(seed: number) {
  const rand = random(seed);
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 4, 6, 6]);
  const bias = () => Float32Array.from({ length: 4 }, () => rand() - 0.5);
  const pads = { pads: [1, 1, 1, 1] };
  for (let k = 1; k <= 4; k++) b.initializer(`w${k}`, [4, 4, 3, 3], weights(rand, [4, 4, 3, 3]));
  b.initializer('b1', [4], bias());
  b.constant('b2', [4], bias());
  b.initializer('b3', [4], bias());
  b.initializer('b4', [4], bias());
  const y1 = b.node('Conv', [x, 'w1', 'b1'], { name: 'conv1', attrs: pads, outputs: ['y1'] });
  const r1 = b.node('Relu', [y1], { name: 'relu1' });
  const y2 = b.node('Conv', [r1, 'w2', 'b2'], { name: 'conv2', attrs: pads, outputs: ['y2'] });
  const sum = b.node('Add', [r1, y2], { name: 'add' });
  const y3 = b.node('Conv', [sum, 'w3', 'b3'], { name: 'conv3', attrs: pads, outputs: ['y3'] });
  const y4 = b.node('Conv', [r1, 'w4', 'b4'], { name: 'conv4', attrs: pads, outputs: ['y4'] });
  for (const y of [y1, y2, y3, y4]) b.output(y, 'float32', [1, 4, 6, 6]);
  return b.build();
}

describe('bias correction of a chain of layers', () => {
  it.each([
    ['a chain (Conv → Relu → Conv → Relu → Conv)', () => convChain(21), ['conv1', 'conv2', 'conv3'], ['y1', 'y2', 'y3']],
    [
      'a DAG (skip connection, two branches, a Constant-node bias)',
      () => convDag(22),
      ['conv1', 'conv2', 'conv3', 'conv4'],
      ['y1', 'y2', 'y3', 'y4'],
    ],
  ] as const)(
    'leaves every corrected layer of %s with its float channel means, each measured after the corrections before it',
    async (_, build, layers, outputs) => {
      const data = Array.from({ length: 8 }, (_, i) => input(random(300 + i), [1, 4, 6, 6], 1.5));
      const base = quant(build()).params(3).perTensor().scheme('minmax');
      const plain = await base.biasCorrection(false).calibrate(data);
      const corrected = await base.biasCorrection().calibrate(data);
      try {
        const means = async (run: (f: (typeof data)[number]) => Promise<Record<string, { data: unknown }>>, y: string) => {
          const m = new Float64Array(4);
          for (const d of data) {
            const v = (await run(d))[y]?.data as Float32Array;
            for (let i = 0; i < v.length; i++)
              m[Math.floor(i / 36)] = (m[Math.floor(i / 36)] as number) + (v[i] as number) / 36 / data.length;
          }
          return m;
        };
        const records = corrected.postTraining.biasCorrection ?? [];
        expect(records.map((r) => r.layer)).toEqual([...layers]);
        let uncorrectedOff = 0;
        for (const y of outputs) {
          const f = await means((d) => plain.runFloat(d), y);
          const q0 = await means((d) => plain.run(d), y);
          const q1 = await means((d) => corrected.run(d), y);
          const delta = corrected.encodings.get(`activation:${y}`)?.channels[0]?.scale as number;
          for (let c = 0; c < 4; c++) {
            // The output's own rounding moves a mean by at most Δ/2. Bias correction measures the
            // model in pieces (Conv(x, b) + δ where the final model computes Conv(x, b + δ)); those
            // differ in the last bits, which can move one value across a rounding boundary: one
            // element of the channel (36 a sample) off by one step. The rest is float32 rounding.
            const oneFlip = delta / (36 * data.length);
            expect(Math.abs((q1[c] as number) - (f[c] as number))).toBeLessThanOrEqual(delta / 2 + oneFlip + 1e-5);
            uncorrectedOff = Math.max(uncorrectedOff, Math.abs((q0[c] as number) - (f[c] as number)) / delta);
          }
        }
        // Without correction some mean is off by more than a step: the test can fail.
        expect(uncorrectedOff).toBeGreaterThan(1);
      } finally {
        await Promise.all([plain.release(), corrected.release()]);
      }
    },
  );
});

describe('bias correction through sim.edit()', () => {
  it('sim.edit().simulate() keeps the corrected biases, also after a second edit, and exports them', async () => {
    const data = Array.from({ length: 8 }, (_, i) => input(random(400 + i), [1, 4, 6, 6], 1.5));
    const corrected = await quant(oneConv(13)).params(3).perTensor().scheme('minmax').biasCorrection().calibrate(data);
    const edited = await corrected.edit().simulate();
    const twice = await edited.edit().simulate();
    try {
      const bias = corrected.floatModel.constantValues('bias') as Float32Array;
      expect(Array.from(bias)).not.toEqual([0.1, 0, -0.1].map(Math.fround));
      for (const sim of [edited, twice]) {
        expect(Array.from(sim.floatModel.constantValues('bias') as Float32Array)).toEqual(Array.from(bias));
        expect(sim.postTraining.biasCorrection?.map((r) => r.layer)).toEqual(['conv']);
        for (const d of data.slice(0, 2)) {
          expect(Array.from((await sim.run(d)).y?.data as Float32Array)).toEqual(
            Array.from((await corrected.run(d)).y?.data as Float32Array),
          );
          // The float reference is still the model before correction.
          expect(Array.from((await sim.runFloat(d)).y?.data as Float32Array)).toEqual(
            Array.from((await corrected.runFloat(d)).y?.data as Float32Array),
          );
        }
      }
      const files = await twice.export(path.join(out, 'bc-edit'), { formats: ['onnx'] } as never);
      expect(Array.from((await loadModel(files.onnx as string)).constantValues('bias') as Float32Array)).toEqual(
        Array.from(bias),
      );
    } finally {
      await Promise.all([corrected.release(), edited.release(), twice.release()]);
    }
  });
});

describe('bias correction by default', () => {
  it('runs in calibrate() unless turned off, shows in the plan, and fromStats without samples skips it with a warning', async () => {
    const model = oneConv(12);
    const data = Array.from({ length: 4 }, (_, i) => input(random(200 + i), [1, 4, 6, 6], 1.5));
    const base = quant(model).params(3).perTensor().scheme('minmax');
    const byDefault = await base.calibrate(data);
    const off = await base.biasCorrection(false).calibrate(data);
    const explicit = await base.biasCorrection().calibrate(data);
    const offAgain = await base.biasCorrection().biasCorrection(false).calibrate(data);
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (m: string) => warnings.push(m);
    let fromStats: Awaited<ReturnType<typeof base.fromStats>> | undefined;
    try {
      fromStats = await base.fromStats(await base.collectStats(data));
    } finally {
      console.warn = original;
    }
    try {
      expect(byDefault.postTraining.biasCorrection?.map((r) => r.layer)).toEqual(['conv']);
      expect(byDefault.plan.toTable()).toMatch(/bias correction \(default\)/);
      expect(explicit.plan.toTable()).toMatch(/\.biasCorrection\(\)/);
      // The default is the explicit step with its default options: the same corrected biases.
      expect(Array.from(byDefault.postTraining.biasCorrection?.[0]?.shift ?? [])).toEqual(
        Array.from(explicit.postTraining.biasCorrection?.[0]?.shift ?? []),
      );
      expect(Array.from(byDefault.postTraining.biasCorrection?.[0]?.shift ?? []).some((v) => v !== 0)).toBe(true);
      for (const plain of [off, offAgain]) {
        expect(plain.postTraining.biasCorrection).toBeUndefined();
        expect(plain.plan.toTable()).not.toMatch(/bias correction|biasCorrection/);
      }
      expect(fromStats.postTraining.biasCorrection).toBeUndefined();
      expect(warnings.join('\n')).toMatch(
        /Bias correction \(on by default\) was skipped: fromStats\(stats\) got no calibration samples/,
      );
      // Skipped or turned off, it simulates without corrected biases; on, it differs.
      const c = Array.from((await off.run(data[0] as never)).y?.data as Float32Array);
      expect(Array.from((await fromStats.run(data[0] as never)).y?.data as Float32Array)).toEqual(c);
      expect(Array.from((await offAgain.run(data[0] as never)).y?.data as Float32Array)).toEqual(c);
      expect(Array.from((await byDefault.run(data[0] as never)).y?.data as Float32Array)).not.toEqual(c);
      expect(() => base.biasCorrection({ samples: 0 })).toThrow(/samples must be a positive integer/);
    } finally {
      await Promise.all([byDefault.release(), off.release(), explicit.release(), offAgain.release(), fromStats.release()]);
    }
  });
});

describe('Sequential MSE', () => {
  it('picks, per channel, the clipping candidate with the smallest output error (stride-2 padded Conv)', async () => {
    const rand = random(21);
    const b = new ModelBuilder({ opset: 13 });
    const x = b.input('x', 'float32', [1, 3, 7, 7]);
    const dims = [4, 3, 3, 3];
    // Heavy tails: one large weight per channel, where clipping pays.
    const w = Float32Array.from({ length: 108 }, (_, i) => (i % 27 === 5 ? 3 : 1) * (rand() - 0.5) * (1 + (i % 7)));
    b.initializer('w', dims, w);
    b.initializer('bias', [4], [0, 0, 0, 0]);
    const attrs = { pads: [1, 1, 1, 1], strides: [2, 2] };
    b.output(b.node('Conv', [x, 'w', 'bias'], { name: 'conv', attrs, outputs: ['y'] }), 'float32', [1, 4, 4, 4]);
    const model = b.build();
    const data = Array.from({ length: 4 }, (_, i) => input(random(200 + i), [1, 3, 7, 7]));
    const sim = await quant(model).params(4).perChannel().scheme('minmax').seqMse({ candidates: 20 }).calibrate(data);
    try {
      const record = sim.postTraining.seqMse?.records[0];
      expect(record?.layer).toBe('conv');
      const enc = sim.encodings.get('param:w');
      if (!enc || !record) throw new Error('no encoding');
      const spec = {
        bitwidth: 4,
        dtype: 'int' as const,
        symmetric: enc.symmetric,
        strictSymmetric: enc.strictSymmetric ?? false,
        unsignedSymmetric: enc.unsignedSymmetric ?? false,
      };
      const steps = 2 ** 4 - 1 - (spec.symmetric && spec.strictSymmetric ? 1 : 0);
      // Direct convolution, as the reference the Gram-matrix loss must agree with.
      const loss = (o: number, scale: number, offset: number) => {
        let s = 0;
        for (const d of data)
          for (let oy = 0; oy < 4; oy++)
            for (let ox = 0; ox < 4; ox++) {
              let e = 0;
              for (let c = 0; c < 3; c++)
                for (let u = 0; u < 3; u++)
                  for (let v = 0; v < 3; v++) {
                    const iy = oy * 2 - 1 + u;
                    const ix = ox * 2 - 1 + v;
                    if (iy < 0 || iy >= 7 || ix < 0 || ix >= 7) continue;
                    const wv = w[o * 27 + c * 9 + u * 3 + v] as number;
                    const q = Math.min(Math.max(roundHalfEven(wv / scale), offset), offset + steps) * scale;
                    e += (wv - q) * (d.x.data[c * 49 + iy * 7 + ix] as number);
                  }
              s += e * e;
            }
        return s;
      };
      let clipped = 0;
      for (let o = 0; o < 4; o++) {
        let m = 0;
        for (let i = 0; i < 27; i++) m = Math.max(m, Math.abs(w[o * 27 + i] as number));
        const losses = Array.from({ length: 20 }, (_, c) => {
          const g = computeGrid(-m * ((c + 1) / 20), m * ((c + 1) / 20), spec);
          return loss(o, g.scale, g.offset);
        });
        const chosen = enc.channels[o];
        if (!chosen) throw new Error('missing channel');
        const best = Math.min(...losses);
        expect(loss(o, chosen.scale, chosen.offset)).toBeLessThanOrEqual(best * (1 + 1e-9) + 1e-12);
        if ((record.ratios[o] as number) < 1) clipped++;
      }
      expect(clipped).toBeGreaterThan(0);
      expect(record.lossAfter).toBeLessThanOrEqual(record.lossBefore);
      expect(sim.plan.toTable()).toMatch(/param\s+w\s.*\.seqMse\(\)/);
    } finally {
      await sim.release();
    }
  });

  it('needs calibration samples: fromStats without them says how to fix it', async () => {
    const { model } = convPair('Relu');
    const data = [input(random(1), [1, 3, 8, 8])];
    const builder = quant(model).seqMse();
    const stats = await builder.collectStats(data);
    await expect(builder.fromStats(stats)).rejects.toThrow(/need calibration samples.*\.calibrate\(data\)/);
    await expect(builder.fromStats(stats)).rejects.toMatchObject({ code: 'POST_TRAINING' });
    // With the samples passed explicitly, fromStats runs the step.
    const sim = await builder.fromStats(stats, data);
    try {
      expect(sim.postTraining.seqMse?.records.length).toBeGreaterThan(0);
    } finally {
      await sim.release();
    }
  });

  it('checks the options of the three steps, naming the call and the option', () => {
    const { model } = convPair('Relu');
    const b = quant(model);
    expect(() => b.seqMse({ candidates: 0 })).toThrow(/\.seqMse\(\): candidates must be a positive integer/);
    expect(() => b.biasCorrection({ samples: 2.5 })).toThrow(/\.biasCorrection\(\): samples must be a positive integer/);
    expect(() => b.equalize({ highBiasAbsorption: 'yes' as never })).toThrow(
      /\.equalize\(\): highBiasAbsorption must be true or false/,
    );
    expect(() => b.seqMse({ candidate: 20 } as never)).toThrow(/unknown option 'candidate'/);
    expect(() => b.seqMse({ candidate: 20 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // The builder state records each step's options; earlier steps stay.
    expect(b.equalize().seqMse({ candidates: 10 }).state.postTraining).toEqual({ equalize: {}, seqMse: { candidates: 10 } });
  });
});
