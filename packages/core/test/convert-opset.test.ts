import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../test-support/models.js';
import { float, InvalidArgumentError, loadModel, type Model, ModelBuilder, UnsupportedError } from '../src/index.js';
import { convertOpset, convertToOpset } from '../src/transform/convert-opset.js';

/** Deterministic values in [−amp, amp]. */
function wave(n: number, amp = 1, phase = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin(0.37 * i + phase) * Math.cos(0.11 * i);
  return out;
}

async function run(model: Model, feeds: Record<string, ort.Tensor>): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(model.toBytes({ inlineExternal: true }), { logSeverityLevel: 3 });
  try {
    const out = await session.run(feeds);
    // int64 outputs come back as BigInt64Array: compare everything as numbers.
    return Object.fromEntries(
      session.outputNames.map((n) => [n, Array.from(out[n]?.data as ArrayLike<number | bigint>, Number)]),
    );
  } finally {
    await session.release();
  }
}

/** Largest |a − b| / max(|a|, |b|) over elements, with a floor that keeps near-zero values from dominating. */
function relativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(b.length).toBe(a.length);
  let peak = 0;
  for (let i = 0; i < a.length; i++) peak = Math.max(peak, Math.abs(a[i] as number));
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    worst = Math.max(worst, Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-3 * peak, 1e-30));
  }
  return worst;
}

/** Converts to opset 21 and checks that ONNX Runtime gives the same outputs as the original. */
async function expectSameOutputs(model: Model, feeds: Record<string, ort.Tensor>, tolerance = 1e-6): Promise<Model> {
  const converted = convertToOpset(model, 21);
  expect(converted.opset).toBe(21);
  expect(converted.proto.irVersion).toBeGreaterThanOrEqual(10n);
  const a = await run(model, feeds);
  const b = await run(converted, feeds);
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const k of Object.keys(a)) expect(relativeDiff(a[k] as number[], b[k] as number[]), k).toBeLessThanOrEqual(tolerance);
  return converted;
}

const ops = (m: Model) => m.proto.graph?.node.map((n) => n.opType) ?? [];
const attrs = (m: Model, op: string) => m.proto.graph?.node.find((n) => n.opType === op)?.attribute.map((a) => a.name) ?? [];
const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);

describe('convertToOpset on the PaddleOCR models', () => {
  const cases = [
    ['detector (opset 11)', REAL_MODELS.ocrDetector, [1, 3, 160, 160]],
    ['recognizer (opset 9)', REAL_MODELS.ocrRecognizer, [1, 3, 48, 320]],
    ['classifier (opset 9)', REAL_MODELS.ocrClassifier, [1, 3, 48, 192]],
  ] as const;
  for (const [label, file, dims] of cases) {
    it(`${label}: runs at opset 21 with the same outputs within 1e-5`, async () => {
      const model = await loadModel(file);
      const n = dims.reduce((a: number, b: number) => a * b, 1);
      const converted = await expectSameOutputs(model, { x: tensor(wave(n, 0.9), [...dims]) }, 1e-5);
      // Attributes that became inputs are gone.
      for (const op of ['Clip', 'Slice', 'Squeeze', 'ReduceMean'])
        expect(attrs(converted, op)).not.toContain(op === 'Clip' ? 'max' : 'axes');
      expect(attrs(converted, 'Slice')).not.toContain('starts');
    });
  }
});

describe('convertToOpset rewrites', () => {
  it('Softmax, LogSoftmax and Hardmax on a non-last axis get the Flatten/Reshape form', async () => {
    for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) {
      const b = new ModelBuilder({ opset: 11 });
      const x = b.input('x', 'float32', [2, 3, 4]);
      b.output(b.node(op, [x], { attrs: { axis: 1 }, outputs: ['y'] }), 'float32', [2, 3, 4]);
      const converted = await expectSameOutputs(b.build(), { x: tensor(wave(24, 3), [2, 3, 4]) });
      expect(ops(converted)).toEqual(['Shape', 'Flatten', op, 'Reshape']);
    }
  });

  it('Softmax on an input of unknown rank takes the reshape form; on the last axis it keeps its node', async () => {
    const unknown = new ModelBuilder({ opset: 11 });
    unknown.output(unknown.node('Softmax', [unknown.input('x', 'float32')], { outputs: ['y'] }));
    const a = await expectSameOutputs(unknown.build(), { x: tensor(wave(24, 3), [2, 3, 4]) });
    expect(ops(a)).toContain('Flatten');
    // The default axis (1) of a rank-2 tensor is its last.
    const last = new ModelBuilder({ opset: 9 });
    const x = last.input('x', 'float32', [4, 6]);
    const t = last.node('Transpose', [x], { attrs: { perm: [1, 0] } });
    last.output(last.node('Softmax', [t], { outputs: ['y'] }), 'float32', [6, 4]);
    const b = await expectSameOutputs(last.build(), { x: tensor(wave(24, 3), [4, 6]) });
    expect(ops(b)).toEqual(['Transpose', 'Softmax']);
    expect(b.proto.graph?.node[1]?.attribute.find((x) => x.name === 'axis')?.i).toBe(-1n);
  });

  it('Clip min/max attributes become inputs (both, or only max)', async () => {
    const b = new ModelBuilder({ opset: 9 });
    const x = b.input('x', 'float32', [10]);
    b.output(b.node('Clip', [x], { attrs: { min: float(-0.25), max: float(0.5) }, outputs: ['y'] }), 'float32', [10]);
    b.output(b.node('Clip', [x], { attrs: { max: float(0.3) }, outputs: ['z'] }), 'float32', [10]);
    const converted = await expectSameOutputs(b.build(), { x: tensor(wave(10), [10]) });
    expect(converted.proto.graph?.node.map((n) => n.input.length)).toEqual([3, 3]);
    expect(converted.proto.graph?.node[1]?.input[1]).toBe('');
  });

  it('Slice attributes become inputs', async () => {
    const b = new ModelBuilder({ opset: 9 });
    const x = b.input('x', 'float32', [4, 6]);
    b.output(b.node('Slice', [x], { attrs: { starts: [1, 0], ends: [-1, 1000], axes: [0, 1] }, outputs: ['y'] }));
    b.output(b.node('Slice', [x], { attrs: { starts: [2], ends: [5] }, outputs: ['z'] }));
    const converted = await expectSameOutputs(b.build(), { x: tensor(wave(24), [4, 6]) });
    expect(converted.proto.graph?.node.map((n) => n.input.length)).toEqual([4, 3]);
  });

  it('Squeeze and Unsqueeze axes become inputs; Squeeze without axes keeps none', async () => {
    const b = new ModelBuilder({ opset: 11 });
    const x = b.input('x', 'float32', [1, 3, 1, 2]);
    b.output(b.node('Squeeze', [x], { attrs: { axes: [0, -2] }, outputs: ['y'] }));
    b.output(b.node('Squeeze', [x], { outputs: ['z'] }));
    b.output(b.node('Unsqueeze', [x], { attrs: { axes: [0, 5] }, outputs: ['u'] }));
    const converted = await expectSameOutputs(b.build(), { x: tensor(wave(6), [1, 3, 1, 2]) });
    expect(converted.proto.graph?.node.map((n) => n.input.length)).toEqual([2, 1, 2]);
  });

  it('Split sizes become an input; an even split gets num_outputs', async () => {
    const b = new ModelBuilder({ opset: 11 });
    const x = b.input('x', 'float32', [2, 4]);
    b.node('Split', [x], { attrs: { axis: 1, split: [1, 3] }, outputs: ['a', 'b'] });
    b.node('Split', [x], { attrs: { axis: 1 }, outputs: ['c', 'd'] });
    for (const o of ['a', 'b', 'c', 'd']) b.output(o);
    const converted = await expectSameOutputs(b.build(), { x: tensor(wave(8), [2, 4]) });
    expect(converted.proto.graph?.node[0]?.input.length).toBe(2);
    expect(converted.proto.graph?.node[1]?.attribute.find((a) => a.name === 'num_outputs')?.i).toBe(2n);
  });

  it('ReduceMean (18) and ReduceSum (13) axes become inputs', async () => {
    const b = new ModelBuilder({ opset: 11 });
    const x = b.input('x', 'float32', [2, 3, 4]);
    b.output(b.node('ReduceMean', [x], { attrs: { axes: [-1], keepdims: 0 }, outputs: ['m'] }));
    b.output(b.node('ReduceSum', [x], { attrs: { axes: [0, 2] }, outputs: ['s'] }));
    b.output(b.node('ReduceMax', [x], { outputs: ['all'] }));
    const converted = await expectSameOutputs(b.build(), { x: tensor(wave(24), [2, 3, 4]) });
    expect(converted.proto.graph?.node.map((n) => n.input.length)).toEqual([2, 2, 1]);
  });

  it('Pad pads and value become inputs (Pad-2 and Pad-1 attribute names)', async () => {
    const b = new ModelBuilder({ opset: 9 });
    const x = b.input('x', 'float32', [1, 2, 3]);
    b.output(b.node('Pad', [x], { attrs: { pads: [0, 1, 2, 0, 0, 1], value: float(1.5) }, outputs: ['c'] }));
    b.output(b.node('Pad', [x], { attrs: { pads: [0, 0, 2, 0, 0, 1], mode: 'reflect' }, outputs: ['r'] }));
    const converted = await expectSameOutputs(b.build(), { x: tensor(wave(6), [1, 2, 3]) });
    expect(converted.proto.graph?.node.map((n) => n.input.length)).toEqual([3, 2]);
  });

  it('Upsample (scales attribute at 8, input at 9) becomes Resize with the old rounding', async () => {
    const x = wave(2 * 3 * 4, 2);
    for (const mode of ['nearest', 'linear']) {
      const b8 = new ModelBuilder({ opset: 8 });
      b8.output(
        b8.node('Upsample', [b8.input('x', 'float32', [1, 2, 3, 4])], {
          attrs: { mode, scales: float32([1, 1, 2, 3]) },
          outputs: ['y'],
        }),
      );
      const a = await expectSameOutputs(b8.build(), { x: tensor(x, [1, 2, 3, 4]) });
      expect(ops(a)).toEqual(['Resize']);
      const b9 = new ModelBuilder({ opset: 9 });
      const s = b9.initializer('scales', [4], [1, 1, 2.5, 1.5]);
      b9.output(b9.node('Upsample', [b9.input('x', 'float32', [1, 2, 3, 4]), s], { attrs: { mode }, outputs: ['y'] }));
      await expectSameOutputs(b9.build(), { x: tensor(x, [1, 2, 3, 4]) });
    }
  });

  it('Resize-10 (up and down, nearest and linear) keeps its asymmetric coordinates', async () => {
    const x = wave(1 * 1 * 6 * 8, 2);
    for (const mode of ['nearest', 'linear'])
      for (const scales of [
        [1, 1, 2, 1.5],
        [1, 1, 0.5, 0.75],
      ]) {
        const b = new ModelBuilder({ opset: 10 });
        const s = b.initializer('scales', [4], scales);
        b.output(b.node('Resize', [b.input('x', 'float32', [1, 1, 6, 8]), s], { attrs: { mode }, outputs: ['y'] }));
        const converted = await expectSameOutputs(b.build(), { x: tensor(x, [1, 1, 6, 8]) });
        expect(converted.proto.graph?.node[0]?.input).toEqual(['x', '', 'scales']);
      }
  });

  it('TopK, Dropout, BatchNormalization, Cast, Reshape and Concat of old opsets', async () => {
    const b = new ModelBuilder({ opset: 7 });
    const x = b.input('x', 'float32', [1, 3, 2, 2]);
    const c = (name: string, v: number[]) => b.initializer(name, [3], v);
    const bn = b.node(
      'BatchNormalization',
      [x, c('g', [1, 2, 3]), c('be', [0, 1, 0]), c('mu', [0.1, 0.2, 0.3]), c('v', [1, 2, 4])],
      {
        attrs: { spatial: 1, epsilon: float(1e-3) },
      },
    );
    const d = b.node('Dropout', [bn], { attrs: { ratio: float(0.3) } });
    const r = b.node('Reshape', [d, b.initializer('shape', [2], [1, 12], 'int64')]);
    b.output(b.node('Concat', [r, r], { attrs: { axis: 0 }, outputs: ['cat'] }));
    b.output(b.node('Cast', [r], { attrs: { to: 7 }, outputs: ['ints'] }), 'int64');
    await expectSameOutputs(b.build(), { x: tensor(wave(12, 3), [1, 3, 2, 2]) });

    const t = new ModelBuilder({ opset: 9 });
    const v = t.input('v', 'float32', [2, 5]);
    t.node('TopK', [v], { attrs: { k: 2 }, outputs: ['values', 'indices'] });
    t.output('values');
    t.output('indices', 'int64');
    const converted = await expectSameOutputs(t.build(), { v: tensor(wave(10), [2, 5]) });
    expect(converted.proto.graph?.node[0]?.input.length).toBe(2);
  });

  it('converts subgraphs of If', async () => {
    const branch = (axes: number[]) => {
      const g = new ModelBuilder({ opset: 11 });
      g.output(g.node('Squeeze', ['x'], { attrs: { axes }, outputs: [`out_${axes.join('_')}`] }));
      return g.graph(`branch_${axes.join('_')}`);
    };
    const b = new ModelBuilder({ opset: 11 });
    b.input('x', 'float32', [1, 3, 1]);
    const cond = b.input('cond', 'bool', []);
    b.output(b.node('If', [cond], { attrs: { then_branch: branch([0]), else_branch: branch([0, 2]) }, outputs: ['y'] }));
    const converted = await expectSameOutputs(b.build(), {
      x: tensor(wave(3), [1, 3, 1]),
      cond: new ort.Tensor('bool', [true], []),
    });
    const then = converted.proto.graph?.node[0]?.attribute.find((a) => a.name === 'then_branch')?.g;
    expect(then?.node[0]?.input.length).toBe(2);
    expect(then?.initializer.length).toBe(1);
  });
});

describe('convertToOpset refusals', () => {
  it('lists every operator it cannot convert, with the opsets, in one UnsupportedError', () => {
    const b = new ModelBuilder({ opset: 8 });
    const x = b.input('x', 'float32', [1, 3, 2, 2]);
    const s = b.node('ImageScaler', [x], { attrs: { scale: float(2) } });
    const c = (name: string) => b.initializer(name, [3], [1, 1, 1]);
    const bn = b.node('BatchNormalization', [s, c('g'), c('b'), c('m'), c('v')], { attrs: { spatial: 0 } });
    b.output(b.node('ImageScaler', [bn], { attrs: { scale: float(2) }, outputs: ['y'] }));
    const err = (() => {
      try {
        convertToOpset(b.build('model.onnx'), 21);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UnsupportedError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/Cannot convert model\.onnx from opset 8 to 21: 2 operators \(ImageScaler, BatchNormalization\)/);
    expect(msg).toMatch(/ImageScaler \(opset 8 → 21, 2 nodes\): no conversion is known/);
    expect(msg).toMatch(/BatchNormalization \(opset 8 → 21, 1 node\): BatchNormalization with spatial = 0/);
    expect(msg).toMatch(/Export the model at opset 21 from its framework/);
  });

  it('refuses a target below the model opset or above 21, and leaves a model at the target as it is', () => {
    const b = new ModelBuilder({ opset: 13 });
    b.output(b.node('Relu', [b.input('x', 'float32', [2])], { outputs: ['y'] }));
    const m = b.build();
    expect(() => convertToOpset(m, 11)).toThrow(InvalidArgumentError);
    expect(() => convertToOpset(m, 22)).toThrow(/from the model's own \(13\) to 21/);
    const same = convertOpset(m, 13);
    expect(same.model.opset).toBe(13);
    expect(same.replacements.size).toBe(1);
  });
});

function float32(values: number[]): Float32Array {
  return Float32Array.from(values);
}
