import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type AimetEncodingsVersion,
  type Encoding,
  EncodingsExportError,
  EncodingsFormatError,
  matchEncodings,
  parseAimetEncodings,
  QuantPlan,
  serializeAimetEncodings,
  toAimetEncodings,
} from '../src/index.js';
import { act, fixture, GOLDEN_ENCODINGS, GOLDEN_PLAN, param, spec } from './fixtures/encodings/golden-plan.js';

const read = (name: string) => readFileSync(fixture(name), 'utf8');
const VERSIONS: AimetEncodingsVersion[] = ['0.6.1', '1.0.0', '2.0.0'];

/** Parses and matches strictly, returning the encodings by quantizer id. */
function load(text: string, plan = GOLDEN_PLAN, source?: string) {
  const parsed = parseAimetEncodings(text, source);
  return { parsed, encodings: matchEncodings(plan, parsed).encodings };
}

describe('AIMET golden files', () => {
  // Golden files are written as AIMET writes them (json.dump(sort_keys=True, indent=4), offsets as
  // floats such as -114.0), with the field layout of AIMET's spec and source and the numbers of its
  // published PyTorch example.

  it('0.6.1: reads every field of every entry', () => {
    const parsed = parseAimetEncodings(read('aimet-0.6.1.encodings'), 'aimet-0.6.1.encodings');
    expect(parsed.version).toBe('0.6.1');
    expect(parsed.declaredVersion).toBe('0.6.1');
    expect(parsed.excludedLayers).toEqual([]);
    expect(parsed.quantizerArgs).toEqual({
      activation_bitwidth: 8,
      dtype: 'int',
      is_symmetric: false,
      param_bitwidth: 8,
      per_channel_quantization: true,
      quant_scheme: 'post_training_tf_enhanced',
    });
    const byTensor = new Map(parsed.entries.map((e) => [e.tensor, e]));
    expect([...byTensor.keys()]).toEqual(['20', '21', '22', 'input.1', 'conv1.weight', 'conv2.weight', 'fc1.weight']);
    const a20 = byTensor.get('20');
    expect(a20?.kind).toBe('activation');
    expect(a20?.path).toBe('$.activation_encodings["20"]');
    expect(a20?.perChannel).toBeUndefined(); // one item: 0.6.1 cannot tell
    expect(a20?.encoding).toEqual({
      dtype: 'int',
      bitwidth: 8,
      symmetric: false,
      channels: [{ scale: 0.018501389771699905, offset: -114, min: -2.109158515930176, max: 2.6086959838867188 }],
    });
    expect(byTensor.get('22')?.encoding).toEqual({ dtype: 'float', bitwidth: 16, symmetric: false, channels: [] });
    const w = byTensor.get('conv1.weight');
    expect(w?.kind).toBe('param');
    expect(w?.perChannel).toBe(true);
    expect(w?.encoding.symmetric).toBe(true);
    expect(w?.encoding.strictSymmetric).toBeUndefined();
    expect(w?.encoding.axis).toBeUndefined(); // 0.6.1 does not record the axis
    expect(w?.encoding.channels.map((c) => [c.scale, c.offset, c.min, c.max])).toEqual([
      [0.0078125, -128, -1, 0.9921875],
      [0.00390625, -128, -0.5, 0.49609375],
      [0.001953125, -128, -0.25, 0.248046875],
    ]);
    expect(byTensor.get('conv2.weight')?.encoding.channels[0]).toEqual({
      scale: 0.0004936049808748066,
      offset: -127,
      min: -0.06268782913684845,
      max: 0.06318144500255585,
    });
  });

  it('1.0.0: reads every field of every entry', () => {
    const parsed = parseAimetEncodings(read('aimet-1.0.0.encodings'));
    expect(parsed.version).toBe('1.0.0');
    expect(parsed.excludedLayers).toEqual(['head']);
    expect(parsed.entries.map((e) => `${e.kind}:${e.tensor}`)).toEqual([
      'activation:input.1',
      'activation:20',
      'activation:21',
      'activation:22',
      'param:conv1.weight',
      'param:conv2.weight',
      'param:fc1.weight',
    ]);
    const [input, a20, , a22, w1] = parsed.entries;
    expect(input?.path).toBe('$.activation_encodings[0]');
    expect(input?.perChannel).toBe(false);
    expect(input?.encoding.channels).toEqual([
      { scale: 0.011764705882352941, offset: 0, min: 0, max: 0.011764705882352941 * 255 },
    ]);
    // 1.0.0 has no min/max: they follow from scale and offset.
    const ch = a20?.encoding.channels[0];
    expect(ch?.offset).toBe(-114);
    expect(ch?.scale).toBe(0.018501389771699905);
    expect(ch?.min).toBeCloseTo(-2.109158515930176, 6);
    expect(ch?.max).toBeCloseTo(2.6086959838867188, 6);
    expect(a22?.encoding).toEqual({ dtype: 'float', bitwidth: 16, symmetric: false, channels: [] });
    expect(w1?.perChannel).toBe(true);
    expect(w1?.encoding.symmetric).toBe(true);
    expect(w1?.encoding.channels.map((c) => c.scale)).toEqual([0.0078125, 0.00390625, 0.001953125]);
    expect(w1?.encoding.channels.map((c) => c.offset)).toEqual([-128, -128, -128]);
  });

  it('2.0.0: reads every field, turning ONNX zero points back into AIMET offsets', () => {
    const parsed = parseAimetEncodings(read('aimet-2.0.0.encodings'));
    expect(parsed.version).toBe('2.0.0');
    expect(parsed.entries.every((e) => e.kind === undefined)).toBe(true);
    const byTensor = new Map(parsed.entries.map((e) => [e.tensor, e]));
    expect(byTensor.has('22')).toBe(false); // AIMET writes no 2.0.0 entry for float16
    expect(byTensor.get('20')?.encoding.channels[0]?.offset).toBe(-114); // uint8 zero point 114
    expect(byTensor.get('conv2.weight')?.encoding.channels[0]?.offset).toBe(-127);
    expect(byTensor.get('input.1')?.encoding.channels[0]?.offset).toBe(0); // zero point omitted
    const w = byTensor.get('conv1.weight');
    expect(w?.path).toBe('$.encodings[1]');
    expect(w?.perChannel).toBe(true);
    expect(w?.encoding).toEqual({
      dtype: 'int',
      bitwidth: 8,
      symmetric: true, // int8 with zero point 0 (omitted)
      axis: 0,
      channels: [0.0078125, 0.00390625, 0.001953125].map((s) => ({ scale: s, offset: -128, min: -128 * s, max: 127 * s })),
    });
  });

  it('2.0.0: reads the examples of AIMET’s published spec', () => {
    const parsed = parseAimetEncodings(read('aimet-2.0.0-spec-examples.encodings'));
    const [perTensor, perChannel, bias] = parsed.entries;
    expect(perTensor?.encoding).toMatchObject({ dtype: 'int', bitwidth: 8, symmetric: false });
    expect(perTensor?.encoding.channels).toEqual([{ scale: 0.01, offset: -41, min: -0.41000000000000003, max: 2.14 }]);
    expect(perChannel?.encoding).toMatchObject({ bitwidth: 8, symmetric: true, axis: 0 });
    expect(perChannel?.encoding.channels.map((c) => c.offset)).toEqual([-128, -128, -128]);
    expect(bias?.encoding).toMatchObject({ bitwidth: 32, symmetric: true, axis: 0 });
    expect(bias?.encoding.channels.map((c) => c.offset)).toEqual([-(2 ** 31), -(2 ** 31), -(2 ** 31)]);
  });

  it('reads a file without version (AIMET’s 0.4.0 example, no dtype) as 0.6.1', () => {
    const parsed = parseAimetEncodings(read('aimet-0.4.0-no-version.encodings'));
    expect(parsed.version).toBe('0.6.1');
    expect(parsed.declaredVersion).toBeUndefined();
    expect(parsed.entries.map((e) => [e.kind, e.tensor, e.encoding.dtype, e.encoding.channels[0]?.offset])).toEqual([
      ['activation', '20', 'int', -114],
      ['param', 'conv2.weight', 'int', -127],
    ]);
  });

  for (const version of ['0.6.1', '1.0.0', '2.0.0'] as const) {
    const file = `aimet-${version}.encodings`;

    it(`${version}: the writer produces the golden file’s content from the same encodings`, () => {
      const excludedLayers = version === '1.0.0' ? ['head'] : [];
      const written = toAimetEncodings(GOLDEN_PLAN, GOLDEN_ENCODINGS, { version, excludedLayers });
      expect(written).toEqual(JSON.parse(read(file)));
    });

    it(`${version}: an AIMET file read, matched and written again keeps its content`, () => {
      const { parsed, encodings } = load(read(file));
      expect(toAimetEncodings(GOLDEN_PLAN, encodings, { version, excludedLayers: parsed.excludedLayers })).toEqual(
        JSON.parse(read(file)),
      );
    });
  }
});

describe('round trip', () => {
  for (const version of VERSIONS) {
    it(`${version}: export, parse, export gives the same bytes`, () => {
      const options = { version, excludedLayers: ['head', 'classifier'] };
      const first = serializeAimetEncodings(GOLDEN_PLAN, GOLDEN_ENCODINGS, options);
      const { parsed, encodings } = load(first);
      const second = serializeAimetEncodings(GOLDEN_PLAN, encodings, { version, excludedLayers: parsed.excludedLayers });
      expect(second).toBe(first);
      // The matched encodings are the ones written (the 2.0.0 file has no fp16 entry; the writer adds it back from the plan).
      for (const [id, e] of GOLDEN_ENCODINGS) {
        if (version === '2.0.0' && e.dtype === 'float') continue;
        const got = encodings.get(id);
        expect(got?.dtype, id).toBe(e.dtype);
        expect(got?.axis, id).toBe(e.axis);
        expect(
          got?.channels.map((c) => [c.scale, c.offset]),
          id,
        ).toEqual(e.channels.map((c) => [c.scale, c.offset]));
      }
    });
  }

  it('writes sorted keys, two-space indentation and a trailing newline; tensor "20" sorts before "3"', () => {
    const plan = new QuantPlan([act('3'), act('20'), act('input')]);
    const e: Encoding = {
      dtype: 'int',
      bitwidth: 8,
      symmetric: false,
      channels: [{ scale: 0.5, offset: -1, min: -0.5, max: 127 }],
    };
    const text = serializeAimetEncodings(
      plan,
      new Map([
        ['activation:3', e],
        ['activation:20', e],
        ['activation:input', e],
      ]),
      { version: '0.6.1' },
    );
    expect(text.endsWith('}\n')).toBe(true);
    expect(
      text.startsWith('{\n  "activation_encodings": {\n    "20": [\n      {\n        "bitwidth": 8,\n        "dtype": "int",'),
    ).toBe(true);
    const keys = [...text.matchAll(/^ {4}"([^"]+)": \[/gm)].map((m) => m[1]);
    expect(keys).toEqual(['20', '3', 'input']);
    expect(text).toContain('"is_symmetric": "False"');
    expect(text.split('\n').at(-2)).toBe('}');
  });
});

describe('writer', () => {
  const e8: Encoding = {
    dtype: 'int',
    bitwidth: 8,
    symmetric: true,
    channels: [{ scale: 0.1, offset: -128, min: -12.8, max: 12.7 }],
  };

  it('puts input quantizers in activation_encodings by tensor name, and writes a shared tensor once', () => {
    const plan = new QuantPlan([
      act('x'),
      spec({ id: 'input:fc:0', tensor: 'x', kind: 'input', layer: 'fc', inputIndex: 0 }),
      param('w', { symmetric: true }),
    ]);
    const asym = { ...e8, symmetric: false };
    const file = toAimetEncodings(
      plan,
      new Map([
        ['activation:x', asym],
        ['input:fc:0', asym],
        ['param:w', e8],
      ]),
    );
    expect(file).toMatchObject({
      version: '1.0.0', // the default, as in current AIMET
      activation_encodings: [{ name: 'x', enc_type: 'PER_TENSOR', is_sym: false }],
      param_encodings: [{ name: 'w', dtype: 'INT', bw: 8, is_sym: true, scale: [0.1], offset: [-128] }],
      quantizer_args: { quant_scheme: 'post_training_tf_enhanced', is_symmetric: true, per_channel_quantization: false },
    });
  });

  it('rejects, all at once, missing encodings and quantizers of one tensor that disagree', () => {
    const plan = new QuantPlan([
      act('x'),
      spec({ id: 'input:fc:0', tensor: 'x', kind: 'input', layer: 'fc', inputIndex: 0, symmetric: true }),
      act('y'),
      param('w'),
    ]);
    const err = (() => {
      try {
        toAimetEncodings(
          plan,
          new Map([
            ['activation:x', { ...e8, symmetric: false }],
            ['input:fc:0', e8],
            ['param:w', { ...e8, channels: [{ scale: -1, offset: 3, min: 0, max: 1 }] }],
          ]),
        );
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EncodingsExportError);
    const { problems, code, message } = err as EncodingsExportError;
    expect(code).toBe('EXPORT');
    expect(problems).toEqual([
      "quantizer activation:y (tensor 'y') has no encoding",
      'quantizer param:w has scale -1; scales must be positive',
      'quantizer param:w has offset 3; offsets are integers in [-(2^8 - 1), 0]',
    ]);
    expect(message).toMatch(/Calibrate the model/);
    // Once the numbers are valid, the disagreement on tensor x is reported.
    expect(() =>
      toAimetEncodings(
        plan,
        new Map([
          ['activation:x', { ...e8, symmetric: false }],
          ['input:fc:0', e8],
          ['activation:y', e8],
          ['param:w', e8],
        ]),
      ),
    ).toThrow(/tensor 'x' has different encodings from activation:x and input:fc:0/);
  });

  it('leaves out disabled quantizers, and float16 ones in 2.0.0', () => {
    const plan = new QuantPlan([act('x', { enabled: false }), act('h', { dtype: 'float', bitwidth: 16 }), act('y')]);
    const file = toAimetEncodings(plan, new Map([['activation:y', { ...e8, symmetric: false }]]), { version: '2.0.0' });
    expect(file).toEqual({
      version: '2.0.0',
      encodings: [{ name: 'y', output_dtype: 'uint8', y_scale: 0.1, y_zero_point: 128 }],
    });
    const legacy = toAimetEncodings(plan, new Map([['activation:y', { ...e8, symmetric: false }]]), { version: '0.6.1' });
    expect(Object.keys(legacy.version === '0.6.1' ? legacy.activation_encodings : {})).toEqual(['h', 'y']);
  });

  it('2.0.0: strict and unsigned symmetric grids get int8 zero points −1 and −128', () => {
    const plan = new QuantPlan([
      param('s', { symmetric: true, strictSymmetric: true }),
      act('u', { symmetric: true, unsignedSymmetric: true }),
    ]);
    const file = toAimetEncodings(
      plan,
      new Map<string, Encoding>([
        ['param:s', { ...e8, strictSymmetric: true, channels: [{ scale: 0.1, offset: -127, min: -12.7, max: 12.7 }] }],
        ['activation:u', { ...e8, unsignedSymmetric: true, channels: [{ scale: 0.1, offset: 0, min: 0, max: 25.5 }] }],
      ]),
      { version: '2.0.0' },
    );
    expect(file).toEqual({
      version: '2.0.0',
      encodings: [
        { name: 's', output_dtype: 'int8', y_scale: 0.1, y_zero_point: -1 },
        { name: 'u', output_dtype: 'int8', y_scale: 0.1, y_zero_point: -128 },
      ],
    });
    // …and read back as the same grids.
    const { encodings } = load(JSON.stringify(file), plan);
    expect(encodings.get('param:s')).toMatchObject({ symmetric: true, strictSymmetric: true, channels: [{ offset: -127 }] });
    expect(encodings.get('param:s')?.channels[0]?.max).toBeCloseTo(12.7, 12); // 254 steps, not 255
    expect(encodings.get('activation:u')).toMatchObject({ symmetric: true, unsignedSymmetric: true, channels: [{ offset: 0 }] });
  });
});

describe('format errors', () => {
  const expectFormatError = (input: string | object, source?: string) => {
    try {
      parseAimetEncodings(input, source);
    } catch (e) {
      expect(e).toBeInstanceOf(EncodingsFormatError);
      expect((e as EncodingsFormatError).code).toBe('ENCODINGS_FORMAT');
      return e as EncodingsFormatError;
    }
    throw new Error('expected an EncodingsFormatError');
  };

  it('names the file for text that is not JSON, and for an empty file', () => {
    const err = expectFormatError('{"version": "1.0.0",', 'model.encodings');
    expect(err.source).toBe('model.encodings');
    expect(err.message).toMatch(/^Cannot read AIMET encodings model\.encodings: \$: not valid JSON/);
    expect(expectFormatError('  \n').problems).toEqual([{ path: '$', problem: 'the file is empty' }]);
  });

  it('rejects unknown versions and files that are not encodings', () => {
    expect(expectFormatError({ version: '3.0.0', encodings: [] }).problems[0]?.path).toBe('$.version');
    expect(expectFormatError({ version: '3.0.0', encodings: [] }).message).toMatch(
      /version '3\.0\.0' is not supported; quantsim reads 0\.6\.1/,
    );
    expect(expectFormatError({ graph: {} }).message).toMatch(/not an AIMET encodings file/);
    expect(expectFormatError([]).message).toMatch(/expected a JSON object/);
    // The version says 1.0.0 but the sections have 0.6.1's layout.
    expect(expectFormatError({ version: '1.0.0', activation_encodings: {} }).problems).toEqual([
      { path: '$.activation_encodings', problem: 'expected a list of encodings (version 1.0.0), got an object' },
    ]);
  });

  it('lists every problem of a file with its JSON path', () => {
    const err = expectFormatError(
      {
        version: '1.0.0',
        activation_encodings: [
          { name: 'a', dtype: 'INT', enc_type: 'PER_TENSOR', bw: 0, is_sym: false, scale: [0.1], offset: [0] },
          { dtype: 'INT', enc_type: 'PER_TENSOR', bw: 8, is_sym: false, scale: [0.1], offset: [0] },
        ],
        param_encodings: [
          { name: 'w', dtype: 'INT', enc_type: 'PER_CHANNEL', bw: 8, is_sym: 'yes', scale: [0.1, -2], offset: [0, 1] },
          { name: 'w', dtype: 'INT', enc_type: 'PER_BLOCK', bw: 4, is_sym: true, scale: [0.1], offset: [-8], block_size: 32 },
        ],
      },
      'bad.encodings',
    );
    expect(err.problems.map((p) => p.path)).toEqual([
      '$.activation_encodings[0].bw',
      '$.activation_encodings[1].name',
      '$.param_encodings[0].is_sym',
      '$.param_encodings[1].name',
      '$.param_encodings[1].enc_type',
    ]);
    expect(err.message).toContain('Cannot read AIMET encodings bad.encodings (5 problems):');
    expect(err.message).toContain(
      '  - $.activation_encodings[0].bw: expected a bitwidth (an integer from 1 to 32), got the number 0',
    );
    expect(err.message).toContain("  - $.param_encodings[1].name: tensor 'w' is listed twice");
    expect(err.message).toContain('PER_BLOCK encodings are not supported by quantsim');
    // Once is_sym is fixed, the bad scale and offset of the channels show, each at its own path.
    const err2 = expectFormatError({
      version: '1.0.0',
      param_encodings: [
        { name: 'w', dtype: 'INT', enc_type: 'PER_CHANNEL', bw: 8, is_sym: true, scale: [0.1, -2], offset: [0, 1] },
      ],
    });
    expect(err2.problems).toEqual([
      { path: '$.param_encodings[0].scale[1]', problem: 'expected a scale (a positive number), got the number -2' },
      {
        path: '$.param_encodings[0].offset[1]',
        problem: 'expected an offset (an integer from -255 to 0 at 8 bits), got the number 1',
      },
    ]);
  });

  it('0.6.1: quotes tensor names in paths and checks channels agree', () => {
    const err = expectFormatError({
      version: '0.6.1',
      activation_encodings: {},
      param_encodings: {
        'conv1.weight': [
          { bitwidth: 8, dtype: 'int', is_symmetric: 'True', min: -1, max: 1, offset: -128, scale: 0.0078 },
          { bitwidth: 4, dtype: 'int', is_symmetric: 'False', min: -1, max: 1, offset: -128.5, scale: 0.0078 },
        ],
        b: [],
      },
    });
    expect(err.problems).toEqual([
      { path: '$.param_encodings["conv1.weight"][1].bitwidth', problem: 'channel 1 has bitwidth the number 4, channel 0 has 8' },
      {
        path: '$.param_encodings["conv1.weight"][1].is_symmetric',
        problem: 'channel 1 has is_symmetric the string \'False\', channel 0 has "True"',
      },
      {
        path: '$.param_encodings["conv1.weight"][1].offset',
        problem: 'expected an offset (an integer from -255 to 0 at 8 bits), got the number -128.5',
      },
      { path: '$.param_encodings.b', problem: 'expected a non-empty list of encodings (one per channel), got a list' },
    ]);
  });

  it('2.0.0: rejects block, LPBQ and float encodings and zero points outside the type', () => {
    const err = expectFormatError({
      version: '2.0.0',
      encodings: [
        { name: 'a', output_dtype: 'int4', y_scale: [[0.1, 0.2]], axis: 1, block_size: 32 },
        { name: 'b', output_dtype: 'int4', per_block_int_scale: [[1]], per_channel_float_scale: [0.1], axis: 1, block_size: 32 },
        { name: 'c', output_dtype: 'float8e4m3fn', y_scale: 1 },
        { name: 'd', output_dtype: 'uint8', y_scale: 0.1, y_zero_point: 300 },
        { name: 'e', output_dtype: 'int8', y_scale: [0.1, 0.2] },
      ],
    });
    expect(err.problems.map((p) => `${p.path}: ${p.problem}`)).toEqual([
      '$.encodings[0].block_size: block encodings are not supported by quantsim',
      '$.encodings[1]: LPBQ encodings (per_block_int_scale) are not supported by quantsim',
      '$.encodings[2].output_dtype: float encodings ("float8e4m3fn") are not supported in 2.0.0 files by quantsim',
      '$.encodings[3].y_zero_point: expected a zero point (an integer from 0 to 255 for uint8), got the number 300',
      '$.encodings[4].axis: a list of 2 scales needs an axis',
    ]);
  });

  it('1.0.0: rejects fractional zero points (zero_point_shift)', () => {
    const err = expectFormatError({
      version: '1.0.0',
      activation_encodings: [
        {
          name: 'a',
          dtype: 'INT',
          enc_type: 'PER_TENSOR',
          bw: 8,
          is_sym: false,
          scale: [0.1],
          offset: [-10],
          zero_point_shift: [0.5],
        },
      ],
    });
    expect(err.problems[0]?.path).toBe('$.activation_encodings[0].zero_point_shift');
  });

  it('accepts bytes with a byte order mark, and is_symmetric as a JSON boolean (older aimet_onnx)', () => {
    const text = `\uFEFF${JSON.stringify({
      version: '0.6.1',
      activation_encodings: { x: [{ bitwidth: 8, dtype: 'int', is_symmetric: false, min: 0, max: 25.5, offset: 0, scale: 0.1 }] },
      param_encodings: {},
    })}`;
    const parsed = parseAimetEncodings(new TextEncoder().encode(text));
    expect(parsed.entries[0]?.encoding.symmetric).toBe(false);
    expect(parseAimetEncodings(text).entries).toHaveLength(1);
  });
});
