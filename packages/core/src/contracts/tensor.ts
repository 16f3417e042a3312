/** ONNX element types by readable name. */
export type DTypeName =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'float4e2m1'
  | 'float8e8m0'
  | 'uint2'
  | 'int2';

/** The typed arrays that hold tensor elements. */
export type TensorArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/**
 * A tensor as quantsim passes it between the user, core and backends: element type, flat data
 * in row-major order, and dimensions. Backends convert to and from their runtime's tensor type.
 */
export interface TensorData {
  readonly type: DTypeName;
  readonly data: TensorArray;
  readonly dims: readonly number[];
}

/** Model inputs by name. */
export type Feeds = Readonly<Record<string, TensorData>>;

/** Named tensors returned by a run. */
export type TensorMap = Readonly<Record<string, TensorData>>;
