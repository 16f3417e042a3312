import { CalibrationError } from '../errors/calibration-error.js';
import { type KernelMap, reserveFloats, wasmClamp, wasmExtent, wasmMap, wasmProduct } from './kernels.js';
import type { KnownRange, StatsAccumulator } from './stats.js';

/**
 * How a tensor's range follows from that of another requested tensor, without reductions of its
 * own: the tensor is `f(from)` elementwise for a monotone `f` (see {@link deriveRange}), so its
 * minimum and maximum are `f` of the source's (swapped when `f` decreases), its element count is
 * the source's, and it holds no NaN or infinity when the source holds none and the derived range
 * is finite. `constant` is the scalar operand of `add`, `sub`, `rsub` (`constant − x`), `mul` and
 * `div` (`x / constant`); `lo` and `hi` the bounds of `clip` (absent: none). `relu` is `clip`
 * with `lo` 0; `identity` stands for pure data movement (Identity, Reshape, Flatten, Squeeze,
 * Unsqueeze, Transpose).
 */
export interface DerivedRange {
  readonly from: string;
  readonly op: 'identity' | 'add' | 'sub' | 'rsub' | 'mul' | 'div' | 'clip' | 'relu';
  readonly constant?: number;
  readonly lo?: number;
  readonly hi?: number;
}

/**
 * The range of a derived tensor from its source's range `[lo, hi]` (finite float32 values), as
 * float32 IEEE arithmetic gives it elementwise: rounding is monotone, so the extremes of `f(x)`
 * are `f` of the extremes of `x`; `Math.fround` of a double sum, difference, product or quotient
 * of two float32 values is the float32 result. A zero result is +0.
 */
export function deriveRange(d: DerivedRange, lo: number, hi: number): [number, number] {
  const c = d.constant ?? 0;
  let a: number;
  let b: number;
  switch (d.op) {
    case 'identity':
      [a, b] = [lo, hi];
      break;
    case 'add':
      [a, b] = [Math.fround(lo + c), Math.fround(hi + c)];
      break;
    case 'sub':
      [a, b] = [Math.fround(lo - c), Math.fround(hi - c)];
      break;
    case 'rsub':
      [a, b] = [Math.fround(c - hi), Math.fround(c - lo)];
      break;
    case 'mul':
      [a, b] = c > 0 ? [Math.fround(lo * c), Math.fround(hi * c)] : [Math.fround(hi * c), Math.fround(lo * c)];
      break;
    case 'div':
      [a, b] = c > 0 ? [Math.fround(lo / c), Math.fround(hi / c)] : [Math.fround(hi / c), Math.fround(lo / c)];
      break;
    case 'relu':
      [a, b] = [Math.max(lo, 0), Math.max(hi, 0)];
      break;
    case 'clip': {
      const clip = (v: number) => Math.min(Math.max(v, d.lo ?? Number.NEGATIVE_INFINITY), d.hi ?? Number.POSITIVE_INFINITY);
      [a, b] = [clip(lo), clip(hi)];
      break;
    }
  }
  return [a + 0, b + 0];
}

/**
 * A whole activation that is the elementwise product of two others, `from ⊙ other`, both computed
 * from the same fetched tensor by monotone ops with scalar constants and no data movement (so the
 * three have one shape and one element order), such as the `x ⊙ clip(x + 3, 0, 6)` of a
 * decomposed hardswish. Its range follows from no other range: the thread that computes its values
 * takes it from them.
 */
export interface ProductOf {
  readonly op: 'product';
  readonly from: string;
  readonly other: string;
}

/**
 * A whole activation whose values are computed from those of another one (or two, for a
 * product) instead of copied out of the backend: `how` is the monotone op with a scalar constant
 * (see {@link DerivedRange}) or the product that gives it. Its range in the sample is derived
 * where its values are computed (see {@link binWithDerived}).
 */
export interface DerivedValues {
  readonly tensor: string;
  readonly how: DerivedRange | ProductOf;
}

/**
 * Computes `out[i] = f(src[i])` as the float32 op does it: `Math.fround` of the double sum,
 * difference, product or quotient of two float32 values is the float32 IEEE result, and Clip and
 * Relu select. Only for finite sources: what Clip and Relu make of NaN depends on the backend's
 * kernel, so a sample with NaN or infinities in a source fetches its derived tensors instead.
 */
export function computeDerived(how: DerivedRange, src: Float32Array, out: Float32Array): void {
  const c = how.constant ?? 0;
  switch (how.op) {
    case 'identity':
      out.set(src);
      return;
    case 'add':
      addTo(src, out, c);
      return;
    case 'sub':
      addTo(src, out, -c); // x − c is x + (−c) exactly
      return;
    case 'rsub':
      subtractFrom(src, out, c);
      return;
    case 'mul':
      multiply(src, out, c);
      return;
    case 'div':
      divide(src, out, c);
      return;
    case 'relu':
      clamp(src, out, 0, Number.POSITIVE_INFINITY);
      return;
    case 'clip':
      clamp(src, out, how.lo ?? Number.NEGATIVE_INFINITY, how.hi ?? Number.POSITIVE_INFINITY);
      return;
  }
}

// One small function per op, four elements a step: V8 runs these maps about twice as fast as one
// element a step, and a function per op keeps each loop's feedback to itself.
function addTo(src: Float32Array, out: Float32Array, c: number): void {
  const n = src.length - 3;
  let i = 0;
  for (; i < n; i += 4) {
    out[i] = (src[i] as number) + c;
    out[i + 1] = (src[i + 1] as number) + c;
    out[i + 2] = (src[i + 2] as number) + c;
    out[i + 3] = (src[i + 3] as number) + c;
  }
  for (; i < src.length; i++) out[i] = (src[i] as number) + c;
}

function subtractFrom(src: Float32Array, out: Float32Array, c: number): void {
  const n = src.length - 3;
  let i = 0;
  for (; i < n; i += 4) {
    out[i] = c - (src[i] as number);
    out[i + 1] = c - (src[i + 1] as number);
    out[i + 2] = c - (src[i + 2] as number);
    out[i + 3] = c - (src[i + 3] as number);
  }
  for (; i < src.length; i++) out[i] = c - (src[i] as number);
}

function multiply(src: Float32Array, out: Float32Array, c: number): void {
  const n = src.length - 3;
  let i = 0;
  for (; i < n; i += 4) {
    out[i] = (src[i] as number) * c;
    out[i + 1] = (src[i + 1] as number) * c;
    out[i + 2] = (src[i + 2] as number) * c;
    out[i + 3] = (src[i + 3] as number) * c;
  }
  for (; i < src.length; i++) out[i] = (src[i] as number) * c;
}

function divide(src: Float32Array, out: Float32Array, c: number): void {
  const n = src.length - 3;
  let i = 0;
  for (; i < n; i += 4) {
    out[i] = (src[i] as number) / c;
    out[i + 1] = (src[i + 1] as number) / c;
    out[i + 2] = (src[i + 2] as number) / c;
    out[i + 3] = (src[i + 3] as number) / c;
  }
  for (; i < src.length; i++) out[i] = (src[i] as number) / c;
}

function clamp(src: Float32Array, out: Float32Array, lo: number, hi: number): void {
  const n = src.length - 3;
  let i = 0;
  for (; i < n; i += 4) {
    out[i] = Math.min(Math.max(src[i] as number, lo), hi);
    out[i + 1] = Math.min(Math.max(src[i + 1] as number, lo), hi);
    out[i + 2] = Math.min(Math.max(src[i + 2] as number, lo), hi);
    out[i + 3] = Math.min(Math.max(src[i + 3] as number, lo), hi);
  }
  for (; i < src.length; i++) out[i] = Math.min(Math.max(src[i] as number, lo), hi);
}

/**
 * `out[i] = a[i] · b[i]` as the float32 op does it (the double product of two float32 values is
 * exact, so `Math.fround` of it is the float32 product), and the least and greatest product: both
 * NaN when a product is NaN. The arrays have one length.
 */
export function computeProduct(a: Float32Array, b: Float32Array, out: Float32Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let nan = false;
  for (let i = 0; i < a.length; i++) {
    const v = Math.fround((a[i] as number) * (b[i] as number));
    out[i] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (Number.isNaN(v)) nan = true;
  }
  return nan ? [Number.NaN, Number.NaN] : [lo, hi];
}

/** The least and greatest of `values`: both NaN when one is NaN (as {@link computeProduct}). */
export function computeExtent(values: Float32Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let nan = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (Number.isNaN(v)) nan = true;
  }
  return nan ? [Number.NaN, Number.NaN] : [lo, hi];
}

// Both loops of every op run here first (V8 allocates feedback after a few calls), so that their
// optimised code does not give up on the first calibration that reaches a loop's tail.
{
  const src = new Float32Array([-1.5, 0, 2.5, 7, 3]);
  const out = new Float32Array(5);
  for (let r = 0; r < 16; r++) {
    addTo(src, out, 3);
    subtractFrom(src, out, 1);
    multiply(src, out, -2);
    divide(src, out, 6);
    clamp(src, out, 0, 6);
    computeProduct(src, src, out);
    computeExtent(src);
  }
}

/** Reusable buffers by length, one thread's (the values of derived tensors live only while binned). */
const pool = new Map<number, Float32Array[]>();

/**
 * The range of a monotone derived tensor in a sample, from its source's (undefined: the source's
 * is unknown or the derived one is not finite, as {@link deriveRange} gives it).
 */
function derivedRange(how: DerivedRange, source: KnownRange | undefined): KnownRange | undefined {
  if (!source) return undefined;
  const [min, max] = deriveRange(how, source.min, source.max);
  return Number.isFinite(min) && Number.isFinite(max) ? { min, max } : undefined;
}

/**
 * A range from measured extremes (a product's, or values that came without one): undefined
 * unless both are finite; a zero extreme is +0.
 */
function extentRange([min, max]: [number, number]): KnownRange | undefined {
  return Number.isFinite(min) && Number.isFinite(max) ? { min: min + 0, max: max + 0 } : undefined;
}

/**
 * Bins `values` of `tensor` and then every tensor of `derived` (in dependency order: a source
 * before what it gives), computing each one's values from its source's, and its range: derived
 * from the source's range (`range`, the exact extremes of `values` when all are finite) for a
 * monotone op, taken from the values for a product. Values that come without a range (the
 * backend did not reduce them) are measured first, in one SIMD pass where the kernels run, so
 * that they and what derives from them bin in one pass when they are all finite. A store into a
 * `Float32Array` rounds to float32, which is what makes the double arithmetic of
 * {@link computeDerived} exact. Returns the first tensor that held NaN or infinite values, if any.
 */
export function binWithDerived(
  accumulator: (tensor: string) => StatsAccumulator,
  tensor: string,
  values: Float32Array,
  range: KnownRange | undefined,
  derived: readonly DerivedValues[],
): string | undefined {
  let nonFinite: string | undefined;
  const add = (t: string, v: Float32Array, r: KnownRange | undefined) => {
    const acc = accumulator(t);
    const before = acc.nonFinite;
    acc.add(v, undefined, r);
    if (acc.nonFinite > before && nonFinite === undefined) nonFinite = t;
  };
  if (binWithDerivedWasm(add, tensor, values, range, derived)) return nonFinite;
  const measured = range ?? extentRange(computeExtent(values));
  add(tensor, values, measured);
  if (derived.length === 0) return nonFinite;
  const live = new Map<string, Float32Array>([[tensor, values]]);
  const ranges = new Map<string, KnownRange | undefined>([[tensor, measured]]);
  const taken: Float32Array[] = [];
  const buffer = (length: number) => {
    const b = pool.get(length)?.pop() ?? new Float32Array(length);
    taken.push(b);
    return b;
  };
  try {
    for (const d of derived) {
      const how = d.how;
      const src = live.get(how.from);
      if (!src) throw notBinnedBefore(d, how.from);
      let out = src;
      let r: KnownRange | undefined;
      if (how.op === 'product') {
        const other = factor(live, d, src.length);
        out = buffer(src.length);
        r = extentRange(computeProduct(src, other, out));
      } else {
        // Data movement keeps the multiset of values, which is all a histogram sees.
        if (how.op !== 'identity') {
          out = buffer(src.length);
          computeDerived(how, src, out);
        }
        r = derivedRange(how, ranges.get(how.from));
      }
      live.set(d.tensor, out);
      ranges.set(d.tensor, r);
      add(d.tensor, out, r);
    }
  } finally {
    for (const b of taken) {
      const free = pool.get(b.length) ?? [];
      // A few buffers per size are enough: a chain holds one per link while it is binned.
      if (free.length < 4) free.push(b);
      pool.set(b.length, free);
    }
  }
  return nonFinite;
}

/** A product's second factor, binned before it and as long as the first. */
function factor(live: ReadonlyMap<string, Float32Array>, d: DerivedValues, length: number): Float32Array {
  const how = d.how as ProductOf;
  const other = live.get(how.other);
  if (!other) throw notBinnedBefore(d, how.other);
  if (other.length !== length)
    throw new CalibrationError(
      'CALIBRATION',
      `The factors of '${d.tensor}', '${how.from}' and '${how.other}', hold ${length} and ${other.length} values in one sample.`,
      'This is a bug in quantsim (a product is computed only from factors of one shape); report it with the model.',
    );
  return other;
}

/** The kernel op and constant that compute `how` in float32, or undefined where it has none. */
function kernelOp(how: DerivedRange): { op: KernelMap | 'clamp'; c: number; lo: number; hi: number } | undefined {
  const c = how.constant ?? 0;
  const f32 = (x: number) => Math.fround(x) === x || Number.isNaN(x);
  switch (how.op) {
    case 'add':
    case 'sub':
    case 'rsub':
    case 'mul':
    case 'div':
      // computeDerived rounds the double result of two float32 operands, which is the float32 op
      // only when the constant is a float32 value.
      if (!f32(c)) return undefined;
      return { op: how.op === 'sub' ? 'add' : how.op, c: how.op === 'sub' ? -c : c, lo: 0, hi: 0 };
    case 'relu':
      return { op: 'clamp', c: 0, lo: 0, hi: Number.POSITIVE_INFINITY };
    case 'clip': {
      const lo = how.lo ?? Number.NEGATIVE_INFINITY;
      const hi = how.hi ?? Number.POSITIVE_INFINITY;
      if (!f32(lo) || !f32(hi) || Number.isNaN(lo) || Number.isNaN(hi)) return undefined;
      return { op: 'clamp', c: 0, lo, hi };
    }
    default:
      return undefined;
  }
}

/**
 * {@link binWithDerived} with the values and every derived tensor in the WebAssembly kernels'
 * memory, computed there: nothing is copied but the source. Returns false, having binned nothing,
 * when the kernels cannot take the chain (off, no memory, a constant that is not a float32 value).
 */
function binWithDerivedWasm(
  add: (t: string, v: Float32Array, r: KnownRange | undefined) => void,
  tensor: string,
  values: Float32Array,
  range: KnownRange | undefined,
  derived: readonly DerivedValues[],
): boolean {
  const ops = derived.map((d) => (d.how.op === 'identity' || d.how.op === 'product' ? d.how.op : kernelOp(d.how)));
  if (ops.some((o) => o === undefined)) return false;
  const n = values.length;
  const known = new Set([tensor]);
  for (const d of derived) {
    for (const from of d.how.op === 'product' ? [d.how.from, d.how.other] : [d.how.from])
      if (!known.has(from)) throw notBinnedBefore(d, from);
    known.add(d.tensor);
  }
  const plan = slotPlan(tensor, derived, ops);
  const region = reserveFloats(plan.slots * n);
  if (region === undefined) return false;
  // Views only after the reservation (a grow detaches them); no kernel grows the memory after it.
  const slotView = (s: number) => region.subarray(s * n, s * n + n);
  const source = slotView(0);
  source.set(values);
  const measured = range ?? extentRange(wasmExtent(source) ?? computeExtent(source));
  const live = new Map<string, Float32Array>([[tensor, source]]);
  const ranges = new Map<string, KnownRange | undefined>([[tensor, measured]]);
  add(tensor, source, measured);
  derived.forEach((d, j) => {
    const how = d.how;
    const src = live.get(how.from) as Float32Array;
    const o = ops[j] as Exclude<(typeof ops)[number], undefined>;
    const out = o === 'identity' ? src : slotView(plan.slotOf[j] as number);
    let r: KnownRange | undefined;
    if (how.op === 'product') {
      const other = factor(live, d, n);
      r = extentRange(wasmProduct(src, other, out) ?? computeProduct(src, other, out));
    } else {
      if (o !== 'identity' && o !== 'product') {
        const done = o.op === 'clamp' ? wasmClamp(src, out, o.lo, o.hi) : wasmMap(o.op, src, out, o.c);
        if (!done) computeDerived(how, src, out);
      }
      r = derivedRange(how, ranges.get(how.from));
    }
    live.set(d.tensor, out);
    ranges.set(d.tensor, r);
    add(d.tensor, out, r);
  });
  return true;
}

/**
 * Which of `slots` buffers of the values' length each derived tensor's values go to (index j of
 * `derived`; identity ops take their source's): slot 0 holds the source, and a slot is taken again
 * once every tensor in it has been binned and read by all that derive from it. Reusing slots keeps
 * a chain's values in a few cache-sized buffers instead of one per link.
 */
function slotPlan(
  tensor: string,
  derived: readonly DerivedValues[],
  ops: readonly unknown[],
): { slots: number; slotOf: number[] } {
  const sourcesOf = (d: DerivedValues) => (d.how.op === 'product' ? [d.how.from, d.how.other] : [d.how.from]);
  // Reads still to come of each tensor's values.
  const reads = new Map<string, number>();
  for (const d of derived) for (const f of sourcesOf(d)) reads.set(f, (reads.get(f) ?? 0) + 1);
  const slotOfTensor = new Map<string, number>([[tensor, 0]]);
  const holders = [1];
  const free: number[] = [];
  const release = (t: string) => {
    if ((reads.get(t) ?? 0) > 0) return;
    const s = slotOfTensor.get(t) as number;
    holders[s] = (holders[s] as number) - 1;
    if (holders[s] === 0) free.push(s);
  };
  const slotOf: number[] = [];
  release(tensor);
  derived.forEach((d, j) => {
    // The output's slot is taken before the sources' are given back: an op never writes over
    // what it reads (the kernels read and write one element at a time, but the product reads two).
    let s: number;
    if (ops[j] === 'identity') {
      s = slotOfTensor.get(d.how.from) as number;
      holders[s] = (holders[s] as number) + 1;
    } else {
      s = free.pop() ?? holders.length;
      if (s === holders.length) holders.push(0);
      holders[s] = 1;
    }
    slotOf.push(s);
    slotOfTensor.set(d.tensor, s);
    for (const f of sourcesOf(d)) {
      reads.set(f, (reads.get(f) as number) - 1);
      release(f);
    }
    release(d.tensor);
  });
  return { slots: holders.length, slotOf };
}

function notBinnedBefore(d: DerivedValues, from: string): CalibrationError {
  return new CalibrationError(
    'CALIBRATION',
    `The values of '${d.tensor}' derive from '${from}', which was not binned before it.`,
    'This is a bug in quantsim; report it with the model.',
  );
}
