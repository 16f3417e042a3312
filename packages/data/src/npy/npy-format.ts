import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import type { DTypeName, TensorArray } from '@quantsim/core';
import { DataInputError } from '../errors/data-input-error.js';

/** What a `.npy` header says: element type, shape, and where the data starts. */
export interface NpyHeader {
  /** The numpy `descr`, e.g. `<f4`. */
  readonly descr: string;
  /** The element type in ONNX terms. */
  readonly dtype: DTypeName;
  readonly shape: readonly number[];
  /** Byte offset of the data in the file. */
  readonly dataOffset: number;
  /** Format version, 1 to 3. */
  readonly version: number;
}

/** A numpy array read from a `.npy` file. */
export interface NpyArray extends NpyHeader {
  readonly data: TensorArray;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

type ArrayMaker = (buffer: ArrayBuffer) => TensorArray;

/** numpy type characters and sizes (after the byte-order mark) that quantsim reads. */
const DTYPES: Readonly<Record<string, { dtype: DTypeName; size: number; make: ArrayMaker }>> = {
  f4: { dtype: 'float32', size: 4, make: (b) => new Float32Array(b) },
  f8: { dtype: 'float64', size: 8, make: (b) => new Float64Array(b) },
  i1: { dtype: 'int8', size: 1, make: (b) => new Int8Array(b) },
  i2: { dtype: 'int16', size: 2, make: (b) => new Int16Array(b) },
  i4: { dtype: 'int32', size: 4, make: (b) => new Int32Array(b) },
  i8: { dtype: 'int64', size: 8, make: (b) => new BigInt64Array(b) },
  u1: { dtype: 'uint8', size: 1, make: (b) => new Uint8Array(b) },
  u2: { dtype: 'uint16', size: 2, make: (b) => new Uint16Array(b) },
  u4: { dtype: 'uint32', size: 4, make: (b) => new Uint32Array(b) },
  u8: { dtype: 'uint64', size: 8, make: (b) => new BigUint64Array(b) },
  b1: { dtype: 'bool', size: 1, make: (b) => new Uint8Array(b) },
};

const fix = (file: string, what: string) =>
  new DataInputError(
    file,
    what,
    'Save the array with numpy.save() as a little-endian, C-ordered array of a plain numeric type, e.g. np.save(path, np.ascontiguousarray(a, dtype="<f4")).',
  );

/**
 * Parses the header of a `.npy` file (format versions 1.0, 2.0 and 3.0): little-endian (or
 * byte-order-free) numeric types, C order. `file` names the file in errors.
 * @throws DataInputError for a file that is not `.npy`, big-endian data, Fortran order, or a
 * structured, object, string or float16 dtype.
 */
export function parseNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m))
    throw fix(file, 'is not a .npy file (it does not start with \\x93NUMPY)');
  const version = bytes[6] as number;
  if (version < 1 || version > 3)
    throw fix(file, `is .npy format version ${version}.${bytes[7]}, which quantsim does not read (1.0 to 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthSize = version === 1 ? 2 : 4;
  const headerLength = version === 1 ? view.getUint16(8, true) : bytes.length >= 12 ? view.getUint32(8, true) : -1;
  const start = 8 + lengthSize;
  if (headerLength < 0 || start + headerLength > bytes.length)
    throw fix(file, 'is truncated: its header runs past the end of the file');
  const header = new TextDecoder(version === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) {
    if (/'descr'\s*:\s*\[/.test(header))
      throw fix(file, 'holds a structured array (a record dtype); quantsim reads plain numeric arrays only');
    throw fix(file, `has a header without a readable 'descr' (${header.trim().slice(0, 80)})`);
  }
  if (fortran === undefined || shapeText === undefined) throw fix(file, `has a malformed header (${header.trim().slice(0, 80)})`);
  if (fortran === 'True')
    throw new DataInputError(
      file,
      'is stored in Fortran (column-major) order, which quantsim does not read',
      'Save a C-ordered copy: np.save(path, np.ascontiguousarray(a)).',
    );
  const order = descr[0];
  const code = descr.slice(1);
  if (order === '>' || (order === '=' && code.length > 0 && !isLittleEndianHost()))
    throw new DataInputError(
      file,
      `holds big-endian data ('${descr}')`,
      `Save it little-endian: np.save(path, a.astype('<${code}')).`,
    );
  const type = DTYPES[code];
  if (!type || !['<', '|', '='].includes(order ?? ''))
    throw fix(file, `has dtype '${descr}', which quantsim does not read (float32, float64, int8–int64, uint8–uint64, bool)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => Number(s.replace(/L$/, '')));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw fix(file, `has a malformed shape (${shapeText})`);
  return { descr, dtype: type.dtype, shape, dataOffset: start + headerLength, version };
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** Reads only the header of a `.npy` file, to check many files before reading their data. */
export function readNpyHeader(file: string): NpyHeader {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw missing(file, e);
  }
  try {
    const head = new Uint8Array(12);
    const got = readSync(fd, head, 0, 12, 0);
    const version = head[6] ?? 1;
    const length =
      got < 12 ? 0 : version === 1 ? (head[8] ?? 0) + (head[9] ?? 0) * 256 : new DataView(head.buffer).getUint32(8, true);
    // A header is small; a nonsense length means this is not .npy, which parsing reports.
    const bytes = new Uint8Array(Math.min(12 + length, 1 << 20));
    const n = readSync(fd, bytes, 0, bytes.length, 0);
    return parseNpyHeader(bytes.subarray(0, n), file);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a whole `.npy` file.
 * @throws DataInputError naming the file when it is missing, not `.npy`, of an unsupported layout,
 * or shorter than its shape needs.
 */
export function readNpy(file: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw missing(file, e);
  }
  return decodeNpy(bytes, file);
}

/** Decodes `.npy` bytes; `file` names them in errors. */
export function decodeNpy(bytes: Uint8Array, file: string): NpyArray {
  const header = parseNpyHeader(bytes, file);
  const type = DTYPES[header.descr.slice(1)];
  if (!type) throw fix(file, `has dtype '${header.descr}'`);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const needed = count * type.size;
  const available = bytes.length - header.dataOffset;
  if (available < needed)
    throw fix(
      file,
      `is truncated: shape [${header.shape.join(', ')}] needs ${needed} bytes of data but the file has ${available}`,
    );
  // Copy into a fresh buffer: typed arrays need their element alignment, which a file offset may not give.
  const buffer = new ArrayBuffer(needed);
  new Uint8Array(buffer).set(bytes.subarray(header.dataOffset, header.dataOffset + needed));
  return { ...header, data: type.make(buffer) };
}

function missing(file: string, e: unknown): DataInputError {
  const code = (e as NodeJS.ErrnoException).code;
  return new DataInputError(
    file,
    code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (e as Error).message})`,
    'Check the path given to --calib or --eval.',
  );
}

/**
 * Encodes an array as `.npy` (format 1.0, little-endian, C order), for tests and for tools that
 * hand data to quantsim.
 */
export function encodeNpy(data: TensorArray, shape: readonly number[]): Uint8Array {
  const entry = Object.entries(DTYPES).find(([, t]) => t.make(new ArrayBuffer(0)).constructor === data.constructor);
  if (!entry)
    throw new DataInputError(
      'encodeNpy',
      `cannot encode a ${data.constructor.name}`,
      `Pass one of ${Object.values(DTYPES)
        .map((t) => t.make(new ArrayBuffer(0)).constructor.name)
        .filter((n, i, all) => all.indexOf(n) === i)
        .join(', ')}.`,
    );
  const [code, type] = entry;
  const descr = type.dtype === 'bool' ? '|b1' : `${type.size === 1 ? '|' : '<'}${code}`;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // The data starts on a 64-byte boundary, and the header ends with a newline, as numpy writes it.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = `${header}${' '.repeat(total - 10 - header.length - 1)}\n`;
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
