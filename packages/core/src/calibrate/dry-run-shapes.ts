import { create } from '@bufbuild/protobuf';
import { type GraphProto, ValueInfoProtoSchema } from 'onnx-buf';
import type { Backend } from '../contracts/backend.js';
import type { Model } from '../model/model.js';
import { checkFeeds, type FeedsLike } from './feeds.js';

/**
 * Measures the shape of every tensor of the main graph by running the model once on `feeds`
 * with every node output exposed. Use it where the model declares no shapes (PaddleOCR declares
 * none): `model.graph.withShapes(await dryRunShapes(model, feeds, backend))`.
 *
 * ### Examples
 * ```ts
 * const shapes = await dryRunShapes(model, { x: { data, dims: [1, 3, 48, 320] } }, new CpuBackend());
 * console.log(model.graph.withShapes(shapes).tensor('conv2d_10.tmp_0')?.shape);
 * ```
 */
export async function dryRunShapes(model: Model, feeds: FeedsLike, backend: Backend): Promise<Map<string, number[]>> {
  const copy = model.clone();
  const graph = copy.proto.graph as GraphProto;
  const present = new Set(graph.output.map((o) => o.name));
  const names: string[] = [];
  for (const node of model.graph.nodes)
    for (const o of node.outputs) {
      if (o === '') continue;
      names.push(o);
      if (!present.has(o)) graph.output.push(create(ValueInfoProtoSchema, { name: o }));
    }
  const session = await backend.createSession(copy.toBytes({ inlineExternal: true }), { mode: 'float' });
  try {
    const out = await session.run(checkFeeds(feeds, model.graph, 'dryRunShapes'), names);
    return new Map(Object.entries(out).map(([name, t]) => [name, [...t.dims]]));
  } finally {
    await session.release();
  }
}
