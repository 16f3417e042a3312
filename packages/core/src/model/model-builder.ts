import { create } from '@bufbuild/protobuf';
import {
  type GraphProto,
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import type { DTypeName } from '../onnx/dtype.js';
import { type AttrValue, makeAttribute, makeTensor, makeValueInfo } from '../onnx/factory.js';
import { uniqueNames } from '../onnx/graph-edit.js';
import { Model } from './model.js';

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
  readonly #unique = uniqueNames(new Set<string>());
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
}
