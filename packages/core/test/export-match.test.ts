import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EncodingsMismatchError, matchEncodings, parseAimetEncodings, QuantPlan } from '../src/index.js';
import { act, fixture, GOLDEN_PLAN, param } from './fixtures/encodings/golden-plan.js';

/** The plan that `ten-mismatches.encodings` disagrees with in exactly ten places. */
const PLAN = new QuantPlan(
  [
    act('ok'),
    act('a'),
    act('b', { symmetric: true }),
    act('c'),
    act('d', { symmetric: true }),
    act('e', { enabled: false }),
    act('relu_out'),
    param('w1', { symmetric: true }),
    param('w2', { symmetric: true, perChannelAxis: 0 }),
    param('w3', { symmetric: true }),
  ],
  [{ tensor: 'shape_out', reason: 'not a float tensor' }],
);

const parsed = parseAimetEncodings(readFileSync(fixture('ten-mismatches.encodings'), 'utf8'), 'ten-mismatches.encodings');

describe('matching encodings to the plan', () => {
  it('strict: one error lists all ten mismatches, each with tensor, field, file value and plan value', () => {
    let err: unknown;
    try {
      matchEncodings(PLAN, parsed);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EncodingsMismatchError);
    const error = err as EncodingsMismatchError;
    expect(error.code).toBe('ENCODINGS_MISMATCH');
    expect(error.source).toBe('ten-mismatches.encodings');
    expect(error.mismatches).toHaveLength(10);
    expect(error.mismatches.map((m) => [m.tensor, m.field, m.fileValue, m.planValue])).toEqual([
      ['a', 'bitwidth', 16, 8],
      ['b', 'symmetric', false, true],
      ['c', 'dtype', 'float', 'int'],
      ['d', 'unsignedSymmetric', true, false],
      ['e', 'enabled', true, false],
      ['ghost', 'name', 'ghost', undefined],
      ['w1', 'perChannel', true, false],
      ['w2', 'perChannel', false, true],
      ['relu_out', 'kind', 'param', 'activation'],
      ['w3', 'strictSymmetric', true, false],
    ]);
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('Encodings ten-mismatches.encodings disagree with the quantization plan in 10 places:');
    expect(lines.slice(1, 11)).toEqual([
      "  - 'a' (activation:a) bitwidth: file has 16, plan has 8 [$.activation_encodings[1]]",
      "  - 'b' (activation:b) symmetric: file has asymmetric, plan has symmetric [$.activation_encodings[2]]",
      "  - 'c' (activation:c) dtype: file has float16, plan has int8 [$.activation_encodings[3]]",
      "  - 'd' (activation:d) unsignedSymmetric: file has unsigned symmetric (offset 0), plan has signed symmetric only [$.activation_encodings[4]]",
      "  - 'e' (activation:e) enabled: file has an encoding, plan has the quantizer disabled [$.activation_encodings[5]]",
      "  - 'ghost' name: file has an encoding, plan has no quantizer for this tensor (not in the model, or not quantized) [$.activation_encodings[6]]",
      "  - 'w1' (param:w1) perChannel: file has per-channel (3 channels), plan has per-tensor [$.param_encodings[0]]",
      "  - 'w2' (param:w2) perChannel: file has per-tensor, plan has per-channel (axis 0) [$.param_encodings[1]]",
      "  - 'relu_out' (activation:relu_out) kind: file has it in param_encodings, plan has it quantized as activation [$.param_encodings[2]]",
      "  - 'w3' (param:w3) strictSymmetric: file has strict symmetric (offset -2^(b-1) + 1), plan has symmetric, not strict [$.param_encodings[3]]",
    ]);
    // The hint says what to do.
    expect(error.hint).toMatch(/loadEncodings\(file, \{ strict: false \}\)/);
    expect(error.message).toMatch(/or change the plan/);
  });

  it('non-strict: returns the mismatches as warnings and uses the encodings that match', () => {
    const { encodings, mismatches } = matchEncodings(PLAN, parsed, { strict: false });
    expect(mismatches).toHaveLength(10);
    expect([...encodings.keys()]).toEqual(['activation:ok']);
    expect(encodings.get('activation:ok')?.channels[0]?.offset).toBe(-20);
  });

  it('reports enabled quantizers the file does not cover, and names why a tensor has no quantizer', () => {
    const plan = new QuantPlan(
      [act('x'), act('y'), param('h', { dtype: 'float', bitwidth: 16 })],
      [{ tensor: 'idx', reason: 'not a float tensor' }],
    );
    const file = {
      version: '1.0.0',
      activation_encodings: [
        { name: 'x', dtype: 'INT', enc_type: 'PER_TENSOR', bw: 8, is_sym: false, scale: [0.1], offset: [-3] },
        { name: 'idx', dtype: 'INT', enc_type: 'PER_TENSOR', bw: 8, is_sym: false, scale: [0.1], offset: [-3] },
      ],
      param_encodings: [],
    };
    const { mismatches } = matchEncodings(plan, parseAimetEncodings(file), { strict: false });
    expect(mismatches.map((m) => m.message)).toEqual([
      "'idx' name: file has an encoding, plan has no quantizer for this tensor (skipped: not a float tensor) [$.activation_encodings[1]]",
      "'y' (activation:y) missing: file has no encoding, plan has an enabled int8 quantizer",
      "'h' (param:h) missing: file has no encoding, plan has an enabled float16 quantizer",
    ]);
    // 2.0.0 files have no entries for float16 quantizers: not a mismatch there.
    const v2 = { version: '2.0.0', encodings: [{ name: 'x', output_dtype: 'uint8', y_scale: 0.1, y_zero_point: 3 }] };
    expect(matchEncodings(plan, parseAimetEncodings(v2), { strict: false }).mismatches.map((m) => m.tensor)).toEqual(['y']);
  });

  it('gives 0.6.1 and 1.0.0 per-channel encodings the plan’s axis, and checks 2.0.0 axes', () => {
    const plan = new QuantPlan([param('w', { symmetric: true, perChannelAxis: 1 })]);
    const channel = { bitwidth: 8, dtype: 'int', is_symmetric: 'True', min: -12.8, max: 12.7, offset: -128, scale: 0.1 };
    const one = { version: '0.6.1', activation_encodings: {}, param_encodings: { w: [channel] } };
    // One item: 0.6.1 cannot tell per-tensor from a single channel; the plan decides.
    expect(matchEncodings(plan, parseAimetEncodings(one)).encodings.get('param:w')?.axis).toBe(1);
    const two = { ...one, param_encodings: { w: [channel, channel] } };
    expect(matchEncodings(plan, parseAimetEncodings(two)).encodings.get('param:w')?.axis).toBe(1);
    const v2 = { version: '2.0.0', encodings: [{ name: 'w', output_dtype: 'int8', y_scale: [0.1, 0.2], axis: 0 }] };
    expect(() => matchEncodings(plan, parseAimetEncodings(v2, 'w.encodings'))).toThrow(
      "Encodings w.encodings disagree with the quantization plan in 1 place: 'w' (param:w) axis: file has axis 0, plan has axis 1 [$.encodings[0]].",
    );
  });

  it('matches an activation entry to both the output quantizer and a consumer’s input quantizer of the tensor', () => {
    const { encodings } = matchEncodings(
      new QuantPlan([act('input.1'), ...GOLDEN_PLAN.quantizers]),
      parseAimetEncodings(readFileSync(fixture('aimet-1.0.0.encodings'), 'utf8')),
    );
    expect(encodings.get('activation:input.1')).toEqual(encodings.get('input:conv1:0'));
    expect(encodings.get('input:conv1:0')?.channels[0]?.scale).toBe(0.011764705882352941);
    expect(encodings.has('activation:20')).toBe(true);
    expect(encodings.has('param:conv1.bias')).toBe(false); // disabled, not in the file
  });
});
