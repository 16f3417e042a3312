import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataInputError } from '../src/errors/data-input-error.js';
import { decodeNpy, encodeNpy, parseNpyHeader, readNpy, readNpyHeader } from '../src/npy/npy-format.js';

/** A .npy file written by hand, as numpy would for the given version and header text. */
function npy(version: 1 | 2 | 3, header: string, data: Uint8Array): Uint8Array {
  const lengthSize = version === 1 ? 2 : 4;
  const unpadded = 6 + 2 + lengthSize + header.length + 1;
  const padded = `${header}${' '.repeat(Math.ceil(unpadded / 64) * 64 - unpadded)}\n`;
  const head = new TextEncoder().encode(padded);
  const out = new Uint8Array(8 + lengthSize + head.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, head.length, true);
  else view.setUint32(8, head.length, true);
  out.set(head, 8 + lengthSize);
  out.set(data, 8 + lengthSize + head.length);
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('.npy reader', () => {
  it('reads versions 1, 2 and 3 with the data aligned as numpy writes it', () => {
    const values = Float32Array.from([1, -2.5, 3, 4, 5, 6]);
    for (const version of [1, 2, 3] as const) {
      const a = decodeNpy(npy(version, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", bytesOf(values)), 'a.npy');
      expect(a.version).toBe(version);
      expect(a.dtype).toBe('float32');
      expect(a.shape).toEqual([2, 3]);
      expect([...a.data]).toEqual([...values]);
      expect(a.dataOffset % 64).toBe(0);
    }
  });

  it('reads float64, int64, uint8, bool, scalars and 1-D shapes', () => {
    const f64 = decodeNpy(
      npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", bytesOf(Float64Array.from([0.5, 2]))),
      'f.npy',
    );
    expect(f64.dtype).toBe('float64');
    expect([...f64.data]).toEqual([0.5, 2]);
    const i64 = decodeNpy(
      npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", bytesOf(BigInt64Array.from([1n, -2n, 3n]))),
      'i.npy',
    );
    expect(i64.dtype).toBe('int64');
    expect([...i64.data]).toEqual([1n, -2n, 3n]);
    const u8 = decodeNpy(
      npy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", Uint8Array.from([0, 1, 254, 255])),
      'u.npy',
    );
    expect(u8.dtype).toBe('uint8');
    expect([...u8.data]).toEqual([0, 1, 254, 255]);
    const b = decodeNpy(npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", Uint8Array.from([1, 0])), 'b.npy');
    expect(b.dtype).toBe('bool');
    const scalar = decodeNpy(
      npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", bytesOf(Float32Array.from([7]))),
      's.npy',
    );
    expect(scalar.shape).toEqual([]);
    expect([...scalar.data]).toEqual([7]);
  });

  it('round-trips what encodeNpy writes, and reads headers alone from files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'quantsim-npy-'));
    const file = path.join(dir, 'x.npy');
    writeFileSync(file, encodeNpy(Int32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]));
    expect(readNpyHeader(file)).toMatchObject({ dtype: 'int32', shape: [3, 2], descr: '<i4' });
    expect([...readNpy(file).data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses Fortran order, big-endian data, unsupported dtypes and truncated files, naming the file', () => {
    const f =
      (header: string, data = new Uint8Array(64)) =>
      () =>
        parseNpyHeader(npy(1, header, data), 'calib/x.npy');
    expect(f("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }")).toThrow(
      /calib\/x\.npy: is stored in Fortran \(column-major\) order.*np\.ascontiguousarray/,
    );
    expect(f("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }")).toThrow(
      /calib\/x\.npy: holds big-endian data \('>f4'\).*astype\('<f4'\)/,
    );
    expect(f("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }")).toThrow(
      /has dtype '<f2', which quantsim does not read/,
    );
    expect(f("{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }")).toThrow(DataInputError);
    expect(f("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }")).toThrow(/structured array/);
    expect(() => parseNpyHeader(new TextEncoder().encode('PK\u0003\u0004 not npy'), 'x.npz')).toThrow(
      /x\.npz: is not a \.npy file/,
    );
    const short = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", new Uint8Array(8));
    expect(() => decodeNpy(short, 't.npy')).toThrow(
      /t\.npy: is truncated: shape \[4, 4\] needs 64 bytes of data but the file has 8/,
    );
    expect(() => readNpy('/nonexistent/calib.npy')).toThrow(/\/nonexistent\/calib\.npy: no such file/);
  });
});
