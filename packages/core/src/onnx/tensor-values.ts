import type { TensorProto } from 'onnx-buf';
import { TensorProto_DataLocation } from 'onnx-buf';
import { InvalidArgumentError } from '../errors/quantsim-error.js';
import { type DTypeName, dtypeName } from './dtype.js';

/** Reads the external bytes of a tensor, given its name. Supplied by the model that owns the tensor. */
export type ExternalReader = (tensor: TensorProto) => Uint8Array;

/** Element count of a tensor from its dims. */
export function elementCount(dims: readonly (number | bigint)[]): number {
  let n = 1;
  for (const d of dims) n *= Number(d);
  return n;
}

/**
 * The raw little-endian bytes of a tensor, whether stored in `raw_data`, in the typed fields,
 * or externally (through `readExternal`).
 */
export function tensorBytes(tensor: TensorProto, readExternal?: ExternalReader): Uint8Array | undefined {
  if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    if (!readExternal) return undefined;
    return readExternal(tensor);
  }
  if (tensor.rawData.length > 0) return tensor.rawData;
  return undefined;
}

/**
 * Decodes a numeric tensor into a `Float32Array` (integers are converted).
 * Used for parameters (weights, biases) and small constants.
 *
 * @throws InvalidArgumentError when the element type is not numeric or data is missing.
 */
export function tensorToFloat32(tensor: TensorProto, readExternal?: ExternalReader): Float32Array {
  const type = dtypeName(tensor.dataType);
  const count = elementCount(tensor.dims);
  const bytes = tensorBytes(tensor, readExternal);
  if (bytes) return bytesToFloat32(bytes, type, count, tensor.name);
  switch (type) {
    case 'float32':
      return Float32Array.from(tensor.floatData);
    case 'float64':
      return Float32Array.from(tensor.doubleData);
    case 'int64':
      return Float32Array.from(tensor.int64Data, (v) => Number(v));
    case 'uint32':
    case 'uint64':
      return Float32Array.from(tensor.uint64Data, (v) => Number(v));
    case 'int32':
    case 'int16':
    case 'int8':
    case 'uint16':
    case 'uint8':
    case 'bool':
      return Float32Array.from(tensor.int32Data);
    case 'float16':
      return Float32Array.from(tensor.int32Data, (v) => halfToFloat(v));
    default:
      throw new InvalidArgumentError(
        `Tensor '${tensor.name}' has element type ${type ?? tensor.dataType}, which quantsim cannot read as numbers.`,
      );
  }
}

function bytesToFloat32(bytes: Uint8Array, type: DTypeName | undefined, count: number, name: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  const need = (size: number) => {
    if (bytes.byteLength < count * size)
      throw new InvalidArgumentError(`Tensor '${name}' holds ${bytes.byteLength} bytes but its shape needs ${count * size}.`);
  };
  switch (type) {
    case 'float32':
      need(4);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'float64':
      need(8);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case 'float16':
      need(2);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    case 'int64':
      need(8);
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      return out;
    case 'int32':
      need(4);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    case 'int16':
      need(2);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    case 'uint16':
      need(2);
      for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
      return out;
    case 'int8':
      need(1);
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      return out;
    case 'uint8':
    case 'bool':
      need(1);
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      return out;
    default:
      throw new InvalidArgumentError(`Tensor '${name}' has element type ${type}, which quantsim cannot read as numbers.`);
  }
}

/** Converts an IEEE 754 half-precision bit pattern to a number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Encodes a `Float32Array` as little-endian bytes (for `raw_data`). */
export function float32ToBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return out;
}

/** Encodes signed 64-bit integers as little-endian bytes (for `raw_data`). */
export function int64ToBytes(values: readonly (number | bigint)[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i] as number | bigint), true);
  return out;
}
