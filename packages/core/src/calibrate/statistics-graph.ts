import { create } from '@bufbuild/protobuf';
import { type GraphProto, type NodeProto, NodeProtoSchema, type TensorProto } from 'onnx-buf';
import { constantValue, type GraphView } from '../graph/graph-view.js';
import { bodiesOf, bodyProto, twinNodes } from '../graph/scopes.js';
import type { Model } from '../model/model.js';
import { makeAttribute, makeNode, makeTensor, makeValueInfo } from '../onnx/factory.js';
import { definedNames, uniqueNames } from '../onnx/graph-edit.js';
import { tensorToFloat32 } from '../onnx/tensor-values.js';
import type { DerivedRange, ProductOf } from './derived-values.js';
import { sameCountGroups } from './same-count.js';

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
  /**
   * The If branch that holds the tensor (a quantizer's `scope`). Such a tensor leaves its
   * branch whole, as an extra output of its If (see {@link buildStatisticsGraph}).
   */
  readonly scope?: string;
}

/** The outputs that carry one tensor's statistics. */
export interface StatisticsOutputs {
  readonly tensor: string;
  /**
   * Where the tensor's reductions sit in the packed outputs (`packed` of
   * {@link buildStatisticsGraph}'s result): its minimum is `stats[3 · index]`, its maximum
   * `stats[3 · index + 1]`, its sum (the non-finite check) `stats[3 · index + 2]` and its
   * element count `sizes[index]`. Whole tensors (`values` with stride 1) have them too (their
   * range lets the histogram bin in one pass) unless the graph was built with `wholeRanges:
   * false`. Absent for tensors of If branches, which only leave their branch whole.
   */
  readonly index?: number;
  /** Former per-tensor scalar outputs; no longer produced (the reductions are packed). */
  readonly min?: string;
  readonly max?: string;
  readonly sum?: string;
  readonly size?: string;
  /** The tensor itself, or every `stride`-th element of it, when `full`. */
  readonly values?: string;
  /** The stride of `values`; 1 when they are the whole tensor. */
  readonly stride: number;
  /**
   * Set when the tensor has no reductions (no `index`) because its range, count and non-finite
   * check follow from those of another requested tensor (see {@link DerivedRange}).
   */
  readonly derived?: DerivedRange;
  /**
   * With `derived` (or `product`), for a tensor whose histogram needs every element and whose
   * source's values cross into JavaScript whole too: its values are no output of the graph either;
   * JavaScript computes them from the source's exactly as the float32 op does (see
   * `computeDerived`), which saves copying them out of the backend (three quarters of the PaddleOCR
   * recognizer's).
   */
  readonly computed?: boolean;
  /**
   * With `computed`, for a whole tensor that is the elementwise product of two requested tensors
   * computed from the same fetched one (see {@link ProductOf}): its factors. It has no `derived`;
   * its range is taken from its computed values, and its own derived tensors' from that.
   */
  readonly product?: ProductOf;
}

/** The stride of a request's `values`: at least 1, and 1 for requests that are only reduced. */
function strideOf(r: TensorRequest): number {
  return r.full ? Math.max(1, Math.floor(r.stride ?? 1)) : 1;
}

/** Output names of the packed statistics. */
const PACKED_STATS = 'quantsim::stats';
const PACKED_SIZES = 'quantsim::sizes';

/**
 * Builds the statistics graph: the model plus in-graph reductions for each requested tensor, and
 * the tensor itself as an output when its histogram needs every element. Each reduced tensor is
 * flattened (a Reshape, which ONNX Runtime aliases) and reduced by ReduceMin, ReduceMax and
 * ReduceSum to one element each, and its element count taken with Shape (once for tensors that
 * provably have the same count, such as the input and output of a Relu). The results are packed
 * into a single float32 output (`packed.stats`: minimum, maximum and sum of each tensor, then
 * each count as a float, which only orders the run) and the counts into a single int64 output
 * (`packed.sizes`), so that a run returns two tensors however many activations are observed
 * (each graph output costs a run a fixed overhead).
 *
 * ONNX Runtime orders a run by a depth-first search from the graph's outputs that visits a node's
 * inputs from the last-added node first. So the reductions are added after the model, those of
 * the tensor computed last first, and the model's own outputs are left out of this graph: the
 * search then reaches the first tensor's reductions first, and reduces each tensor before it
 * computes the next one, so that activations are freed and reused as in the plain model. With
 * the reductions after their producers, it would run the whole model before the first reduction
 * and keep every activation alive (about 3× the plain model's CPU time and 2.5× its memory on the
 * PaddleOCR recognizer). The float copy of each count ties its Shape into the same search, for
 * the same reason. ReduceSum is the cheap non-finite check: the sum is NaN or infinite exactly
 * when the tensor holds a NaN or infinity (barring overflow). ONNX Runtime's CPU ReduceMin and
 * ReduceMax skip NaN, so they cannot do it.
 *
 * A reduced tensor that a monotone elementwise op with scalar constants computes from another
 * reduced (or itself derived) request, such as `x + 3` or `Clip(x, 0, 6)`, gets no reductions of
 * its own: its output's `derived` says how `collectStats` computes its statistics from the
 * source's (see {@link DerivedRange}). `derive: false` reduces every tensor (for tests). Only
 * derived tensors lose consumers; each source keeps its reductions, so ONNX Runtime cannot fuse a
 * source into its producer because of this (on the PaddleOCR classifier, recognizer and detector
 * the optimised graph has the same model ops either way, and the statistics are bit-identical).
 * One difference: a derived tensor whose elements are finite but whose sum would overflow is no
 * longer flagged as non-finite (the sum was a false alarm there).
 *
 * Whole tensors (histograms) are reduced too: the exact range lets JavaScript bin them in one
 * unchecked pass, and tells before binning whether their values are all finite. `wholeRanges:
 * false` leaves that to the binning, which measures the range in one SIMD pass (its own
 * non-finite check), and saves the backend three reductions of each whole tensor (about 5 ms of
 * a PaddleOCR recognizer sample's 35); the whole tensors that a reduced request derives from are
 * reduced all the same. A whole tensor derived from another whole one is not even an output: its
 * values are computed in JavaScript from its source's (`computed`; three quarters of the PaddleOCR
 * recognizer's activation values), which is cheaper than copying them out of the backend. So is
 * a whole tensor that is the product of two computed from the same fetched one, such as the
 * `x ⊙ clip(x + 3, 0, 6)` of a decomposed hardswish (`product`; {@link ProductOf}): it has no
 * reductions, and its range is taken from its computed values (on the PaddleOCR recognizer, 28
 * such products held 43 % of the values fetched before: 5.4 of 12.5 M floats a sample).
 */
export function buildStatisticsGraph(
  model: Model,
  requests: readonly TensorRequest[],
  { derive = true, wholeRanges = true }: { readonly derive?: boolean; readonly wholeRanges?: boolean } = {},
): {
  model: Model;
  outputs: StatisticsOutputs[];
  packed?: { readonly stats: string; readonly sizes: string; readonly count: number };
} {
  const copy = model.clone();
  const graph = copy.proto.graph as GraphProto;
  const existing = new Set(graph.output.map((o) => o.name));
  const outputs: StatisticsOutputs[] = [];
  const added = new Map<string, NodeProto[]>();
  const reduced: { tensor: string; values: string[]; size: string }[] = [];
  const ties: string[] = [];
  const initializers = new Set<string>();
  const constant = (name: string, dims: number[], values: number[]) => {
    if (initializers.has(name)) return name;
    initializers.add(name);
    graph.initializer.push(makeTensor(name, 'int64', dims, values));
    return name;
  };
  const node = (opType: string, input: string[], output: string, attribute: NodeProto['attribute'] = []) =>
    create(NodeProtoSchema, { opType, input, output: [output], attribute });
  const inBranches = requests.filter((r) => r.scope !== undefined);
  if (inBranches.length > 0) {
    for (const { tensor, local } of exposeFromBranches(model, copy, inBranches)) {
      graph.output.push(makeValueInfo(local, 'float32'));
      outputs.push({ tensor, values: local, stride: 1 });
    }
  }
  const derived = derive ? derivations(model, requests) : new Map<string, DerivedRange>();
  const wholeRequests = new Set(
    requests.filter((r) => r.scope === undefined && r.full && strideOf(r) === 1).map((r) => r.tensor),
  );
  const wholeRequest = (tensor: string) => wholeRequests.has(tensor);
  const products = derive ? productsOf(model, requests, derived, wholeRequest) : new Map<string, ProductOf>();
  // With `wholeRanges: false`, the whole tensors whose range this thread needs all the same:
  // those a request that is only reduced derives from.
  const rangeNeeded = new Set<string>();
  if (!wholeRanges)
    for (const r of requests) {
      if (wholeRequest(r.tensor)) continue;
      for (let d = derived.get(r.tensor); d; d = derived.get(d.from)) rangeNeeded.add(d.from);
    }
  for (const r of requests) {
    if (r.scope !== undefined) continue;
    const stride = strideOf(r);
    const whole = r.full && stride === 1;
    const product = products.get(r.tensor);
    if (product) {
      outputs.push({ tensor: r.tensor, stride: 1, computed: true, product });
      continue;
    }
    const how = derived.get(r.tensor);
    if (how && whole && wholeRequest(how.from)) {
      // Its source crosses into JavaScript whole (or is computed there): so are its values.
      outputs.push({ tensor: r.tensor, stride: 1, derived: how, computed: true });
      continue;
    }
    if (whole) {
      if (!existing.has(r.tensor)) graph.output.push(makeValueInfo(r.tensor, 'float32'));
      existing.add(r.tensor);
    }
    if (how) {
      // A whole tensor whose source is only reduced still crosses into JavaScript; only its
      // range is derived.
      outputs.push({ tensor: r.tensor, stride: 1, derived: how, ...(whole ? { values: r.tensor } : {}) });
      continue;
    }
    if (whole && !wholeRanges && !rangeNeeded.has(r.tensor)) {
      // Its range is measured where it is binned.
      outputs.push({ tensor: r.tensor, stride: 1, values: r.tensor });
      continue;
    }
    const name = (k: string) => `${r.tensor}::quantsim_${k}`;
    const keep = [makeAttribute('keepdims', 1)];
    const nodes = [
      node('Reshape', [r.tensor, constant('quantsim::flat_N', [1], [-1])], name('flat')),
      node('ReduceMin', [name('flat')], name('min'), keep),
      node('ReduceMax', [name('flat')], name('max'), keep),
      node('ReduceSum', [name('flat')], name('sum'), keep),
    ];
    reduced.push({ tensor: r.tensor, values: [name('min'), name('max'), name('sum')], size: name('size') });
    const stats = { tensor: r.tensor, stride };
    // A whole tensor is reduced too: its exact range lets JavaScript bin it in one unchecked pass
    // (StatsAccumulator.add with a range), about twice as fast as finding the range while binning.
    if (whole) outputs.push({ ...stats, values: r.tensor });
    else if (r.full) {
      // Every stride-th element: a 1-D MaxPool of kernel 1 over the flattened tensor picks them,
      // at any opset and any size, without knowing the shape in advance.
      nodes.push(
        node('Reshape', [r.tensor, constant('quantsim::flat_1x1xN', [3], [1, 1, -1])], name('flat3')),
        node('MaxPool', [name('flat3')], name('sample'), [
          makeAttribute('kernel_shape', [1]),
          makeAttribute('strides', [stride]),
        ]),
      );
      graph.output.push(makeValueInfo(name('sample'), 'float32'));
      outputs.push({ ...stats, values: name('sample') });
    } else outputs.push(stats);
    added.set(r.tensor, [...(added.get(r.tensor) ?? []), ...nodes]);
  }
  if (reduced.length === 0) return { model: copy, outputs };
  // The order in which the model computes the tensors (graph inputs and initializers: first).
  const produced = new Set(graph.node.flatMap((n) => n.output));
  const position = new Map<string, number>();
  for (const tensor of added.keys()) if (!produced.has(tensor)) position.set(tensor, position.size);
  for (const n of graph.node) for (const o of n.output) if (added.has(o)) position.set(o, position.size);
  reduced.sort((a, b) => (position.get(a.tensor) as number) - (position.get(b.tensor) as number));
  const index = new Map(reduced.map((r, i) => [r.tensor, i]));
  // One Shape per group of tensors that have the same element count (the first one computed).
  const groups = sameCountGroups(graph);
  const counted = new Map<string, string>();
  for (const r of reduced) {
    const group = groups.get(r.tensor) ?? r.tensor;
    const size = counted.get(group);
    if (size !== undefined) {
      r.size = size;
      continue;
    }
    counted.set(group, r.size);
    const flat = `${r.tensor}::quantsim_flat`;
    const tie = `${r.tensor}::quantsim_size_f`;
    added.get(r.tensor)?.push(node('Shape', [flat], r.size), node('Cast', [r.size], tie, [makeAttribute('to', 1)]));
    ties.push(tie);
  }
  // The reductions after the model, the last-computed tensor's first (see the function's comment).
  const ordered = [...graph.node];
  for (const tensor of [...added.keys()].sort((a, b) => (position.get(b) as number) - (position.get(a) as number)))
    ordered.push(...(added.get(tensor) ?? []));
  const axis0 = [makeAttribute('axis', 0)];
  ordered.push(
    node(
      'Concat',
      reduced.map((r) => r.size),
      PACKED_SIZES,
      axis0,
    ),
    node('Concat', [...reduced.flatMap((r) => r.values), ...ties], PACKED_STATS, axis0),
  );
  graph.node = ordered;
  // The model's outputs stay out (ONNX Runtime would run the whole model for them first), except
  // those that are the requested tensors themselves.
  const kept = new Set(outputs.flatMap((o) => (o.values ? [o.values] : [])));
  graph.output = graph.output.filter((o) => kept.has(o.name));
  graph.output.push(
    makeValueInfo(PACKED_STATS, 'float32', [3 * reduced.length + ties.length]),
    makeValueInfo(PACKED_SIZES, 'int64', [reduced.length]),
  );
  return {
    model: copy,
    outputs: outputs.map((o) => (index.has(o.tensor) ? { ...o, index: index.get(o.tensor) } : o)),
    packed: { stats: PACKED_STATS, sizes: PACKED_SIZES, count: reduced.length },
  };
}

/**
 * Brings tensors of If branches out to the main graph of `copy` (a clone of `model`): in its
 * branch, each tensor is flattened and becomes an extra branch output; the other branch of the
 * same If outputs an empty float32 tensor in that place, so both keep the same outputs; the If
 * gets one more output for it, and an enclosing branch passes that on the same way. A sample
 * that does not take a branch thus yields no values for its tensors. Returns, for each tensor,
 * the main-graph name that carries it.
 */
function exposeFromBranches(model: Model, copy: Model, requests: readonly TensorRequest[]): { tensor: string; local: string }[] {
  const view = model.graph;
  const main = copy.proto.graph as GraphProto;
  const twins = twinNodes(model.proto.graph as GraphProto, main);
  const unique = uniqueNames(definedNames(main));
  const wanted = new Map<string, string[]>();
  for (const r of requests) wanted.set(r.scope as string, [...(wanted.get(r.scope as string) ?? []), r.tensor]);
  const bodies = bodiesOf(view);

  // Bottom-up: what a graph hands to its owner, as [tensor, name in this graph].
  const expose = (v: GraphView, proto: GraphProto): { tensor: string; local: string }[] => {
    const items: { tensor: string; local: string }[] = [];
    const shape = v.path === '' ? undefined : unique('quantsim::flat_N');
    for (const tensor of wanted.get(v.path) ?? []) {
      const local = unique(`${tensor}::quantsim_flat`);
      proto.node.push(makeNode('Reshape', [tensor, shape as string], [local]));
      items.push({ tensor, local });
    }
    if (items.length > 0 && shape) proto.initializer.push(makeTensor(shape, 'int64', [1], [-1]));
    for (const owner of v.nodes) {
      if (owner.opType !== 'If' || owner.domain !== '') continue;
      const twin = twins.get(owner.proto);
      const branches = owner.subgraphs.map((s) => {
        const body = bodies.get(s.graph.path);
        const g = twin ? bodyProto(twin, s.attribute) : undefined;
        return body && g ? { g, items: expose(body.view, g) } : undefined;
      });
      if (!twin || branches.some((b) => b === undefined) || branches.every((b) => b?.items.length === 0)) continue;
      for (const [k, branch] of branches.entries()) {
        for (const item of branch?.items ?? []) {
          const out = unique(`${item.tensor}::quantsim_if`);
          for (const [j, other] of branches.entries()) {
            if (!other) continue;
            if (j === k) {
              other.g.output.push(makeValueInfo(item.local, 'float32'));
              continue;
            }
            const empty = unique(`${item.tensor}::quantsim_none`);
            other.g.node.push(makeNode('Constant', [], [empty], { value: makeTensor(empty, 'float32', [0], []) }));
            other.g.output.push(makeValueInfo(empty, 'float32'));
          }
          twin.output.push(out);
          items.push({ tensor: item.tensor, local: out });
        }
      }
    }
    return items;
  };
  return expose(view, main);
}

/** Ops that only move data: their output holds the same multiset of values as their first input. */
const DATA_MOVEMENT = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose']);

/**
 * For each request that can be derived from another one (see {@link DerivedRange}), how. A
 * request is derivable when it is reduced or whole (not strided, not in a branch), its producer in the main
 * graph is one of the monotone ops of {@link DerivedRange} whose other operands are float32
 * constants of one element (initializers that are no graph input, or Constant nodes), and its
 * monotone input is a requested tensor with reductions of its own or itself derived.
 */
function derivations(model: Model, requests: readonly TensorRequest[]): Map<string, DerivedRange> {
  const graph = model.proto.graph as GraphProto;
  const inputs = new Set(graph.input.map((i) => i.name));
  const scalars = new Map<string, number>();
  const scalar = (t: TensorProto | undefined): number | undefined => {
    if (t?.dataType !== 1 || !t.dims.every((d) => d === 1n) || t.dataLocation === 1) return undefined;
    try {
      const v = tensorToFloat32(t);
      return v.length === 1 ? (v[0] as number) : undefined;
    } catch {
      return undefined;
    }
  };
  for (const t of graph.initializer) {
    const v = inputs.has(t.name) ? undefined : scalar(t);
    if (v !== undefined) scalars.set(t.name, v);
  }
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node) {
    if (n.opType === 'Constant' && n.domain === '' && n.output[0]) {
      const v = scalar(constantValue(n));
      if (v !== undefined) scalars.set(n.output[0], v);
    }
    for (const o of n.output) if (o !== '') producer.set(o, n);
  }
  const requested = new Map<string, TensorRequest>();
  for (const r of requests) if (r.scope === undefined) requested.set(r.tensor, r);
  const opset = model.opset;
  // How a tensor follows from its producer's monotone input, if it does.
  const candidate = (tensor: string): DerivedRange | undefined => {
    const n = producer.get(tensor);
    if (n?.domain !== '' || n.output[0] !== tensor) return undefined;
    const [a = '', b = ''] = n.input;
    if (DATA_MOVEMENT.has(n.opType)) return a ? { from: a, op: 'identity' } : undefined;
    if (n.opType === 'Relu') return a ? { from: a, op: 'relu' } : undefined;
    const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
    if (n.opType === 'Add' || n.opType === 'Sub' || n.opType === 'Mul' || n.opType === 'Div') {
      if (n.input.length !== 2 || !a || !b) return undefined;
      const ca = scalars.get(a);
      const cb = scalars.get(b);
      if (ca !== undefined && cb !== undefined) return undefined;
      if (n.opType === 'Add') {
        if (finite(cb)) return { from: a, op: 'add', constant: cb };
        if (finite(ca)) return { from: b, op: 'add', constant: ca };
        return undefined;
      }
      if (n.opType === 'Sub') {
        if (finite(cb)) return { from: a, op: 'sub', constant: cb };
        if (finite(ca)) return { from: b, op: 'rsub', constant: ca };
        return undefined;
      }
      const nonzero = (v: number | undefined): v is number => finite(v) && v !== 0;
      if (n.opType === 'Mul') {
        if (nonzero(cb)) return { from: a, op: 'mul', constant: cb };
        if (nonzero(ca)) return { from: b, op: 'mul', constant: ca };
        return undefined;
      }
      return nonzero(cb) ? { from: a, op: 'div', constant: cb } : undefined;
    }
    if (n.opType === 'Clip' && a) {
      let lo: number | undefined;
      let hi: number | undefined;
      if (opset < 11) {
        if (n.input.length > 1) return undefined;
        const attr = (name: string) => n.attribute.find((x) => x.name === name)?.f;
        lo = attr('min');
        hi = attr('max');
      } else {
        if (n.input.length > 3) return undefined;
        if (b) {
          lo = scalars.get(b);
          if (lo === undefined) return undefined;
        }
        const c = n.input[2] ?? '';
        if (c) {
          hi = scalars.get(c);
          if (hi === undefined) return undefined;
        }
      }
      if (Number.isNaN(lo) || Number.isNaN(hi) || (lo !== undefined && hi !== undefined && lo > hi)) return undefined;
      return { from: a, op: 'clip', ...(lo !== undefined ? { lo } : {}), ...(hi !== undefined ? { hi } : {}) };
    }
    return undefined;
  };
  const derived = new Map<string, DerivedRange>();
  const decided = new Map<string, boolean>();
  // Whether a request's range is available: its own reductions or a derivation. Whole tensors
  // (full, stride 1) are reduced too, for the range their histograms bin in; strided ones keep
  // their reductions (they need the graph's sample anyway).
  const available = (tensor: string): boolean => {
    const r = requested.get(tensor);
    if (!r) return false;
    if (strideOf(r) > 1) return true;
    const known = decided.get(tensor);
    if (known !== undefined) return true;
    decided.set(tensor, false);
    const d = candidate(tensor);
    if (d && d.from !== tensor && available(d.from)) derived.set(tensor, d);
    return true;
  };
  for (const r of requested.values()) available(r.tensor);
  return derived;
}

/**
 * The whole requests that are computed as products of two others (see {@link ProductOf}): a Mul
 * of the main graph with two requested whole tensors as operands, both computed from the same
 * fetched whole tensor (their root) through monotone derivations without data movement (so the
 * three share shape and element order, as the values computed from the root have it), where no
 * factor's root is itself a product (so each factor's range is known wherever the sample's
 * reductions are, and a product's factors can be checked finite before it is computed), and every
 * request derived from the product is whole too (so nothing outside the binning needs its range).
 */
function productsOf(
  model: Model,
  requests: readonly TensorRequest[],
  derived: ReadonlyMap<string, DerivedRange>,
  whole: (tensor: string) => boolean,
): Map<string, ProductOf> {
  const graph = model.proto.graph as GraphProto;
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node) for (const o of n.output) if (o !== '') producer.set(o, n);
  const products = new Map<string, ProductOf>();
  for (const r of requests) {
    if (r.scope !== undefined || !whole(r.tensor) || derived.has(r.tensor)) continue;
    const n = producer.get(r.tensor);
    if (n?.opType !== 'Mul' || n.domain !== '' || n.input.length !== 2 || n.output[0] !== r.tensor) continue;
    const [a = '', b = ''] = n.input;
    if (whole(a) && whole(b)) products.set(r.tensor, { op: 'product', from: a, other: b });
  }
  // The fetched whole tensor a whole tensor's values are computed from (itself when it is
  // fetched); undefined when the chain moves data.
  const root = (tensor: string): string | undefined => {
    let t = tensor;
    for (;;) {
      const d = derived.get(t);
      if (!d || !whole(d.from)) return t;
      if (d.op === 'identity') return undefined;
      t = d.from;
    }
  };
  for (const [tensor, p] of products) {
    const ra = root(p.from);
    if (ra === undefined || ra !== root(p.other) || products.has(ra)) products.delete(tensor);
  }
  // A request derived from a product that is not whole would need the product's range here.
  for (const r of requests) {
    if (whole(r.tensor) || !derived.has(r.tensor)) continue;
    for (let d = derived.get(r.tensor); d; d = derived.get(d.from))
      if (products.has(d.from)) {
        products.delete(d.from);
        break;
      }
  }
  return products;
}
