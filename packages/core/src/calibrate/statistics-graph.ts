import { create } from '@bufbuild/protobuf';
import { type GraphProto, NodeProtoSchema } from 'onnx-buf';
import type { Model } from '../model/model.js';
import { makeAttribute, makeValueInfo } from '../onnx/model-builder.js';

/** What calibration gathers for one tensor. */
export interface TensorRequest {
  readonly tensor: string;
  /** The tensor itself crosses into JavaScript (for histograms); otherwise only reductions do. */
  readonly full: boolean;
}

/** The outputs that carry one tensor's statistics. */
export interface StatisticsOutputs {
  readonly tensor: string;
  /** Minimum, maximum, sum (non-finite detection) and element count; absent when `full`. */
  readonly min?: string;
  readonly max?: string;
  readonly sum?: string;
  readonly size?: string;
  /** The tensor itself, when `full`. */
  readonly values?: string;
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
  for (const r of requests) {
    if (r.full) {
      if (!existing.has(r.tensor)) graph.output.push(makeValueInfo(r.tensor, 'float32'));
      existing.add(r.tensor);
      outputs.push({ tensor: r.tensor, values: r.tensor });
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
    outputs.push({ tensor: r.tensor, min: name('min'), max: name('max'), sum: name('sum'), size: name('size') });
  }
  return { model: copy, outputs };
}
