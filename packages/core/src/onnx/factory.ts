import { create } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AT,
  type AttributeProto,
  AttributeProtoSchema,
  type GraphProto,
  type NodeProto,
  NodeProtoSchema,
  type TensorProto,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import type { QdqElementType } from '../contracts/backend.js';
import { InvalidArgumentError } from '../errors/quantsim-error.js';
import { type DTypeName, dtypeCode } from './dtype.js';
import { float32ToBytes, int64ToBytes } from './tensor-values.js';

/** A float attribute that would otherwise be taken for an integer (`1.0`). */
export class FloatAttr {
  constructor(readonly value: number) {}
}

/** Values accepted as node attributes. Integers become INT, other numbers FLOAT. */
export type AttrValue = number | bigint | string | readonly number[] | Float32Array | FloatAttr | TensorProto | GraphProto;

/** Makes a float attribute explicitly: `{ alpha: float(1) }`. */
export function float(value: number): FloatAttr {
  return new FloatAttr(value);
}

/** Builds a `TensorProto` from values (raw little-endian data). */
export function makeTensor(
  name: string,
  dtype: 'float32' | 'int64',
  dims: readonly number[],
  values: ArrayLike<number>,
): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count)
    throw new InvalidArgumentError(`Tensor '${name}' has ${values.length} values but shape [${dims.join(', ')}] needs ${count}.`);
  const rawData = (
    dtype === 'float32' ? float32ToBytes(Float32Array.from(values)) : int64ToBytes(Array.from(values))
  ) as Uint8Array<ArrayBuffer>;
  return create(TensorProtoSchema, { name, dataType: dtypeCode(dtype), dims: dims.map((d) => BigInt(d)), rawData });
}

/** Builds a tensor `ValueInfoProto`; a string dimension is symbolic. */
export function makeValueInfo(name: string, dtype: DTypeName, shape?: readonly (number | string)[]): ValueInfoProto {
  const tensorType = create(TypeProto_TensorSchema, {
    elemType: dtypeCode(dtype),
    ...(shape
      ? {
          shape: create(TensorShapeProtoSchema, {
            dim: shape.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
              }),
            ),
          }),
        }
      : {}),
  });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }),
  });
}

/** Builds an attribute from a plain value. */
export function makeAttribute(name: string, value: AttrValue): AttributeProto {
  if (value instanceof FloatAttr) return create(AttributeProtoSchema, { name, type: AT.FLOAT, f: value.value });
  if (typeof value === 'bigint') return create(AttributeProtoSchema, { name, type: AT.INT, i: value });
  if (typeof value === 'number')
    return Number.isInteger(value)
      ? create(AttributeProtoSchema, { name, type: AT.INT, i: BigInt(value) })
      : create(AttributeProtoSchema, { name, type: AT.FLOAT, f: value });
  if (typeof value === 'string')
    return create(AttributeProtoSchema, { name, type: AT.STRING, s: new TextEncoder().encode(value) });
  if (value instanceof Float32Array) return create(AttributeProtoSchema, { name, type: AT.FLOATS, floats: Array.from(value) });
  if (Array.isArray(value)) return create(AttributeProtoSchema, { name, type: AT.INTS, ints: value.map((v) => BigInt(v)) });
  const msg = value as TensorProto | GraphProto;
  if (msg.$typeName === 'onnx.TensorProto') return create(AttributeProtoSchema, { name, type: AT.TENSOR, t: msg });
  if (msg.$typeName === 'onnx.GraphProto') return create(AttributeProtoSchema, { name, type: AT.GRAPH, g: msg });
  throw new InvalidArgumentError(`Attribute '${name}' has a value quantsim cannot encode.`);
}

/** Builds a node; attributes from plain values (see {@link makeAttribute}). */
export function makeNode(
  opType: string,
  input: readonly string[],
  output: readonly string[],
  attrs: Readonly<Record<string, AttrValue>> = {},
  options: { readonly domain?: string; readonly name?: string } = {},
): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    domain: options.domain ?? '',
    ...(options.name !== undefined ? { name: options.name } : {}),
    input: [...input],
    output: [...output],
    attribute: Object.entries(attrs).map(([k, v]) => makeAttribute(k, v)),
  });
}

/** An integer tensor of a Q/DQ element type, with 4-bit values packed two to a byte. */
export function typedTensor(name: string, type: QdqElementType, dims: readonly number[], values: readonly number[]): TensorProto {
  const n = values.length;
  let raw: Uint8Array;
  if (type === 'int4' || type === 'uint4') {
    raw = new Uint8Array(Math.ceil(n / 2));
    for (let i = 0; i < n; i++) {
      const nibble = (values[i] as number) & 0x0f;
      raw[i >> 1] = (raw[i >> 1] as number) | (i % 2 === 0 ? nibble : nibble << 4);
    }
  } else if (type === 'int8') raw = new Uint8Array(Int8Array.from(values).buffer);
  else if (type === 'uint8') raw = Uint8Array.from(values);
  else if (type === 'int16') raw = new Uint8Array(Int16Array.from(values).buffer);
  else raw = new Uint8Array(Uint16Array.from(values).buffer);
  return create(TensorProtoSchema, {
    name,
    dataType: dtypeCode(type),
    dims: dims.map((d) => BigInt(d)),
    rawData: raw as Uint8Array<ArrayBuffer>,
  });
}

/** An int32 tensor (biases of the QDQ model). */
export function int32Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dataType: dtypeCode('int32'),
    dims: dims.map((d) => BigInt(d)),
    rawData: new Uint8Array(Int32Array.from(values).buffer) as Uint8Array<ArrayBuffer>,
  });
}
