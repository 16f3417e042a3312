import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  type Encoding,
  EncodingsExportError,
  InvalidArgumentError,
  ModelBuilder,
  offsetFromZeroPoint,
  onnxQuantParams,
  QuantPlan,
  toOrtTensorQuantOverrides,
  UnsupportedError,
  zeroPointFromOffset,
} from '../src/index.js';
import { act, GOLDEN_ENCODINGS, GOLDEN_PLAN, param } from './fixtures/encodings/golden-plan.js';

const grid = (bitwidth: number, symmetric: boolean, offset: number, scale = 0.1, extra: Partial<Encoding> = {}): Encoding => ({
  dtype: 'int',
  bitwidth,
  symmetric,
  channels: [{ scale, offset, min: offset * scale, max: (offset + 2 ** bitwidth - 1) * scale }],
  ...extra,
});

describe('ONNX quantization parameters', () => {
  it('derives zero points from AIMET offsets: −offset unsigned, −offset − 2^(b−1) signed', () => {
    // AIMET's grid point q ∈ [0, 2^b − 1] stands for scale·(q + offset); ONNX's y stands for
    // scale·(y − zp). Unsigned y = q gives zp = −offset; signed y = q − 2^(b−1) gives zp = −offset − 2^(b−1).
    expect(onnxQuantParams(grid(8, true, -128))).toEqual({ type: 'int8', scale: [0.1], zeroPoint: [0], qmin: -128, qmax: 127 });
    expect(onnxQuantParams(grid(8, false, -114))).toMatchObject({ type: 'uint8', zeroPoint: [114], qmin: 0, qmax: 255 });
    expect(onnxQuantParams(grid(8, true, -127, 0.1, { strictSymmetric: true })).zeroPoint).toEqual([-1]);
    expect(onnxQuantParams(grid(8, true, 0, 0.1, { unsignedSymmetric: true })).zeroPoint).toEqual([-128]);
    expect(onnxQuantParams(grid(4, true, -8))).toMatchObject({ type: 'int4', zeroPoint: [0], qmin: -8, qmax: 7 });
    expect(onnxQuantParams(grid(16, false, -32768))).toMatchObject({ type: 'uint16', zeroPoint: [32768] });
    expect(onnxQuantParams(grid(16, true, -32768))).toMatchObject({ type: 'int16', zeroPoint: [0] });
    expect(zeroPointFromOffset(0, 8, false)).toBe(0);
    expect(Object.is(zeroPointFromOffset(0, 8, false), -0)).toBe(false);
    for (const signed of [true, false]) {
      for (const offset of [0, -1, -127, -128, -255]) {
        expect(offsetFromZeroPoint(zeroPointFromOffset(offset, 8, signed), 8, signed)).toBe(offset);
      }
    }
  });

  it('dequantizes every grid point to the same value as AIMET', () => {
    for (const [bitwidth, symmetric, offset] of [
      [8, true, -128],
      [8, true, -127],
      [8, false, -37],
      [4, true, -8],
      [4, false, -3],
    ] as const) {
      const scale = 0.25;
      const p = onnxQuantParams(grid(bitwidth, symmetric, offset, scale));
      const zp = p.zeroPoint[0] ?? Number.NaN;
      for (let y = p.qmin; y <= p.qmax; y++) {
        const q = y - p.qmin; // AIMET's unsigned grid point
        expect((y - zp) * scale).toBe((q + offset) * scale);
      }
    }
  });

  it('keeps the channel axis of per-channel encodings', () => {
    const p = onnxQuantParams(GOLDEN_ENCODINGS.get('param:conv1.weight') as Encoding);
    expect(p).toEqual({
      type: 'int8',
      scale: [0.0078125, 0.00390625, 0.001953125],
      zeroPoint: [0, 0, 0],
      axis: 0,
      qmin: -128,
      qmax: 127,
    });
  });

  it('refuses float encodings, widths ONNX lacks, and offsets outside the grid', () => {
    expect(() => onnxQuantParams({ dtype: 'float', bitwidth: 16, symmetric: false, channels: [] })).toThrow(UnsupportedError);
    expect(() => onnxQuantParams(grid(6, true, -32))).toThrow(/no 6-bit element type/);
    expect(() => onnxQuantParams(grid(8, false, 3))).toThrow(InvalidArgumentError);
    expect(() => onnxQuantParams({ dtype: 'int', bitwidth: 8, symmetric: true, channels: [] })).toThrow(/no channels/);
  });
});

describe('rounding: ONNX (half to even) and AIMET (half away from zero)', () => {
  // AIMET's C++ quantizes with `round(x / delta) - offset` (libpymo quantizeValueCpu), and C's round
  // takes halfway cases away from zero. ONNX QuantizeLinear rounds halfway cases to even.
  const aimetRound = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

  it('differs where x/Δ − offset is 2.5: ONNX Runtime gives grid point 2, AIMET 3', async () => {
    const encoding = grid(8, false, 0, 0.125); // uint8, zero point 0: QuantizeLinear's default
    const p = onnxQuantParams(encoding);
    expect(p).toMatchObject({ type: 'uint8', zeroPoint: [0] });
    const b = new ModelBuilder({ opset: 13 });
    const x = b.input('x', 'float32', [4]);
    const s = b.initializer('s', [], [0.125]);
    const q = b.node('QuantizeLinear', [x, s], { outputs: ['q'] });
    b.output(b.node('DequantizeLinear', [q, s], { outputs: ['y'] }), 'float32', [4]);
    const session = await ort.InferenceSession.create(b.build().toBytes());
    const ratios = [2.5, 3.5, 0.5, 1.5]; // x/Δ − offset, offset 0
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(ratios.map((r) => r * 0.125)), [4]) });
    const onnxGrid = Array.from(out.y?.data as Float32Array, (v) => v / 0.125);
    await session.release();
    expect(onnxGrid).toEqual([2, 4, 0, 2]);
    expect(ratios.map((r) => aimetRound(r) - (encoding.channels[0]?.offset ?? 0))).toEqual([3, 4, 1, 2]);
    // Elsewhere the two agree.
    expect(aimetRound(2.4999)).toBe(2);
    expect(aimetRound(-2.5)).toBe(-3); // ONNX: −2
  });
});

describe('onnxruntime TensorQuantOverrides', () => {
  it('writes quant_type, scale and zero_point per tensor, and one dict per channel with axis first', () => {
    const overrides = toOrtTensorQuantOverrides(GOLDEN_PLAN, GOLDEN_ENCODINGS);
    // (JavaScript lists integer-like keys such as "20" first; the keys are what matters.)
    expect(Object.keys(overrides).sort()).toEqual(['20', '21', 'conv1.weight', 'conv2.weight', 'fc1.weight', 'input.1']);
    expect(overrides['20']).toEqual([{ quant_type: 'QUInt8', scale: 0.018501389771699905, zero_point: 114 }]);
    expect(overrides['conv1.weight']).toEqual([
      { quant_type: 'QInt8', scale: 0.0078125, zero_point: 0, axis: 0 },
      { scale: 0.00390625, zero_point: 0 },
      { scale: 0.001953125, zero_point: 0 },
    ]);
    // onnxruntime's rules (tensor_quant_overrides.py): scale and zero_point together, never with
    // symmetric, reduce_range, rmin or rmax; axis and quant_type in the first channel's dict.
    for (const list of Object.values(overrides)) {
      for (const [i, dict] of list.entries()) {
        expect('scale' in dict && 'zero_point' in dict).toBe(true);
        expect(Object.keys(dict).filter((k) => ['symmetric', 'reduce_range', 'rmin', 'rmax'].includes(k))).toEqual([]);
        if (i > 0) expect(Object.keys(dict).sort()).toEqual(['scale', 'zero_point']);
        expect(Number.isInteger(dict.zero_point)).toBe(true);
      }
    }
    expect(overrides['22']).toBeUndefined(); // fp16: nothing to override
    expect(overrides['conv1.bias']).toBeUndefined(); // disabled
  });

  it('uses every QuantType onnxruntime has for integers', () => {
    const plan = new QuantPlan([
      act('a4', { bitwidth: 4, symmetric: true }),
      act('b4', { bitwidth: 4 }),
      act('a16', { bitwidth: 16, symmetric: true }),
      act('b16', { bitwidth: 16 }),
    ]);
    const overrides = toOrtTensorQuantOverrides(
      plan,
      new Map([
        ['activation:a4', grid(4, true, -8)],
        ['activation:b4', grid(4, false, -2)],
        ['activation:a16', grid(16, true, -32768)],
        ['activation:b16', grid(16, false, -100)],
      ]),
    );
    expect(Object.values(overrides).map((l) => [l[0]?.quant_type, l[0]?.zero_point])).toEqual([
      ['QInt4', 0],
      ['QUInt4', 2],
      ['QInt16', 0],
      ['QUInt16', 100],
    ]);
  });

  it('lists every quantizer it cannot express', () => {
    const plan = new QuantPlan([act('x'), act('y', { bitwidth: 32, symmetric: true }), param('w', { bitwidth: 6 })]);
    let err: unknown;
    try {
      toOrtTensorQuantOverrides(
        plan,
        new Map([
          ['activation:y', grid(32, true, -(2 ** 31))],
          ['param:w', grid(6, false, -10)],
        ]),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EncodingsExportError);
    expect((err as EncodingsExportError).problems).toEqual([
      "quantizer activation:x (tensor 'x') has no encoding",
      'quantizer activation:y: ONNX QuantizeLinear has no 32-bit element type (it has 4, 8 and 16-bit integers).',
      'quantizer param:w: ONNX QuantizeLinear has no 6-bit element type (it has 4, 8 and 16-bit integers).',
    ]);
  });
});
