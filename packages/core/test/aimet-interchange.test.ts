import { describe, expect, it } from 'vitest';
import { matchEncodings, parseAimetEncodings, QuantPlan } from '../src/index.js';
import { act, param } from './fixtures/encodings/golden-plan.js';

describe('reading what aimet_onnx writes', () => {
  it('version 2.1.0 reads with the 2.0.0 layout', () => {
    const entries = [{ name: 'x', output_dtype: 'uint8', y_scale: 0.1, y_zero_point: 3 }];
    const v21 = parseAimetEncodings({ version: '2.1.0', encodings: entries });
    const v20 = parseAimetEncodings({ version: '2.0.0', encodings: entries });
    expect(v21.entries).toEqual(v20.entries);
    expect(() => parseAimetEncodings({ version: '2.2.0', encodings: entries })).toThrow(/2\.0\.0 and 2\.1\.0/);
  });

  it('unsigned 2.0.0 activations are classified by their grid: zero point 2^(b−1) is the symmetric grid', () => {
    // force_activation_as='unsigned': the symmetric grid stored as uint8 with the zero point + 128.
    const file = parseAimetEncodings({
      version: '2.0.0',
      encodings: [
        { name: 's', output_dtype: 'uint8', y_scale: 0.1, y_zero_point: 128 },
        { name: 'k', output_dtype: 'uint8', y_scale: 0.1, y_zero_point: 127 },
        { name: 'a', output_dtype: 'uint8', y_scale: 0.1, y_zero_point: 3 },
        { name: 'w', output_dtype: 'int8', y_scale: 0.1 },
      ],
    });
    const byName = new Map(file.entries.map((e) => [e.tensor, e.encoding]));
    expect(byName.get('s')).toMatchObject({ symmetric: true, channels: [{ offset: -128 }] });
    expect(byName.get('k')).toMatchObject({ symmetric: true, strictSymmetric: true, channels: [{ offset: -127 }] });
    expect(byName.get('a')).toMatchObject({ symmetric: false, channels: [{ offset: -3 }] });
    // A symmetric plan matches; so does an asymmetric one (its grid may sit at offset −128 too),
    // and then the loaded encoding is the plan's asymmetric kind on the file's grid.
    const symmetricPlan = new QuantPlan([
      act('s', { symmetric: true }),
      act('k', { symmetric: true, strictSymmetric: true }),
      act('a'),
      param('w', { symmetric: true }),
    ]);
    expect(matchEncodings(symmetricPlan, file).mismatches).toEqual([]);
    const asymmetric = matchEncodings(new QuantPlan([act('s'), act('k'), act('a'), param('w', { symmetric: true })]), file);
    expect(asymmetric.mismatches).toEqual([]);
    expect(asymmetric.encodings.get('activation:s')).toMatchObject({
      symmetric: false,
      channels: [{ offset: -128, scale: 0.1 }],
    });
    expect(asymmetric.encodings.get('activation:s')?.strictSymmetric).toBeUndefined();
    // An asymmetric grid under a symmetric quantizer still disagrees.
    expect(() => matchEncodings(new QuantPlan([act('a', { symmetric: true })]), file, { strict: true })).toThrow(/symmetric/);
  });

  it('a negative channel axis (AIMET writes −1 for MatMul weights) is counted from the rank', () => {
    const plan = new QuantPlan([param('fc.w', { symmetric: true, perChannelAxis: 1 })]);
    const file = parseAimetEncodings({
      version: '2.0.0',
      encodings: [{ name: 'fc.w', output_dtype: 'int8', y_scale: [0.1, 0.2, 0.3], axis: -1 }],
    });
    const matched = matchEncodings(plan, file, { rankOf: (t) => (t === 'fc.w' ? 2 : undefined) });
    expect(matched.mismatches).toEqual([]);
    expect(matched.encodings.get('param:fc.w')?.axis).toBe(1);
    // Without the rank the axis is compared as written.
    expect(matchEncodings(plan, file, { strict: false }).mismatches.map((m) => m.field)).toEqual(['axis']);
  });
});
