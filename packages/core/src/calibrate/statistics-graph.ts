import { create } from '@bufbuild/protobuf';
import { type GraphProto, NodeProtoSchema } from 'onnx-buf';
import type { Model } from '../model/model.js';
import { makeAttribute, makeTensor, makeValueInfo } from '../onnx/factory.js';

/** What calibration gathers for one tensor. */
export interface TensorRequest {
  readonly tensor: string;
  /** The tensor's values cross into JavaScript (for histograms); otherwise only reductions do. */
  readonly full: boolean;
  /**
   * With `full`: take every `stride`-th element (in row-major order) inside the graph, and the
   * exact range, count and non-finite check from reductions. 1 (default) sends every element.
   */
  readonly stride?: number;
}

/** The outputs that carry one tensor's statistics. */
export interface StatisticsOutputs {
  readonly tensor: string;
  /** Minimum, maximum, sum (non-finite detection) and element count; absent when `full`. */
  readonly min?: string;
  readonly max?: string;
  readonly sum?: string;
  readonly size?: string;
  /** The tensor itself, or every `stride`-th element of it, when `full`. */
  readonly values?: string;
  /** The stride of `values`; 1 when they are the whole tensor. */
  readonly stride: number;
}

/**
 * Builds the statistics graph: the model plus, for each requested tensor, in-graph reductions
 * (ReduceMin, ReduceMax, ReduceSum, Size) so that only four scalars cross into JavaScript, or the
 * tensor itself when a histogram is needed. ReduceSum is the cheap non-finite check: the sum is
 * NaN or infinite exactly when the tensor holds a NaN or infinity (barring overflow).
 */
export function buildStatisticsGraph(
  model: Model,
  requests: readonly TensorRequest[],
): { model: Model; outputs: StatisticsOutputs[] } {
  const copy = model.clone();
  const graph = copy.proto.graph as GraphProto;
  const existing = new Set(graph.output.map((o) => o.name));
  const outputs: StatisticsOutputs[] = [];
  let flatShape: string | undefined;
  for (const r of requests) {
    const stride = r.full ? Math.max(1, Math.floor(r.stride ?? 1)) : 1;
    if (r.full && stride === 1) {
      if (!existing.has(r.tensor)) graph.output.push(makeValueInfo(r.tensor, 'float32'));
      existing.add(r.tensor);
      outputs.push({ tensor: r.tensor, values: r.tensor, stride });
      continue;
    }
    const name = (k: string) => `${r.tensor}::quantsim_${k}`;
    for (const [op, k] of [
      ['ReduceMin', 'min'],
      ['ReduceMax', 'max'],
      ['ReduceSum', 'sum'],
    ] as const) {
      graph.node.push(
        create(NodeProtoSchema, { opType: op, input: [r.tensor], output: [name(k)], attribute: [makeAttribute('keepdims', 0)] }),
      );
      graph.output.push(makeValueInfo(name(k), 'float32', []));
    }
    graph.node.push(create(NodeProtoSchema, { opType: 'Size', input: [r.tensor], output: [name('size')] }));
    graph.output.push(makeValueInfo(name('size'), 'int64', []));
    const stats = { tensor: r.tensor, min: name('min'), max: name('max'), sum: name('sum'), size: name('size'), stride };
    if (!r.full) {
      outputs.push(stats);
      continue;
    }
    // Every stride-th element: a 1-D MaxPool of kernel 1 over the flattened tensor picks them,
    // at any opset and any size, without knowing the shape in advance.
    if (!flatShape) {
      flatShape = 'quantsim::flat_1x1xN';
      graph.initializer.push(makeTensor(flatShape, 'int64', [3], [1, 1, -1]));
    }
    graph.node.push(
      create(NodeProtoSchema, { opType: 'Reshape', input: [r.tensor, flatShape], output: [name('flat')] }),
      create(NodeProtoSchema, {
        opType: 'MaxPool',
        input: [name('flat')],
        output: [name('sample')],
        attribute: [makeAttribute('kernel_shape', [1]), makeAttribute('strides', [stride])],
      }),
    );
    graph.output.push(makeValueInfo(name('sample'), 'float32'));
    outputs.push({ ...stats, values: name('sample') });
  }
  return { model: copy, outputs };
}
