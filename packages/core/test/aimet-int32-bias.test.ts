import { describe, expect, it } from 'vitest';
import {
  type AimetEncodingsV100,
  type AimetEncodingsV200,
  type AimetEncodingsVersion,
  type AimetV2Encoding,
  createQuant,
  type Encoding,
  EncodingsMismatchError,
  int32BiasLinks,
  type Model,
  ModelBuilder,
  matchEncodings,
  parseAimetEncodings,
  type QuantBuilder,
  type QuantPlan,
  serializeAimetEncodings,
  toAimetEncodings,
} from '../src/index.js';

/*
 * Golden values for AIMET 2.x's int32 biases, derived by hand from qualcomm/aimet at
 * 825f28429e0dc308a72110e23731894f5279b938, TrainingExtensions/onnx/src/python/aimet_onnx/:
 * - quantsim.py `export`: export_int32_bias defaults to True for encoding version >= 2.0.0.
 * - quantsim.py `_concretize_int32_bias_quantizers` + `_get_analytic_bias_scale`:
 *   bias scale = input_scale * weight_scale, both float32 arrays (`QcQuantizeOp._get_scale`), so the
 *   product is a float32; per channel (reshaped to the channel count) when the weight is per-channel;
 *   bw = 32, offset = -2^31; skipped when the bias already has an encoding or the input or weight
 *   quantizer is missing, disabled, not int or not calibrated.
 * - quantsim.py `_get_weight_and_bias` / connectedgraph_utils.py `_get_matmul_add_bias_idx`: the
 *   rank-1 constant of the Add after a MatMul is that MatMul's bias.
 * - quantsim.py `_get_enabled_quantizer`: the input scale of a Gemm after Flatten is the
 *   quantizer upstream of the Flatten.
 * - qc_quantize_op.py `_export_2_0_0_encodings`: symmetric → `int{bw}`, y_zero_point =
 *   -offset - 2^(bw-1) = 0, left out when all zero; axis = the 1-D bias's channel axis 0;
 *   `y_scale` a scalar for per-tensor, a list per channel. Bias names are the tensor names.
 * - quantsim.py `_export_encodings`: `force_activation_as='unsigned'` leaves params (the bias) as
 *   they are, so the bias stays `int32`.
 */

/** numpy's float32 × float32: both factors rounded to float32, the product rounded to float32. */
const f32mul = (a: number, b: number) => Math.fround(Math.fround(a) * Math.fround(b));

/** Conv (per-channel weight) → Flatten → Gemm (transB, per-tensor weight) → MatMul + Add (per-channel). */
function buildModel(): Model {
  const b = new ModelBuilder({ opset: 13 });
  const x = b.input('x', 'float32', [1, 2, 2, 2]);
  const ramp = (n: number, scale: number) => Array.from({ length: n }, (_, i) => (i / n - 0.5) * scale);
  const conv = b.node(
    'Conv',
    [x, b.initializer('conv.weight', [3, 2, 1, 1], ramp(6, 2)), b.initializer('conv.bias', [3], [0.1, -0.2, 0.3])],
    { name: 'conv', outputs: ['conv_out'] },
  );
  const flat = b.node('Flatten', [conv], { name: 'flatten', outputs: ['flat_out'], attrs: { axis: 1 } });
  const fc = b.node(
    'Gemm',
    [flat, b.initializer('fc.weight', [4, 12], ramp(48, 1)), b.initializer('fc.bias', [4], [0.5, 0.25, -1, 2])],
    { name: 'fc', outputs: ['fc_out'], attrs: { transB: 1 } },
  );
  const mm = b.node('MatMul', [fc, b.initializer('mm.weight', [4, 5], ramp(20, 0.8))], { name: 'mm', outputs: ['mm_out'] });
  const y = b.node('Add', [mm, b.initializer('mm.bias', [5], [1, 2, 3, 4, 5])], { name: 'mm_add', outputs: ['y'] });
  b.output(y, 'float32', [1, 5]);
  return b.build('int32-bias');
}

const S = {
  x: 0.0123,
  conv_out: 0.05,
  fc_out: 0.1,
  mm_out: 0.07,
  y: 0.2,
  conv: [0.01, 0.02, 0.03],
  fc: 0.004,
  mm: [0.001, 0.002, 0.003, 0.004, 0.005],
};

/** An asymmetric 8-bit activation encoding, as quantsim reads it back (min = offset·Δ). */
function activation(scale: number, offset: number): Encoding {
  return {
    dtype: 'int',
    bitwidth: 8,
    symmetric: false,
    channels: [{ scale, offset, min: offset * scale, max: (offset + 255) * scale }],
  };
}

/** A symmetric 8-bit weight encoding (offset −128), per-channel when `axis` is given. */
function weight(scales: readonly number[], axis?: number): Encoding {
  return {
    dtype: 'int',
    bitwidth: 8,
    symmetric: true,
    ...(axis === undefined ? {} : { axis }),
    channels: scales.map((scale) => ({ scale, offset: -128, min: -128 * scale, max: 127 * scale })),
  };
}

/** Every enabled quantizer's encoding (as calibration would give them). */
function calibrated(plan: QuantPlan): Map<string, Encoding> {
  const all = new Map<string, Encoding>([
    ['activation:x', activation(S.x, -100)],
    ['activation:conv_out', activation(S.conv_out, -30)],
    ['activation:fc_out', activation(S.fc_out, -128)],
    ['activation:mm_out', activation(S.mm_out, -7)],
    ['activation:y', activation(S.y, -90)],
    ['param:conv.weight', weight(S.conv, 0)],
    ['param:fc.weight', weight([S.fc])],
    ['param:mm.weight', weight(S.mm, 1)],
    ['param:conv.bias', weight([0.0025])],
    ['param:fc.bias', weight([0.016])],
  ]);
  return new Map([...all].filter(([id]) => plan.get(id)?.enabled));
}

/** The 2.0.0 file AIMET writes for this model and these encodings, entry by entry. */
const AIMET_FILE: AimetEncodingsV200 = {
  version: '2.0.0',
  encodings: [
    { name: 'x', output_dtype: 'uint8', y_scale: S.x, y_zero_point: 100 },
    { name: 'conv_out', output_dtype: 'uint8', y_scale: S.conv_out, y_zero_point: 30 },
    { name: 'fc_out', output_dtype: 'uint8', y_scale: S.fc_out, y_zero_point: 128 },
    { name: 'mm_out', output_dtype: 'uint8', y_scale: S.mm_out, y_zero_point: 7 },
    { name: 'y', output_dtype: 'uint8', y_scale: S.y, y_zero_point: 90 },
    { axis: 0, name: 'conv.weight', output_dtype: 'int8', y_scale: S.conv },
    { name: 'fc.weight', output_dtype: 'int8', y_scale: S.fc },
    { axis: 1, name: 'mm.weight', output_dtype: 'int8', y_scale: S.mm },
    // Conv: input x, per-channel weight → one scale per output channel, axis 0, no zero point.
    { axis: 0, name: 'conv.bias', output_dtype: 'int32', y_scale: S.conv.map((w) => f32mul(S.x, w)) },
    // Gemm after Flatten: the input scale is conv_out's; per-tensor weight → a scalar y_scale.
    { name: 'fc.bias', output_dtype: 'int32', y_scale: f32mul(S.conv_out, S.fc) },
    // MatMul + Add: the Add's constant, with the MatMul's input fc_out and per-channel weight.
    { axis: 0, name: 'mm.bias', output_dtype: 'int32', y_scale: S.mm.map((w) => f32mul(S.fc_out, w)) },
  ],
};

const byName = (list: readonly AimetV2Encoding[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));

async function setUp(configure: (b: QuantBuilder) => QuantBuilder = (b) => b.layers('fc').perTensor()) {
  const model = buildModel();
  const plan = await configure(createQuant()(model)).plan();
  const links = int32BiasLinks(model.graph, plan);
  const rankOf = (t: string) => model.graph.tensor(t)?.shape?.length;
  return { model, plan, links, rankOf, encodings: calibrated(plan) };
}

describe('int32 bias encodings (AIMET 2.x export_int32_bias)', () => {
  it('2.0.0: writes the int32 bias of Conv, Gemm and MatMul + Add field by field as AIMET does', async () => {
    const { plan, links, encodings } = await setUp();
    const file = toAimetEncodings(plan, encodings, { version: '2.0.0', biasLinks: links }) as AimetEncodingsV200;
    expect(byName(file.encodings)).toEqual(byName(AIMET_FILE.encodings));
    // Exactly AIMET's fields: no y_zero_point (all zero), axis only per channel.
    const conv = file.encodings.find((e) => e.name === 'conv.bias');
    expect(Object.keys(conv ?? {}).sort()).toEqual(['axis', 'name', 'output_dtype', 'y_scale']);
    expect(Object.keys(file.encodings.find((e) => e.name === 'fc.bias') ?? {}).sort()).toEqual([
      'name',
      'output_dtype',
      'y_scale',
    ]);
    // Each bias comes right after its layer's weight.
    const names = file.encodings.map((e) => e.name);
    expect(names.indexOf('conv.bias')).toBe(names.indexOf('conv.weight') + 1);
  });

  it('2.0.0 round trips: quantsim → file → quantsim, and AIMET-style file → quantsim → file', async () => {
    const { plan, links, rankOf, encodings } = await setUp();
    const text = serializeAimetEncodings(plan, encodings, { version: '2.0.0', biasLinks: links });
    const loaded = matchEncodings(plan, parseAimetEncodings(text), { int32Biases: links, rankOf });
    expect(loaded.mismatches).toEqual([]);
    // The biases stay float in the plan (their quantizers are off): the int32 entries are checked,
    // and written again from the input and weight encodings.
    expect(loaded.encodings).toEqual(encodings);
    expect(serializeAimetEncodings(plan, loaded.encodings, { version: '2.0.0', biasLinks: links })).toBe(text);

    const fromAimet = matchEncodings(plan, parseAimetEncodings(AIMET_FILE), { int32Biases: links, rankOf });
    expect(fromAimet.mismatches).toEqual([]);
    const again = toAimetEncodings(plan, fromAimet.encodings, { version: '2.0.0', biasLinks: links }) as AimetEncodingsV200;
    expect(byName(again.encodings)).toEqual(byName(AIMET_FILE.encodings));
  });

  it('without the bias links, strict load reports every int32 bias (what it did before)', async () => {
    const { plan, rankOf } = await setUp();
    const result = matchEncodings(plan, parseAimetEncodings(AIMET_FILE), { rankOf, strict: false });
    expect(result.mismatches.map((m) => `${m.tensor}:${m.field}`).sort()).toEqual([
      'conv.bias:enabled',
      'fc.bias:enabled',
      'mm.bias:name',
    ]);
  });

  it('a bias scale that is not s_in·s_w is reported, with the factors; float32 rounding is not', async () => {
    const { plan, links, rankOf } = await setUp();
    const edit = (name: string, change: Partial<AimetV2Encoding>): AimetEncodingsV200 => ({
      ...AIMET_FILE,
      encodings: AIMET_FILE.encodings.map((e) => (e.name === name ? { ...e, ...change } : e)),
    });
    // A writer that multiplies in float64 differs by float32 rounding only: accepted.
    const float64 = edit('conv.bias', { y_scale: S.conv.map((w) => S.x * w) });
    expect(matchEncodings(plan, parseAimetEncodings(float64), { int32Biases: links, rankOf }).mismatches).toEqual([]);

    const wrong = edit('conv.bias', { y_scale: S.conv.map((w, i) => f32mul(S.x, w) * (i === 1 ? 1.01 : 1)) });
    const err = (() => {
      try {
        matchEncodings(plan, parseAimetEncodings(wrong, 'wrong.encodings'), { int32Biases: links, rankOf });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EncodingsMismatchError);
    const message = (err as Error).message;
    expect(message).toMatch(/'conv\.bias'.*int32Bias: file has scale .* \(channel 1\), plan has s_in·s_w = /);
    expect(message).toMatch(/input activation:x scale 0\.0123 × weight param:conv\.weight scale 0\.02/);

    const perChannel = edit('fc.bias', { y_scale: [0.0002, 0.0002, 0.0002, 0.0002], axis: 0 });
    const found = matchEncodings(plan, parseAimetEncodings(perChannel), { int32Biases: links, rankOf, strict: false });
    expect(found.mismatches.map((m) => m.message)).toEqual([
      expect.stringMatching(/'fc\.bias'.*int32Bias: file has a per-channel int32 bias \(4 scales\), plan has a per-tensor one/),
    ]);
    const eightBit = edit('mm.bias', { output_dtype: 'int8', y_scale: 0.1, axis: undefined });
    expect(
      matchEncodings(plan, parseAimetEncodings(eightBit), { int32Biases: links, rankOf, strict: false }).mismatches[0]?.message,
    ).toMatch(/'mm\.bias' int32Bias: file has an encoding of 8 bits \(int, offset -128\), plan has an int32 bias/);
  });

  it('no int32 bias where the input is not quantized; a file that has one says why', async () => {
    const { plan, links, rankOf, encodings } = await setUp((b) => b.layers('fc').perTensor().tensors('x').disable());
    const file = toAimetEncodings(plan, encodings, { version: '2.0.0', biasLinks: links }) as AimetEncodingsV200;
    const names = file.encodings.map((e) => e.name);
    expect(names).not.toContain('conv.bias');
    expect(names).toEqual(expect.arrayContaining(['fc.bias', 'mm.bias']));
    const withConvBias = { ...AIMET_FILE, encodings: AIMET_FILE.encodings.filter((e) => e.name !== 'x') };
    const result = matchEncodings(plan, parseAimetEncodings(withConvBias), { int32Biases: links, rankOf, strict: false });
    expect(result.mismatches.map((m) => m.message)).toEqual([
      expect.stringMatching(
        /'conv\.bias'.*int32Bias: file has an int32 bias, plan has none, since the input of conv is not quantized/,
      ),
    ]);
  });

  it("a bias with its own encoding keeps it (as AIMET); MatMul + Add's bias, which quantsim does not quantize, is int32", async () => {
    const { plan, links, encodings } = await setUp((b) => b.layers('fc').perTensor().defaults({ quantizeBias: true }));
    const file = toAimetEncodings(plan, encodings, { version: '2.0.0', biasLinks: links }) as AimetEncodingsV200;
    const entry = (name: string) => file.encodings.find((e) => e.name === name);
    expect(entry('conv.bias')).toEqual({ name: 'conv.bias', output_dtype: 'int8', y_scale: 0.0025 });
    expect(entry('fc.bias')).toEqual({ name: 'fc.bias', output_dtype: 'int8', y_scale: 0.016 });
    expect(entry('mm.bias')?.output_dtype).toBe('int32');
  });

  it('int32Bias defaults to 2.0.0 only, as AIMET; on in 0.6.1 and 1.0.0 it round-trips too', async () => {
    const { plan, links, rankOf, encodings } = await setUp();
    const names = (version: AimetEncodingsVersion, int32Bias?: boolean) => {
      const file = toAimetEncodings(plan, encodings, {
        version,
        biasLinks: links,
        ...(int32Bias === undefined ? {} : { int32Bias }),
      });
      return JSON.stringify(file).match(/\.bias/g)?.length ?? 0;
    };
    expect(names('2.0.0', false)).toBe(0);
    expect(names('1.0.0')).toBe(0);
    expect(names('0.6.1')).toBe(0);
    const v1 = toAimetEncodings(plan, encodings, { version: '1.0.0', biasLinks: links, int32Bias: true }) as AimetEncodingsV100;
    expect(v1.param_encodings.find((e) => e.name === 'conv.bias')).toEqual({
      bw: 32,
      dtype: 'INT',
      enc_type: 'PER_CHANNEL',
      is_sym: true,
      name: 'conv.bias',
      offset: [-(2 ** 31), -(2 ** 31), -(2 ** 31)],
      scale: S.conv.map((w) => f32mul(S.x, w)),
    });
    for (const version of ['0.6.1', '1.0.0', '2.0.0'] as const) {
      const options = { version, biasLinks: links, int32Bias: true };
      const text = serializeAimetEncodings(plan, encodings, options);
      const loaded = matchEncodings(plan, parseAimetEncodings(text), { int32Biases: links, rankOf });
      expect(loaded.mismatches, version).toEqual([]);
      expect(loaded.encodings, version).toEqual(encodings);
      expect(serializeAimetEncodings(plan, loaded.encodings, options), version).toBe(text);
    }
  });
});
