import type { DTypeName } from '../onnx/dtype.js';

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
