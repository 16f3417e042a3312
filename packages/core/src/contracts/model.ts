import type { ModelProto, TensorProto } from 'onnx-buf';
import type { GraphReader, Layer } from './graph.js';

/** A read-only view of a loaded ONNX model, as rules see it. Core's `Model` implements it. */
export interface ModelView {
  /** The decoded protobuf; treat it as read-only. */
  readonly proto: ModelProto;
  /** The read-only view of the main graph. */
  readonly graph: GraphReader;
  /** The default-domain opset. */
  readonly opset: number;
  /** The layers of the main graph (nodes with their parameters; Constant nodes excluded). */
  layers(): readonly Layer[];
  /** A constant's (initializer or Constant node, through Identity) values as float32, or `undefined`. */
  constantValues(name: string): Float32Array | undefined;
  /** A constant's tensor, or `undefined`. */
  constantTensor(name: string): TensorProto | undefined;
}
