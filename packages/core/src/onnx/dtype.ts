import type { DTypeName } from '../contracts/tensor.js';

export type { DTypeName } from '../contracts/tensor.js';

import { TensorProto_DataType as DT } from 'onnx-buf';

const NAMES: Record<number, DTypeName> = {
  [DT.FLOAT]: 'float32',
  [DT.UINT8]: 'uint8',
  [DT.INT8]: 'int8',
  [DT.UINT16]: 'uint16',
  [DT.INT16]: 'int16',
  [DT.INT32]: 'int32',
  [DT.INT64]: 'int64',
  [DT.STRING]: 'string',
  [DT.BOOL]: 'bool',
  [DT.FLOAT16]: 'float16',
  [DT.DOUBLE]: 'float64',
  [DT.UINT32]: 'uint32',
  [DT.UINT64]: 'uint64',
  [DT.COMPLEX64]: 'complex64',
  [DT.COMPLEX128]: 'complex128',
  [DT.BFLOAT16]: 'bfloat16',
  [DT.FLOAT8E4M3FN]: 'float8e4m3fn',
  [DT.FLOAT8E4M3FNUZ]: 'float8e4m3fnuz',
  [DT.FLOAT8E5M2]: 'float8e5m2',
  [DT.FLOAT8E5M2FNUZ]: 'float8e5m2fnuz',
  [DT.UINT4]: 'uint4',
  [DT.INT4]: 'int4',
  [DT.FLOAT4E2M1]: 'float4e2m1',
  [DT.FLOAT8E8M0]: 'float8e8m0',
  [DT.UINT2]: 'uint2',
  [DT.INT2]: 'int2',
};

const CODES = Object.fromEntries(Object.entries(NAMES).map(([code, name]) => [name, Number(code)])) as Record<DTypeName, number>;

/** The readable name of an ONNX `TensorProto.DataType` code, or `undefined` for an unknown code. */
export function dtypeName(code: number): DTypeName | undefined {
  return NAMES[code];
}

/** The ONNX `TensorProto.DataType` code of a readable element type name. */
export function dtypeCode(name: DTypeName): number {
  return CODES[name];
}

/** Whether values of this type are floating point (the tensors quantsim quantizes). */
export function isFloatType(name: DTypeName | undefined): boolean {
  return name === 'float32' || name === 'float16' || name === 'float64' || name === 'bfloat16';
}

/** Size in bytes of one element, or `undefined` for sub-byte and variable-size types. */
export function dtypeByteSize(name: DTypeName): number | undefined {
  switch (name) {
    case 'bool':
    case 'uint8':
    case 'int8':
    case 'float8e4m3fn':
    case 'float8e4m3fnuz':
    case 'float8e5m2':
    case 'float8e5m2fnuz':
    case 'float8e8m0':
      return 1;
    case 'uint16':
    case 'int16':
    case 'float16':
    case 'bfloat16':
      return 2;
    case 'float32':
    case 'int32':
    case 'uint32':
      return 4;
    case 'float64':
    case 'int64':
    case 'uint64':
    case 'complex64':
      return 8;
    case 'complex128':
      return 16;
    default:
      return undefined;
  }
}
