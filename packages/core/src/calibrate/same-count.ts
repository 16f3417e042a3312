import type { GraphProto } from 'onnx-buf';

/** Ops whose first output has the shape of their first input (default domain). */
const SAME_SHAPE = new Set([
  'Abs',
  'BatchNormalization',
  'Cast',
  'Ceil',
  'Celu',
  'Clip',
  'Cos',
  'Dropout',
  'Elu',
  'Erf',
  'Exp',
  'Floor',
  'HardSigmoid',
  'HardSwish',
  'Identity',
  'InstanceNormalization',
  'LayerNormalization',
  'LeakyRelu',
  'Log',
  'LogSoftmax',
  'LRN',
  'Mish',
  'Neg',
  'PRelu',
  'Reciprocal',
  'Relu',
  'Round',
  'Selu',
  'Sigmoid',
  'Sign',
  'Sin',
  'Softmax',
  'Softplus',
  'Softsign',
  'Sqrt',
  'Tanh',
]);

/** Elementwise ops whose output has the broadcast shape of all their inputs. */
const BROADCAST = new Set(['Add', 'Div', 'Max', 'Mean', 'Min', 'Mul', 'Pow', 'Sub', 'Sum']);

/**
 * Groups the main graph's tensors that provably have the same element count in every run: a
 * tensor joins the group of the first input of a {@link SAME_SHAPE} op, and of a
 * {@link BROADCAST} op whose inputs are all in one group or constants of one element (which can
 * only add leading dimensions of 1). Groups are "the same shape up to leading 1s", which keeps
 * the element count. Returns each grouped tensor's group, named by its first tensor.
 */
export function sameCountGroups(graph: GraphProto): Map<string, string> {
  const single = new Set<string>();
  const oneElement = (dims: readonly bigint[]) => dims.every((d) => d === 1n);
  // An initializer that is also a graph input can be fed another shape.
  const inputs = new Set(graph.input.map((i) => i.name));
  for (const t of graph.initializer) if (oneElement(t.dims) && !inputs.has(t.name)) single.add(t.name);
  const group = new Map<string, string>();
  const of = (t: string) => group.get(t) ?? t;
  for (const n of graph.node) {
    const out = n.output[0];
    if (!out || n.domain !== '') continue;
    if (n.opType === 'Constant') {
      const value = n.attribute.find((a) => a.name === 'value')?.t;
      if (value && oneElement(value.dims)) single.add(out);
      continue;
    }
    const first = n.input[0];
    if (!first) continue;
    if (SAME_SHAPE.has(n.opType)) {
      group.set(out, of(first));
      continue;
    }
    if (!BROADCAST.has(n.opType)) continue;
    const groups = new Set(n.input.filter((i) => i !== '' && !single.has(i)).map(of));
    if (groups.size === 1) group.set(out, [...groups][0] as string);
  }
  return group;
}
