import { HISTOGRAM_MAX_BINS } from './histogram.js';
import { KERNELS_WASM_BASE64 } from './wasm/kernels-wasm.js';

/** The part of WebAssembly's JavaScript API used here (the project's types leave out the DOM's). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: unknown };
}

/** The exports of kernels.wat (byte offsets and element counts in `memory`). */
interface KernelExports {
  readonly memory: WasmMemory;
  bin(src: number, n: number, counters: number, length: number, inv: number, first: number): void;
  bin32(src: number, n: number, counters: number, length: number, inv: number, first: number): void;
  add(src: number, out: number, n: number, c: number): void;
  rsub(src: number, out: number, n: number, c: number): void;
  mul(src: number, out: number, n: number, c: number): void;
  div(src: number, out: number, n: number, c: number): void;
  clamp(src: number, out: number, n: number, lo: number, hi: number): void;
  product(a: number, b: number, out: number, n: number): [number, number];
  extent(src: number, n: number): [number, number];
  fold(c: number, len: number, out: number): void;
}

/** The elementwise ops the kernels compute, `out = f(src)` with a float32 constant. */
export type KernelMap = 'add' | 'rsub' | 'mul' | 'div';

/**
 * Memory layout: four i32 counters per bin for up to {@link HISTOGRAM_MAX_BINS} bins plus the
 * stray bin from byte 0, then one i32 sum per bin ({@link wasmFold}), the 64 scratch bytes of the
 * float32 binning kernel just below {@link DATA} (131008 … 131071), then the values from
 * {@link DATA}, which grows on demand.
 */
const COUNTERS = 0;
/** Where {@link wasmFold} writes the bins' sums: after the counters (4 · 4097 i32), 16 KiB. */
const SUMS = 16 * (HISTOGRAM_MAX_BINS + 1);
const DATA = 131072;
const PAGE = 65536;
/** The most bytes of values the module takes; larger batches stay in JavaScript. */
const MAX_DATA_BYTES = 1024 * 1024 * 1024;

function decode(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

let kernels: KernelExports | undefined;
/** Why the kernels are not in use, when they are not. */
let unavailable: string | undefined;
if (typeof process !== 'undefined' && process.env?.QUANTSIM_NO_WASM) {
  unavailable = 'turned off by QUANTSIM_NO_WASM';
} else {
  try {
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    kernels = new wasm.Instance(new wasm.Module(decode(KERNELS_WASM_BASE64))).exports as KernelExports;
  } catch (e) {
    unavailable = `this JavaScript engine does not run WebAssembly with SIMD (${e instanceof Error ? e.message : String(e)})`;
  }
}

/**
 * Whether the WebAssembly SIMD kernels are in use (binning and derived values then run there;
 * otherwise in JavaScript, with the same results), and if not, why. Setting the environment
 * variable `QUANTSIM_NO_WASM` before quantsim loads turns them off.
 */
export function wasmKernelsStatus(): { readonly available: boolean; readonly reason?: string } {
  return kernels === undefined ? { available: false, reason: unavailable ?? 'not loaded' } : { available: true };
}

let buffer: ArrayBuffer | undefined;
let counters = new Int32Array(0);
let sums = new Int32Array(0);
let floats = new Float32Array(0);

/** Views of the memory as it is now (a grow detaches the old ones). */
function views(k: KernelExports): void {
  const now = k.memory.buffer;
  if (buffer !== now) {
    buffer = now;
    counters = new Int32Array(now, COUNTERS, 4 * (HISTOGRAM_MAX_BINS + 1));
    sums = new Int32Array(now, SUMS, HISTOGRAM_MAX_BINS);
    floats = new Float32Array(now);
  }
}

/**
 * Makes room for `n` float32 values from the start of the data region and returns a view of them,
 * or undefined when the kernels are off or the memory cannot grow that far. Growing detaches every
 * earlier view of the memory: reserve first, then take views.
 */
export function reserveFloats(n: number): Float32Array | undefined {
  const k = kernels;
  if (k === undefined || 4 * n > MAX_DATA_BYTES) return undefined;
  const need = DATA + 4 * n;
  const have = k.memory.buffer.byteLength;
  if (need > have) {
    try {
      k.memory.grow(Math.ceil((need - have) / PAGE));
    } catch {
      return undefined;
    }
  }
  views(k);
  return floats.subarray(DATA / 4, DATA / 4 + n);
}

/** Whether `values` lie in the kernels' memory (a view that {@link reserveFloats} returned). */
function inMemory(k: KernelExports, values: Float32Array): boolean {
  return values.buffer === k.memory.buffer && values.byteOffset >= DATA;
}

/**
 * Bins `values` into `length` bins (bin `floor(v * inv) - first`, as the JavaScript loops compute
 * it in float64; the kernel uses float32 lanes where they give the same bins) and returns the
 * module's counters: four per bin (bin k's are 4k … 4k+3), then the four of the stray bin
 * `length`, which count values outside [0, length) and NaN. The caller adds them up and must
 * leave all 4·(length + 1) zero again. Undefined (nothing done) when the kernels
 * cannot take this batch (off, too many bins, no memory).
 */
export function wasmBin(values: Float32Array, length: number, inv: number, first: number): Int32Array | undefined {
  const k = kernels;
  if (k === undefined || length > HISTOGRAM_MAX_BINS || length === 0) return undefined;
  let src: number;
  if (inMemory(k, values)) {
    src = values.byteOffset;
  } else {
    const view = reserveFloats(values.length);
    if (view === undefined) return undefined;
    view.set(values);
    src = DATA;
  }
  // Float32 lanes where they give the same bins (see kernels.wat): bins up to 1 wide, which
  // activations' histograms have unless their range exceeds 4096, and a first bin within 2^22 of
  // 0, which they have unless their range lies far from 0 for its width.
  if (inv >= 1 && inv <= 2 ** 127 && Math.abs(first) <= 2 ** 22) k.bin32(src, values.length, COUNTERS, length, inv, first);
  else k.bin(src, values.length, COUNTERS, length, inv, first);
  views(k);
  return counters;
}

/**
 * `out[i] = f(src[i])` in float32 arithmetic, for views that {@link reserveFloats} returned
 * (`out` may be `src`). Returns false (nothing done) when the kernels are off or a view lies
 * elsewhere. `c`, `lo` and `hi` must be float32 values.
 */
export function wasmMap(op: KernelMap, src: Float32Array, out: Float32Array, c: number): boolean {
  const k = kernels;
  if (k === undefined || !inMemory(k, src) || !inMemory(k, out) || out.length < src.length) return false;
  k[op](src.byteOffset, out.byteOffset, src.length, c);
  return true;
}

/** `out[i] = min(max(src[i], lo), hi)`, as {@link wasmMap}. */
export function wasmClamp(src: Float32Array, out: Float32Array, lo: number, hi: number): boolean {
  const k = kernels;
  if (k === undefined || !inMemory(k, src) || !inMemory(k, out) || out.length < src.length) return false;
  k.clamp(src.byteOffset, out.byteOffset, src.length, lo, hi);
  return true;
}

/**
 * `out[i] = a[i] · b[i]` in float32 arithmetic, for views that {@link reserveFloats} returned
 * (`out` may be one of them), and the least and greatest product: both NaN when a product is NaN;
 * a zero extreme may be either sign. Undefined (nothing done) where {@link wasmMap} returns false,
 * or when the three lengths differ.
 */
export function wasmProduct(a: Float32Array, b: Float32Array, out: Float32Array): [number, number] | undefined {
  const k = kernels;
  if (k === undefined || !inMemory(k, a) || !inMemory(k, b) || !inMemory(k, out)) return undefined;
  if (a.length !== b.length || out.length !== a.length) return undefined;
  return k.product(a.byteOffset, b.byteOffset, out.byteOffset, a.length);
}

/**
 * The least and greatest of `values`, a view that {@link reserveFloats} returned: both NaN when
 * one is NaN; a zero extreme may be either sign. Undefined (nothing done) where {@link wasmMap}
 * returns false.
 */
export function wasmExtent(values: Float32Array): [number, number] | undefined {
  const k = kernels;
  if (k === undefined || !inMemory(k, values)) return undefined;
  return k.extent(values.byteOffset, values.length);
}

/**
 * The sum of the four counters of each of the first `length` bins that {@link wasmBin} left,
 * which it zeroes (the stray bin's are the caller's to clear): a view, valid until the next call.
 * Undefined when the kernels are off.
 */
export function wasmFold(length: number): Int32Array | undefined {
  const k = kernels;
  if (k === undefined || length > HISTOGRAM_MAX_BINS) return undefined;
  k.fold(COUNTERS, length, SUMS);
  views(k);
  return sums;
}
