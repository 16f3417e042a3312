import { clone, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type GraphProto, type ModelProto, ModelProtoSchema, type TensorProto } from 'onnx-buf';
import type { ModelView } from '../contracts/model.js';
import { GraphView, type Layer } from '../graph/graph-view.js';
import type { FileIdentity } from '../io/file-identity.js';
import { tensorToFloat32 } from '../onnx/tensor-values.js';
import { forEachTensor } from './tensors.js';

/** Where a model came from, for messages: a file path or `<bytes>`. */
export interface ModelOrigin {
  readonly source: string;
  /** The folder that external data locations are relative to. */
  readonly baseDir: string | undefined;
  /**
   * The files it was read from (the model, then its external data), by identity: savers and
   * exports refuse to write over any of them, however the model was passed.
   */
  readonly files?: readonly FileIdentity[];
}

/**
 * A loaded ONNX model: the decoded protobuf, its origin, its external data, and a lazily built
 * {@link GraphView}. Treat `proto` as read-only; transformations work on a {@link Model.clone}.
 */
export class Model implements ModelView {
  /** The decoded `ModelProto`. */
  readonly proto: ModelProto;
  readonly origin: ModelOrigin;
  /** Bytes of tensors stored outside the model file, by tensor identity. */
  readonly #external: ReadonlyMap<TensorProto, Uint8Array>;
  #graph: GraphView | undefined;

  /** @internal Use {@link loadModel}. */
  constructor(proto: ModelProto, origin: ModelOrigin, external: ReadonlyMap<TensorProto, Uint8Array> = new Map()) {
    this.proto = proto;
    this.origin = origin;
    this.#external = external;
  }

  /** The read-only graph view of the main graph (built on first use, then cached). */
  get graph(): GraphView {
    this.#graph ??= new GraphView(
      this.proto.graph ?? ({ node: [], input: [], output: [], initializer: [], valueInfo: [] } as never),
    );
    return this.#graph;
  }

  /** Each layer's name, op type, inputs, outputs and parameter tensors, in topological order. */
  layers(): readonly Layer[] {
    return this.graph.layers;
  }

  /** The opset version of the default ONNX domain. */
  get opset(): number {
    const entry = this.proto.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
    return entry ? Number(entry.version) : 1;
  }

  /** Whether any tensor stores its data outside the model file. */
  get hasExternalData(): boolean {
    for (const t of this.#external.keys()) if (t.dataLocation === 1) return true;
    return false;
  }

  /** The external bytes of a tensor (used by savers and readers of values). */
  externalBytes(tensor: TensorProto): Uint8Array | undefined {
    return this.#external.get(tensor);
  }

  /**
   * The model serialised as ONNX protobuf bytes. An unmodified model gives back the bytes it was
   * loaded from. With `inlineExternal`, external tensors are copied into `raw_data` (what an
   * in-memory inference session needs); the model itself is not changed.
   */
  toBytes(options: { inlineExternal?: boolean } = {}): Uint8Array {
    if (options.inlineExternal && this.hasExternalData) return toBinary(ModelProtoSchema, this.inlined());
    return toBinary(ModelProtoSchema, this.proto);
  }

  /** A deep copy whose external tensors hold their data inline. */
  inlined(): ModelProto {
    const copy = clone(ModelProtoSchema, this.proto);
    const originals: TensorProto[] = [];
    forEachTensor(this.proto, (t) => {
      originals.push(t);
    });
    let i = 0;
    forEachTensor(copy, (t) => {
      const bytes = this.#external.get(originals[i++] as TensorProto);
      // A tensor rewritten in memory (dataLocation reset) no longer uses its external bytes.
      if (bytes && t.dataLocation === 1) {
        t.rawData = bytes as Uint8Array<ArrayBuffer>;
        t.dataLocation = 0;
        t.externalData = [];
      }
    });
    return copy;
  }

  /**
   * The values of a constant tensor (initializer or Constant-node output) as float32.
   * @returns `undefined` when no constant of that name exists.
   */
  constantValues(name: string, graph?: GraphProto): Float32Array | undefined {
    const tensor = this.constantTensor(name, graph);
    return tensor ? tensorToFloat32(tensor, (t) => this.#external.get(t) ?? new Uint8Array()) : undefined;
  }

  /**
   * The `TensorProto` behind a constant: an initializer, or a Constant node's value (looking
   * through Identity). `graph`: look in this graph of the model (an If branch) instead of the main one.
   */
  constantTensor(name: string, graph: GraphProto | undefined = this.proto.graph): TensorProto | undefined {
    if (!graph) return undefined;
    let current = name;
    for (let hops = 0; hops < 8; hops++) {
      const init = graph.initializer.find((t) => t.name === current);
      if (init) return init;
      const producer = graph.node.find((n) => n.output.includes(current));
      if (!producer) return undefined;
      if (producer.opType === 'Constant') return producer.attribute.find((a) => a.name === 'value')?.t;
      if (producer.opType !== 'Identity' || !producer.input[0]) return undefined;
      current = producer.input[0];
    }
    return undefined;
  }

  /** A deep copy with the same origin and external data, safe to modify. */
  clone(): Model {
    const copy = clone(ModelProtoSchema, this.proto);
    const originals: TensorProto[] = [];
    forEachTensor(this.proto, (t) => {
      originals.push(t);
    });
    const external = new Map<TensorProto, Uint8Array>();
    let i = 0;
    forEachTensor(copy, (t) => {
      const bytes = this.#external.get(originals[i++] as TensorProto);
      if (bytes && t.dataLocation === 1) external.set(t, bytes);
    });
    return new Model(copy, this.origin, external);
  }

  /** Wraps a `ModelProto` built in memory (for example by {@link ModelBuilder}). */
  static fromProto(proto: ModelProto, source = '<memory>'): Model {
    return new Model(proto, { source, baseDir: undefined });
  }

  /** Decodes bytes without validation; prefer {@link loadModel}. @internal */
  static decode(bytes: Uint8Array): ModelProto {
    return fromBinary(ModelProtoSchema, bytes);
  }
}
