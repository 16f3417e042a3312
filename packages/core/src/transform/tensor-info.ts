import {
  type AttributeProto,
  TensorProto_DataType as DT,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type TypeProto,
} from 'onnx-buf';
import { tensorToFloat32 } from '../onnx/tensor-values.js';
import { add, BROADCAST, broadcast, COMPARE, GLOBAL_POOL, product, REDUCE, SAME_RANK, SAME_SHAPE } from './shape-rules.js';

/** A dimension: a number when known, `undefined` when not. */
export type KnownDim = number | undefined;

/** What is statically known about a tensor. */
export interface TensorInfo {
  /** ONNX element type code, when known. */
  readonly dtype?: number;
  /** The dims, when the rank is known (each dim may still be unknown). */
  readonly shape?: readonly KnownDim[];
}

/** Reads the values of a constant tensor (initializers and Constant nodes of the graph). */
export type ConstantReader = (name: string) => readonly number[] | undefined;

/**
 * A small, conservative shape and type inference over one graph, for rewrites that depend on a
 * tensor's rank or element type (Softmax axis coercion, typed Clip bounds). It starts from the
 * declarations (inputs, outputs, `value_info`, initializers, Constant nodes) and propagates
 * through the common ops in node order; anything it cannot derive stays unknown, so callers
 * must keep a form that works without it.
 */
export function inferTensorInfo(
  graph: GraphProto,
  constant: ConstantReader,
  outer: ReadonlyMap<string, TensorInfo> = new Map(),
): Map<string, TensorInfo> {
  const info = new Map<string, TensorInfo>(outer);
  const declare = (name: string, type: TypeProto | undefined) => {
    const t = fromType(type);
    if (t) info.set(name, merge(info.get(name), t));
  };
  for (const v of graph.input) declare(v.name, v.type);
  for (const v of graph.valueInfo) declare(v.name, v.type);
  for (const v of graph.output) declare(v.name, v.type);
  for (const t of graph.initializer) info.set(t.name, fromTensor(t));
  for (const node of graph.node) {
    const inferred = inferNode(node, (n) => info.get(n), constant);
    node.output.forEach((out, i) => {
      const t = inferred[i];
      if (out !== '' && t) info.set(out, merge(info.get(out), t));
    });
  }
  return info;
}

/** The values of a tensor as plain numbers (int64 and float alike), or `undefined` if it cannot be read. */
export function tensorValues(tensor: TensorProto): number[] | undefined {
  try {
    return Array.from(tensorToFloat32(tensor));
  } catch {
    return undefined;
  }
}

function fromTensor(t: TensorProto): TensorInfo {
  return { dtype: t.dataType, shape: t.dims.map((d) => Number(d)) };
}

function fromType(type: TypeProto | undefined): TensorInfo | undefined {
  if (type?.value.case !== 'tensorType') return undefined;
  const t = type.value.value;
  const shape = t.shape?.dim.map((d): KnownDim => (d.value.case === 'dimValue' ? Number(d.value.value) : undefined));
  return { ...(t.elemType ? { dtype: t.elemType } : {}), ...(shape ? { shape } : {}) };
}

/** Declared facts win; inferred ones fill what is missing. */
function merge(a: TensorInfo | undefined, b: TensorInfo): TensorInfo {
  if (!a) return b;
  const dtype = a.dtype ?? b.dtype;
  const shape = a.shape ?? b.shape;
  return { ...(dtype === undefined ? {} : { dtype }), ...(shape === undefined ? {} : { shape }) };
}

function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? Number(a.i) : fallback;
}

function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? a.ints.map((v) => Number(v)) : undefined;
}

function inferNode(
  node: NodeProto,
  get: (name: string) => TensorInfo | undefined,
  constant: ConstantReader,
): (TensorInfo | undefined)[] {
  if (node.domain !== '' && node.domain !== 'ai.onnx') return [];
  const x = node.input[0] === undefined || node.input[0] === '' ? undefined : get(node.input[0]);
  const shape = x?.shape;
  const dtype = x?.dtype;
  const withDtype = (s: readonly KnownDim[] | undefined, d: number | undefined = dtype): TensorInfo => ({
    ...(d === undefined ? {} : { dtype: d }),
    ...(s === undefined ? {} : { shape: s }),
  });
  const axesFrom = (index: number): number[] | undefined => {
    const fromAttr = intsAttr(node, 'axes');
    if (fromAttr) return fromAttr;
    const name = node.input[index];
    return name ? constant(name)?.map((v) => Math.round(v)) : undefined;
  };
  const op = node.opType;
  if (op === 'Constant') {
    const value = attr(node, 'value')?.t;
    if (value) return [fromTensor(value)];
    if (attr(node, 'value_float')) return [{ dtype: DT.FLOAT, shape: [] }];
    if (attr(node, 'value_int')) return [{ dtype: DT.INT64, shape: [] }];
    const floats = attr(node, 'value_floats');
    if (floats) return [{ dtype: DT.FLOAT, shape: [floats.floats.length] }];
    const ints = attr(node, 'value_ints');
    if (ints) return [{ dtype: DT.INT64, shape: [ints.ints.length] }];
    return [];
  }
  if (SAME_SHAPE.has(op)) return [withDtype(shape)];
  if (op === 'Cast') {
    const to = attr(node, 'to');
    const code = to ? (to.s.length > 0 ? castName(new TextDecoder().decode(to.s)) : Number(to.i)) : undefined;
    return [withDtype(shape, code)];
  }
  if (op === 'QuantizeLinear') {
    const zp = node.input[2] ? get(node.input[2])?.dtype : undefined;
    return [withDtype(shape, zp ?? DT.UINT8)];
  }
  if (op === 'DequantizeLinear') {
    const scale = node.input[1] ? get(node.input[1])?.dtype : undefined;
    return [withDtype(shape, scale ?? DT.FLOAT)];
  }
  if (BROADCAST.has(op) || COMPARE.has(op) || op === 'Where') {
    const inputs = node.input.map((n) => (n === '' ? undefined : get(n)));
    const out = broadcast(inputs.map((i) => i?.shape));
    const d = COMPARE.has(op) ? DT.BOOL : op === 'Where' ? inputs[1]?.dtype : dtype;
    return [withDtype(out, d)];
  }
  if (SAME_RANK.has(op)) {
    if (!shape) return [withDtype(undefined)];
    return [
      withDtype(
        shape.map((d, i) => (i < 2 && op !== 'Pad' && op !== 'Resize' && op !== 'Upsample' && op !== 'Tile' ? d : undefined)),
      ),
    ];
  }
  if (GLOBAL_POOL.has(op)) return [withDtype(shape?.map((d, i) => (i < 2 ? d : 1)))];
  if (op === 'Transpose') {
    if (!shape) return [withDtype(undefined)];
    const perm = intsAttr(node, 'perm') ?? shape.map((_, i) => shape.length - 1 - i);
    return [withDtype(perm.map((p) => shape[p]))];
  }
  if (op === 'Reshape') {
    const target = node.input[1] ? constant(node.input[1]) : intsAttr(node, 'shape');
    if (target) {
      const dims: KnownDim[] = target.map((v, i) => (v === 0 ? shape?.[i] : v === -1 ? undefined : v));
      const minusOne = target.indexOf(-1);
      if (minusOne >= 0 && shape && shape.every((d) => d !== undefined)) {
        const total = (shape as number[]).reduce((a, b) => a * b, 1);
        const rest = dims.reduce<number | undefined>(
          (a, d, i) => (i === minusOne || a === undefined || d === undefined ? a : a * d),
          1,
        );
        if (rest) dims[minusOne] = total / rest;
      }
      return [withDtype(dims)];
    }
    const len = node.input[1] ? get(node.input[1])?.shape?.[0] : undefined;
    return [withDtype(len === undefined ? undefined : new Array<KnownDim>(len).fill(undefined))];
  }
  if (op === 'Flatten') {
    if (!shape) return [withDtype([undefined, undefined])];
    const a = intAttr(node, 'axis', 1);
    const axis = a < 0 ? a + shape.length : a;
    return [withDtype([product(shape.slice(0, axis)), product(shape.slice(axis))])];
  }
  if (op === 'Shape') {
    if (!shape) return [{ dtype: DT.INT64, shape: [undefined] }];
    const r = shape.length;
    const clampIndex = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const start = clampIndex(intAttr(node, 'start', 0));
    const end = clampIndex(intAttr(node, 'end', r));
    return [{ dtype: DT.INT64, shape: [Math.max(end - start, 0)] }];
  }
  if (op === 'Size') return [{ dtype: DT.INT64, shape: [] }];
  if (op === 'Concat') {
    const inputs = node.input.map((n) => get(n)?.shape);
    const known = inputs.find((s) => s !== undefined);
    if (!known) return [withDtype(undefined)];
    const a = intAttr(node, 'axis', 1);
    const axis = a < 0 ? a + known.length : a;
    const along = inputs.reduce<number | undefined>((sum, s) => (sum === undefined || !s ? undefined : add(sum, s[axis])), 0);
    return [withDtype(known.map((d, i) => (i === axis ? along : inputs.every((s) => s?.[i] === d) ? d : undefined)))];
  }
  if (op === 'Slice') {
    if (!shape) return [withDtype(undefined)];
    const starts = intsAttr(node, 'starts') ?? (node.input[1] ? constant(node.input[1]) : undefined);
    const ends = intsAttr(node, 'ends') ?? (node.input[2] ? constant(node.input[2]) : undefined);
    const axes = intsAttr(node, 'axes') ?? (node.input[3] ? constant(node.input[3]) : undefined);
    const steps = node.input[4] ? constant(node.input[4]) : undefined;
    const out: KnownDim[] = shape.map(() => undefined);
    if (!starts || !ends || (node.input[4] && !steps)) return [withDtype(out)];
    const sliced = new Set<number>();
    starts.forEach((s, k) => {
      const a0 = axes?.[k] ?? k;
      const a = a0 < 0 ? a0 + shape.length : a0;
      sliced.add(a);
      const dim = shape[a];
      const e = ends[k];
      const step = steps?.[k] ?? 1;
      if (dim === undefined || e === undefined || step !== 1) return;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
      out[a] = Math.max(clamp(e) - clamp(s), 0);
    });
    return [withDtype(out.map((d, i) => (sliced.has(i) ? d : shape[i])))];
  }
  if (op === 'Squeeze') {
    if (!shape) return [withDtype(undefined)];
    const axes = axesFrom(1);
    if (!axes) return [withDtype(shape.every((d) => d !== undefined) ? shape.filter((d) => d !== 1) : undefined)];
    const drop = new Set(axes.map((a) => (a < 0 ? a + shape.length : a)));
    return [withDtype(shape.filter((_, i) => !drop.has(i)))];
  }
  if (op === 'Unsqueeze') {
    const axes = axesFrom(1);
    if (!shape || !axes) return [withDtype(undefined)];
    const rank = shape.length + axes.length;
    const add1 = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
    const out: KnownDim[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) out.push(add1.has(i) ? 1 : shape[k++]);
    return [withDtype(out)];
  }
  if (op === 'Gather') {
    const idx = node.input[1] ? get(node.input[1])?.shape : undefined;
    if (!shape || !idx) return [withDtype(undefined)];
    const a = intAttr(node, 'axis', 0);
    const axis = a < 0 ? a + shape.length : a;
    return [withDtype([...shape.slice(0, axis), ...idx, ...shape.slice(axis + 1)])];
  }
  if (op === 'MatMul') {
    const b = node.input[1] ? get(node.input[1])?.shape : undefined;
    if (!shape || !b) return [withDtype(undefined)];
    if (shape.length >= 2 && b.length >= 2) {
      const batch = broadcast([shape.slice(0, -2), b.slice(0, -2)]) ?? [];
      return [withDtype([...batch, shape[shape.length - 2], b[b.length - 1]])];
    }
    if (shape.length === 1 && b.length >= 2) return [withDtype([...b.slice(0, -2), b[b.length - 1]])];
    if (b.length === 1 && shape.length >= 2) return [withDtype(shape.slice(0, -1))];
    return [withDtype([])];
  }
  if (op === 'Gemm') return [withDtype([undefined, undefined])];
  if (REDUCE.has(op)) {
    if (!shape) return [withDtype(undefined, op.startsWith('Arg') ? DT.INT64 : dtype)];
    const keep = intAttr(node, 'keepdims', 1) !== 0;
    const axes = op.startsWith('Arg') ? [intAttr(node, 'axis', 0)] : axesFrom(1);
    const all = !axes || axes.length === 0;
    const set = new Set((axes ?? []).map((a) => (a < 0 ? a + shape.length : a)));
    const reduced = (i: number) => all || set.has(i);
    const out = keep ? shape.map((d, i) => (reduced(i) ? 1 : d)) : shape.filter((_, i) => !reduced(i));
    return [withDtype(out, op.startsWith('Arg') ? DT.INT64 : dtype)];
  }
  if (op === 'Split') return node.output.map(() => withDtype(shape?.map(() => undefined)));
  if (op === 'TopK')
    return [
      withDtype(shape?.map(() => undefined)),
      withDtype(
        shape?.map(() => undefined),
        DT.INT64,
      ),
    ];
  if (op === 'Expand') {
    const len = node.input[1] ? get(node.input[1])?.shape?.[0] : undefined;
    if (!shape || len === undefined) return [withDtype(undefined)];
    return [withDtype(new Array<KnownDim>(Math.max(shape.length, len)).fill(undefined))];
  }
  if (op === 'ConstantOfShape') {
    const dims = node.input[0] ? constant(node.input[0]) : undefined;
    const len = shape?.[0];
    const value = attr(node, 'value')?.t;
    const d = value ? value.dataType : DT.FLOAT;
    if (dims) return [{ dtype: d, shape: dims }];
    return [{ dtype: d, ...(len === undefined ? {} : { shape: new Array<KnownDim>(len).fill(undefined) }) }];
  }
  if (op === 'Range') return [withDtype([undefined])];
  if (op === 'NonZero') return [{ dtype: DT.INT64, ...(shape ? { shape: [shape.length, undefined] } : {}) }];
  return [];
}

/** Element type codes of the opset-1 Cast, which named its target type as a string. */
export function castName(name: string): number | undefined {
  const code = (DT as unknown as Record<string, number>)[name.toUpperCase()];
  return typeof code === 'number' ? code : undefined;
}
