import { create } from '@bufbuild/protobuf';
import { type GraphProto, type NodeProto, ValueInfoProtoSchema } from 'onnx-buf';
import type { Backend } from '../contracts/backend.js';
import type { Feeds, TensorData } from '../contracts/tensor.js';
import type { Model } from '../model/model.js';

/**
 * A copy of `model` whose outputs are `outputs` and that keeps only the nodes they need, so
 * that running it up to one layer costs only that layer's prefix of the model.
 */
export function truncatedModel(model: Model, outputs: readonly string[]): Model {
  const copy = model.clone();
  const graph = copy.proto.graph as GraphProto;
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node) for (const o of n.output) producer.set(o, n);
  const keep = new Set<NodeProto>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const t = stack.pop() as string;
    const n = producer.get(t);
    if (!n || keep.has(n)) continue;
    keep.add(n);
    // Subgraph inputs from the outer scope are not traced: keep If/Loop nodes' whole inputs only.
    stack.push(...n.input.filter((i) => i !== ''));
  }
  graph.node = graph.node.filter((n) => keep.has(n));
  const read = new Set(graph.node.flatMap((n) => n.input));
  for (const o of outputs) read.add(o);
  graph.initializer = graph.initializer.filter((t) => read.has(t.name));
  graph.output = outputs.map((name) => create(ValueInfoProtoSchema, { name }));
  return copy;
}

/** The names a node of `model` reads and writes, found by its position in `reference`'s node list. */
export function nodeAt(model: Model, reference: Model, node: NodeProto): NodeProto | undefined {
  const index = reference.proto.graph?.node.indexOf(node) ?? -1;
  return index < 0 ? undefined : model.proto.graph?.node[index];
}

/**
 * Runs `model` truncated to `outputs` on every sample and hands each sample's outputs to
 * `visit`. The session is released afterwards.
 */
export async function runTruncated(
  backend: Backend,
  model: Model,
  outputs: readonly string[],
  samples: readonly Feeds[],
  mode: 'float' | 'simulate' | 'emulate',
  visit: (values: Readonly<Record<string, TensorData>>) => void,
): Promise<void> {
  const session = await backend.createSession(truncatedModel(model, outputs).toBytes({ inlineExternal: true }), { mode });
  try {
    const needed = new Set(session.inputNames);
    for (const s of samples) {
      const feeds: Record<string, TensorData> = {};
      for (const [k, v] of Object.entries(s)) if (needed.has(k)) feeds[k] = v;
      visit(await session.run(feeds, outputs));
    }
  } finally {
    await session.release();
  }
}

/** A tensor as N × C × inner with channels on axis 1 (a 1-D tensor is one batch of C channels). */
export function channelLayout(t: TensorData): { n: number; c: number; inner: number } {
  const dims = t.dims;
  return {
    n: dims[0] ?? 1,
    c: dims.length > 1 ? (dims[1] ?? 1) : t.data.length,
    inner: dims.length > 2 ? dims.slice(2).reduce((a, b) => a * b, 1) : 1,
  };
}

/** Per-channel means along axis 1 (NC…) of a float tensor, added into `sum` (length C). */
export function addChannelSums(t: TensorData, sum: Float64Array): number {
  const data = t.data as Float32Array;
  const { n, c, inner } = channelLayout(t);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      const base = (b * c + ch) * inner;
      for (let k = 0; k < inner; k++) s += data[base + k] as number;
      sum[ch] = (sum[ch] as number) + s;
    }
  return n * inner;
}
