import { describe, expect, it } from 'vitest';
import { float, ModelBuilder, quant, roundHalfEven } from '../src/index.js';

/** y = x · 1 + 0 through Mul and Add, so that x and y each get an activation quantizer. */
function tinyModel(opset: number) {
  const b = new ModelBuilder({ opset });
  const x = b.input('x', 'float32', [1, 16]);
  const one = b.initializer('one', [1], [1]);
  const zero = b.initializer('zero', [1], [0]);
  const m = b.node('Mul', [x, one], { name: 'mul', outputs: ['m'] });
  b.output(b.node('Add', [m, zero], { name: 'add', outputs: ['y'] }), 'float32', [1, 16]);
  return b.build();
}

/** An AIMET 1.0.0 encodings object giving `y` the grid Δ = 0.5, offset `offset`, and leaving x and m unquantized. */
function encodings(bw: number, offset: number) {
  const enc = (name: string) => ({
    bw,
    dtype: 'INT',
    enc_type: 'PER_TENSOR',
    is_sym: false,
    name,
    offset: [offset],
    scale: [0.5],
  });
  return { version: '1.0.0', activation_encodings: [enc('y')], param_encodings: [], excluded_layers: [], quantizer_args: {} };
}

// Ties of x / Δ (…, 0.5, 1.5, 2.5, …) show the rounding; values outside the grid show the clamp.
const inputs = Float32Array.from([-40, -5.25, -1.25, -0.75, -0.25, 0, 0.25, 0.75, 1.25, 1.75, 2.25, 3.1, 7.75, 9.9, 30, 1000]);

function expected(bw: number, offset: number): number[] {
  const n = 2 ** bw - 1;
  return Array.from(inputs, (v) => 0.5 * Math.min(Math.max(roundHalfEven(v / 0.5), offset), offset + n));
}

describe('quantize-dequantize numerics of the simulated model', () => {
  const cases: [string, number, number, 'simulate' | 'emulate'][] = [
    ['8-bit Q/DQ, opset 13', 13, 8, 'simulate'],
    ['8-bit Q/DQ, opset 9 (com.microsoft)', 9, 8, 'simulate'],
    ['8-bit Q/DQ in emulate mode', 13, 8, 'emulate'],
    ['6-bit fake-quant, opset 13', 13, 6, 'simulate'],
    ['6-bit fake-quant, opset 9', 9, 6, 'simulate'],
    ['16-bit Q/DQ, opset 11 (com.microsoft)', 11, 16, 'simulate'],
    ['4-bit Q/DQ, opset 21', 21, 4, 'simulate'],
  ];
  for (const [label, opset, bw, mode] of cases) {
    it(`${label}: clamps, rounds half to even, rescales`, async () => {
      const offset = bw === 4 ? -8 : -10;
      const sim = await quant(tinyModel(opset))
        .tensors('x', 'm')
        .disable()
        .tensors('y')
        .activations(bw)
        .mode(mode)
        .loadEncodings(encodings(bw, offset))
        .simulate();
      const form = sim.simulatedModel.forms.get('activation:y');
      expect(form?.kind).toBe(bw === 6 ? 'fake-quant' : 'qdq');
      const out = await sim.run({ x: { data: inputs, dims: [1, 16] } });
      expect(Array.from(out.y?.data as Float32Array)).toEqual(expected(bw, offset));
      await sim.release();
    });
  }

  it('fp16 simulation rounds to the nearest half-precision value', async () => {
    const sim = await quant(tinyModel(13))
      .tensors('x', 'm')
      .disable()
      .tensors('y')
      .activations({ bits: 16, dtype: 'float' })
      .simulate();
    const out = await sim.run({
      x: { data: Float32Array.from([1 + 2 ** -12, 0.1, 65504, 1e-8, ...new Array(12).fill(0)]), dims: [1, 16] },
    });
    const y = out.y?.data as Float32Array;
    expect(y[0]).toBe(1);
    expect(y[1]).toBe(Math.fround(0.0999755859375));
    expect(y[2]).toBe(65504);
    expect(y[3]).toBe(0);
    await sim.release();
  });
});

describe('BatchNorm folding', () => {
  it('gives the same float outputs as the unfolded model', async () => {
    const b = new ModelBuilder({ opset: 13 });
    const x = b.input('x', 'float32', [1, 2, 4, 4]);
    const w = b.initializer(
      'w',
      [3, 2, 3, 3],
      Array.from({ length: 54 }, (_, i) => Math.sin(i)),
    );
    const c = b.node('Conv', [x, w], { name: 'conv', outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } });
    const bn = b.node(
      'BatchNormalization',
      [
        c,
        b.initializer('g', [3], [1.5, 0.5, 2]),
        b.initializer('be', [3], [0.1, -0.2, 0.3]),
        b.initializer('mu', [3], [0.2, 0.1, -0.1]),
        b.initializer('var', [3], [0.9, 1.1, 0.4]),
      ],
      {
        name: 'bn',
        outputs: ['y'],
        attrs: { epsilon: float(1e-3) },
      },
    );
    b.output(bn, 'float32', [1, 3, 4, 4]);
    const model = b.build();
    const feeds = { x: { data: Float32Array.from({ length: 32 }, (_, i) => Math.cos(i)), dims: [1, 2, 4, 4] } };
    const folded = await quant(model).simulate();
    const unfolded = await quant(model).foldBatchNorms(false).simulate();
    expect(folded.floatModel.graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
    // Its parameters went with it: no dead weights in the folded (and exported) model.
    for (const name of ['g', 'be', 'mu', 'var']) expect(folded.floatModel.graph.tensor(name), name).toBeUndefined();
    const a = (await folded.runFloat(feeds)).y?.data as Float32Array;
    const r = (await unfolded.runFloat(feeds)).y?.data as Float32Array;
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(r[i] as number, 5);
    await Promise.all([folded.release(), unfolded.release()]);
  });
});
