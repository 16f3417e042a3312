import { create } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AT,
  type AttributeProto,
  AttributeProtoSchema,
  type GraphProto,
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  type TensorProto,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import { InvalidArgumentError } from '../errors/quantsim-error.js';
import { Model } from '../model/model.js';
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

/**
 * A small helper to build ONNX models in code, for tests, examples and synthetic fixtures.
 *
 * ### Examples
 * ```ts
 * const b = new ModelBuilder({ opset: 13 });
 * const x = b.input('x', 'float32', [1, 4]);
 * const w = b.initializer('fc.weight', [4, 2], new Float32Array(8).fill(0.5));
 * b.output(b.node('MatMul', [x, w], { name: 'fc' }), 'float32', [1, 2]);
 * const model = b.build();
 * ```
 */
export class ModelBuilder {
  readonly #nodes: NodeProto[] = [];
  readonly #inputs: ValueInfoProto[] = [];
  readonly #outputs: ValueInfoProto[] = [];
  readonly #initializers: TensorProto[] = [];
  readonly #opset: number;
  readonly #extraOpsets: Record<string, number>;
  readonly #names = new Set<string>();
  #counter = 0;

  constructor(options: { opset?: number; opsets?: Record<string, number> } = {}) {
    this.#opset = options.opset ?? 13;
    this.#extraOpsets = options.opsets ?? {};
  }

  /** Declares a graph input. */
  input(name: string, dtype: DTypeName, shape?: readonly (number | string)[]): string {
    this.#inputs.push(makeValueInfo(name, dtype, shape));
    return name;
  }

  /** Adds a float32 (or int64) initializer. */
  initializer(name: string, dims: readonly number[], values: ArrayLike<number>, dtype: 'float32' | 'int64' = 'float32'): string {
    this.#initializers.push(makeTensor(name, dtype, dims, values));
    return name;
  }

  /** Adds a Constant node producing `name` (how PaddleOCR stores its weights). */
  constant(name: string, dims: readonly number[], values: ArrayLike<number>, dtype: 'float32' | 'int64' = 'float32'): string {
    this.#nodes.push(
      create(NodeProtoSchema, {
        opType: 'Constant',
        output: [name],
        attribute: [makeAttribute('value', makeTensor(name, dtype, dims, values))],
      }),
    );
    return name;
  }

  /**
   * Adds a node and returns its first output's name. Outputs default to `<name or op>_out`.
   */
  node(
    opType: string,
    inputs: readonly string[],
    options: { name?: string; outputs?: readonly string[]; attrs?: Record<string, AttrValue>; domain?: string } = {},
  ): string {
    const base = options.name ?? `${opType.toLowerCase()}_${this.#counter++}`;
    const outputs = options.outputs ?? [this.#unique(`${base}_out`)];
    this.#nodes.push(
      create(NodeProtoSchema, {
        opType,
        name: options.name ?? '',
        domain: options.domain ?? '',
        input: [...inputs],
        output: [...outputs],
        attribute: Object.entries(options.attrs ?? {}).map(([k, v]) => makeAttribute(k, v)),
      }),
    );
    return outputs[0] as string;
  }

  /** Declares a graph output. */
  output(name: string, dtype: DTypeName = 'float32', shape?: readonly (number | string)[]): string {
    this.#outputs.push(makeValueInfo(name, dtype, shape));
    return name;
  }

  /** The `GraphProto` built so far (for If/Loop bodies). */
  graph(name = 'graph'): GraphProto {
    return create(GraphProtoSchema, {
      name,
      node: [...this.#nodes],
      input: [...this.#inputs],
      output: [...this.#outputs],
      initializer: [...this.#initializers],
    });
  }

  /** The finished `ModelProto`. */
  buildProto(): ModelProto {
    return create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: 'quantsim',
      opsetImport: [
        create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(this.#opset) }),
        ...Object.entries(this.#extraOpsets).map(([domain, v]) =>
          create(OperatorSetIdProtoSchema, { domain, version: BigInt(v) }),
        ),
      ],
      graph: this.graph(),
    });
  }

  /** The finished model, ready for `quant()` or `saveModel`. */
  build(source = '<memory>'): Model {
    return Model.fromProto(this.buildProto(), source);
  }

  #unique(name: string): string {
    let n = name;
    let k = 2;
    while (this.#names.has(n)) n = `${name}_${k++}`;
    this.#names.add(n);
    return n;
  }
}
