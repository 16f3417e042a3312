import {
  type DTypeName,
  describeValue,
  InvalidArgumentError,
  type TensorArray,
  type TensorData,
  toError,
  UnsupportedError,
} from '@quantsim/core';

/**
 * The part of an ONNX Runtime tensor that quantsim reads. `onnxruntime-node`'s and
 * `onnxruntime-web`'s `Tensor` both have it.
 */
export interface OrtTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** A runtime's `Tensor` class (`ort.Tensor`), used to build its input tensors. */
export type OrtTensorConstructor<T extends OrtTensorLike = OrtTensorLike> = new (
  // biome-ignore lint/suspicious/noExplicitAny: each runtime overloads its constructor per element type.
  type: any,
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  data: any,
  dims?: readonly number[],
) => T;

/** Element types that ONNX Runtime's JavaScript tensors hold and quantsim's `TensorData` can carry. */
const ORT_TYPES: ReadonlySet<string> = new Set<DTypeName>([
  'float32',
  'float64',
  'float16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'int4',
  'uint4',
]);

const TENSOR_ARRAYS = [
  Float32Array,
  Float64Array,
  Int8Array,
  Uint8Array,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
] as const;

/**
 * Wraps quantsim tensor data as a runtime tensor, without copying the elements.
 *
 * @param Tensor - the runtime's tensor class, for example `ort.Tensor` from `onnxruntime-node`
 *   or `onnxruntime-web`.
 * @throws UnsupportedError for element types ONNX Runtime's JavaScript API cannot take.
 * @throws InvalidArgumentError when the typed array does not fit the element type or the dims.
 *
 * ### Examples
 * ```ts
 * const x = toOrtTensor({ type: 'float32', data: new Float32Array(4), dims: [1, 4] }, ort.Tensor);
 * ```
 */
export function toOrtTensor<T extends OrtTensorLike>(tensor: TensorData, Tensor: OrtTensorConstructor<T>): T {
  if (!ORT_TYPES.has(tensor.type))
    throw new UnsupportedError(`ONNX Runtime's JavaScript API cannot take tensors of type ${tensor.type}.`, {
      hint: 'Feed the model float32 or integer tensors.',
    });
  try {
    return new Tensor(tensor.type, tensor.data, tensor.dims);
  } catch (error) {
    throw new InvalidArgumentError(
      `A ${tensor.type} tensor of shape [${tensor.dims.join(', ')}] cannot be made from a ${tensor.data.constructor.name} of ${tensor.data.length} elements: ${toError(error).message}`,
      { cause: error },
    );
  }
}

/**
 * Reads a runtime tensor (already in CPU memory) as quantsim tensor data, sharing its elements.
 *
 * @param name - the output's name, for messages.
 * @throws UnsupportedError for outputs that are not numeric tensors (strings, sequences, maps).
 *
 * ### Examples
 * ```ts
 * const out = await session.run(feeds);
 * const y = fromOrtTensor(out.y, 'y'); // { type: 'float32', data: Float32Array, dims: [1, 2] }
 * ```
 */
export function fromOrtTensor(value: unknown, name: string): TensorData {
  const t = value as Partial<OrtTensorLike> | null | undefined;
  if (typeof t !== 'object' || t === null || typeof t.type !== 'string' || !Array.isArray(t.dims))
    throw new UnsupportedError(
      `Output '${name}' is not a tensor (received ${describeValue(value)}); quantsim reads tensor outputs only.`,
    );
  if (!ORT_TYPES.has(t.type))
    throw new UnsupportedError(`Output '${name}' has element type ${t.type}, which quantsim cannot read.`, {
      hint: 'Leave this output out with fetches, or cast it to a numeric type in the model.',
    });
  return { type: t.type as DTypeName, data: asTensorArray(t.data, t.type, name), dims: [...t.dims] };
}

function asTensorArray(data: unknown, type: string, name: string): TensorArray {
  for (const ArrayType of TENSOR_ARRAYS) if (data instanceof ArrayType) return data;
  // Runtimes that have Float16Array hand float16 data out in it; TensorData keeps the raw bits.
  if (type === 'float16' && ArrayBuffer.isView(data) && 'length' in data && typeof data.length === 'number')
    return new Uint16Array(data.buffer, data.byteOffset, data.length);
  throw new UnsupportedError(`Output '${name}' (${type}) holds ${describeValue(data)}, not a typed array in CPU memory.`, {
    hint: "Keep outputs on the CPU (ONNX Runtime's default preferredOutputLocation).",
  });
}
