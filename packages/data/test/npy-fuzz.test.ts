import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataInputError, decodeNpy, encodeNpy } from '../src/index.js';

/** Float32 or Int16 data of a random shape (up to 4 axes, each up to 5), with its shape. */
const arrays = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 4 }).chain((shape) => {
  const count = shape.reduce((a, b) => a * b, 1);
  return fc.oneof(
    fc
      .array(fc.float({ noNaN: true }), { minLength: count, maxLength: count })
      .map((v) => ({ shape, data: Float32Array.from(v) as Float32Array | Int16Array })),
    fc
      .array(fc.integer({ min: -32768, max: 32767 }), { minLength: count, maxLength: count })
      .map((v) => ({ shape, data: Int16Array.from(v) as Float32Array | Int16Array })),
  );
});

/** Edits aimed at the header (its first ~128 bytes) or anywhere, and truncation. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat({ max: 127 }), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('anyByte' as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({
    kind: fc.constant('header' as const),
    text: fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1e400,), }",
        "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '<U8', 'fortran_order': False, 'shape': (2,), }",
        "{'descr': '<f4', 'shape': (2,), }",
      ),
    ),
  }),
);

function mutate(bytes: Uint8Array, m: MutationValue): Uint8Array {
  const out = bytes.slice();
  switch (m.kind) {
    case 'truncate':
      return out.subarray(0, m.at % (out.length + 1));
    case 'byte':
    case 'anyByte':
      out[m.at % out.length] = m.value;
      return out;
    case 'header': {
      // Replace the header text, keeping the declared length (padded or cut to fit).
      const length = new DataView(out.buffer).getUint16(8, true);
      const text = new TextEncoder().encode(m.text.padEnd(length, ' ').slice(0, length));
      out.set(text.subarray(0, length), 10);
      return out;
    }
  }
}

type MutationValue =
  | { kind: 'truncate'; at: number }
  | { kind: 'byte' | 'anyByte'; at: number; value: number }
  | { kind: 'header'; text: string };

describe('.npy reading under fuzzing', () => {
  it('round-trips every shape and value through encodeNpy and decodeNpy', () => {
    fc.assert(
      fc.property(arrays, ({ shape, data }) => {
        const back = decodeNpy(encodeNpy(data, shape), 'a.npy');
        expect(back.shape).toEqual(shape);
        expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(data));
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated or edited file decodes to a consistent array or fails with DataInputError naming it, never anything else', () => {
    let rejected = 0;
    let decoded = 0;
    fc.assert(
      fc.property(arrays, mutation, ({ shape, data }, m) => {
        const bytes = mutate(encodeNpy(data, shape), m as MutationValue);
        let result: ReturnType<typeof decodeNpy> | undefined;
        try {
          result = decodeNpy(bytes, 'fuzzed.npy');
        } catch (e) {
          // Any other error type (RangeError from a typed array, a TypeError) is a defect.
          expect(e).toBeInstanceOf(DataInputError);
          expect((e as Error).message).toMatch(/^fuzzed\.npy: /);
          expect((e as DataInputError).hint).toBeTruthy();
          rejected++;
          return;
        }
        decoded++;
        const count = result.shape.reduce((a, b) => a * b, 1);
        expect(result.data.length).toBe(count);
        expect(result.dataOffset + result.data.byteLength).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 2000 },
    );
    console.log(`npy fuzz: ${decoded} decoded, ${rejected} rejected with DataInputError`);
    // Both outcomes occurred, so the property was exercised on both sides.
    expect(rejected).toBeGreaterThan(100);
    expect(decoded).toBeGreaterThan(100);
  });
});
