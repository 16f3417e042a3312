import { CalibrationError } from '../errors/calibration-error.js';
import { type KernelMap, reserveFloats, wasmClamp, wasmMap } from './kernels.js';
import type { DerivedRange } from './statistics-graph.js';
import type { KnownRange, StatsAccumulator } from './stats.js';

/**
 * A whole activation whose values JavaScript computes from another one's instead of copying them
 * out of the backend: `how` is the monotone op with a scalar constant that gives it from
 * `how.from` (see {@link DerivedRange}), `range` its exact range in this sample when every value
 * is finite.
 */
export interface DerivedValues {
  readonly tensor: string;
  readonly how: DerivedRange;
  readonly range?: KnownRange;
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
  }
}

/** Reusable buffers by length, one thread's (the values of derived tensors live only while binned). */
const pool = new Map<number, Float32Array[]>();

/**
 * Bins `values` of `tensor` and then every tensor of `derived` (in dependency order: a source
 * before what it gives), computing each one's values from its source's. A store into a
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
  if (derived.length > 0 && binWithDerivedWasm(add, tensor, values, range, derived)) return nonFinite;
  add(tensor, values, range);
  if (derived.length === 0) return nonFinite;
  const live = new Map<string, Float32Array>([[tensor, values]]);
  const taken: Float32Array[] = [];
  try {
    for (const d of derived) {
      const src = live.get(d.how.from);
      if (!src) throw notBinnedBefore(d);
      // Data movement keeps the multiset of values, which is all a histogram sees.
      const out = d.how.op === 'identity' ? src : (pool.get(src.length)?.pop() ?? new Float32Array(src.length));
      if (out !== src) {
        taken.push(out);
        computeDerived(d.how, src, out);
      }
      live.set(d.tensor, out);
      add(d.tensor, out, d.range);
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
  const ops = derived.map((d) => (d.how.op === 'identity' ? 'identity' : kernelOp(d.how)));
  if (ops.some((o) => o === undefined)) return false;
  const n = values.length;
  const slots = 1 + ops.filter((o) => o !== 'identity').length;
  const region = reserveFloats(slots * n);
  if (region === undefined) return false;
  // Views only after the reservation (a grow detaches them); no kernel grows the memory after it.
  const source = region.subarray(0, n);
  source.set(values);
  const known = new Set([tensor]);
  for (const d of derived) {
    if (!known.has(d.how.from)) throw notBinnedBefore(d);
    known.add(d.tensor);
  }
  const live = new Map<string, Float32Array>([[tensor, source]]);
  add(tensor, source, range);
  let slot = 1;
  derived.forEach((d, j) => {
    const src = live.get(d.how.from) as Float32Array;
    const o = ops[j] as Exclude<(typeof ops)[number], undefined>;
    let out = src;
    if (o !== 'identity') {
      out = region.subarray(slot * n, slot * n + n);
      slot++;
      const done = o.op === 'clamp' ? wasmClamp(src, out, o.lo, o.hi) : wasmMap(o.op, src, out, o.c);
      if (!done) computeDerived(d.how, src, out);
    }
    live.set(d.tensor, out);
    add(d.tensor, out, d.range);
  });
  return true;
}

function notBinnedBefore(d: DerivedValues): CalibrationError {
  return new CalibrationError(
    'CALIBRATION',
    `The values of '${d.tensor}' derive from '${d.how.from}', which was not binned before it.`,
    'This is a bug in quantsim; report it with the model.',
  );
}
