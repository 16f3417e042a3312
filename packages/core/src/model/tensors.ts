import type { GraphProto, ModelProto, TensorProto } from 'onnx-buf';

/**
 * Visits every tensor that can hold data in a model, in a fixed order: initializers, then Constant
 * and other node attributes (`t`, `tensors`), recursing into subgraphs, graph by graph.
 */
export function forEachTensor(model: ModelProto, visit: (tensor: TensorProto, graphPath: string) => void): void {
  if (model.graph) forEachTensorInGraph(model.graph, visit, '');
}

function forEachTensorInGraph(graph: GraphProto, visit: (tensor: TensorProto, graphPath: string) => void, path: string): void {
  for (const t of graph.initializer) visit(t, path);
  for (const s of graph.sparseInitializer) {
    if (s.values) visit(s.values, path);
    if (s.indices) visit(s.indices, path);
  }
  for (const node of graph.node) {
    for (const attr of node.attribute) {
      if (attr.t) visit(attr.t, path);
      for (const t of attr.tensors) visit(t, path);
      if (attr.g) forEachTensorInGraph(attr.g, visit, `${path}/${node.name || node.opType}`);
      for (const g of attr.graphs) forEachTensorInGraph(g, visit, `${path}/${node.name || node.opType}`);
    }
  }
}
