import type { HistogramData, TensorStats } from '../contracts/stats.js';
import { describeValue, InvalidArgumentError } from '../errors/quantsim-error.js';
import { canonicalLog2Width, emptyHistogram, HISTOGRAM_MAX_BINS } from './histogram.js';
import { wasmBin, wasmFold } from './kernels.js';
import { pow2 } from './pow2.js';

/** Options of {@link createStatsAccumulator}. */
export interface StatsAccumulatorOptions {
  /** Also build a power-of-two histogram (what histogram encoding schemes need). */
  readonly histogram: boolean;
  /** Gather statistics per channel along this axis (negative counts from the end). */
  readonly channelAxis?: number;
  /** Shape of the tensors passed to `add`, required with `channelAxis` unless `add` gets one. */
  readonly dims?: readonly number[];
}

/**
 * Gathers the statistics of one tensor over a calibration run. `add` is the calibration hot path:
 * two tight passes over the data (range, then histogram bins) without per-element allocation.
 * NaN and ±Infinity are counted in `nonFinite` and otherwise skipped.
 */
export interface StatsAccumulator {
  /**
   * Adds the values of one tensor (row-major).
   * @param values - the tensor's elements.
   * @param dims - its shape, for per-channel statistics when it differs from the creation-time
   *   `dims` (for example another batch size); the channel count must not change.
   * @param range - the exact minimum and maximum of `values`, all of which are finite (from a
   *   backend's reductions): per-tensor histograms then bin in one pass without range checks.
   *   Values outside it are caught and the batch is binned again the checked way.
   */
  add(values: Float32Array, dims?: readonly number[], range?: KnownRange): void;
  /** The statistics so far, as plain data (copies: later `add` calls do not change them). */
  toStats(): TensorStats;
  /** Finite values seen so far, over all channels. */
  readonly count: number;
  /** NaN and infinite values seen so far, over all channels (to stop calibration on the first). */
  readonly nonFinite: number;
}

/** The exact extremes of a batch of values known to be all finite (see {@link StatsAccumulator.add}). */
export interface KnownRange {
  readonly min: number;
  readonly max: number;
}

/** Options of {@link statsFromValues}. */
export interface StatsFromValuesOptions {
  /** Also build a power-of-two histogram. */
  readonly histogram: boolean;
  /** Per-channel statistics along this axis (for per-channel weight quantizers). */
  readonly axis?: number;
  /** Shape of `values`, required with `axis`. */
  readonly dims?: readonly number[];
}

/**
 * The canonical grid of a histogram covering [lo, hi] (at least 2^atLeast wide): its bin width
 * 2^e, first bin and number of bins.
 */
function gridOf(lo: number, hi: number, atLeast?: number): { e: number; first: number; length: number } {
  const e = canonicalLog2Width(lo, hi, atLeast);
  const inv = pow2(-e);
  const first = Math.floor(lo * inv);
  return { e, first, length: Math.floor(hi * inv) - first + 1 };
}

/** Running statistics of one channel (or of the whole tensor). */
class ChannelState {
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  nonFinite = 0;
  log2Width = 0;
  first = 0;
  counts: Float64Array | undefined;

  /**
   * Makes the histogram cover [lo, hi] as well as what it covers: at the canonical width of the
   * union, coarsening (merging adjacent bins) when the range has grown past the bin budget.
   */
  extend(lo: number, hi: number): void {
    // Inside what it covers already: the canonical grid of the same union is the same grid (the
    // last change made it the smallest width at least the one before at which the union fits).
    if (this.counts !== undefined && lo >= this.min && hi <= this.max) return;
    const newMin = Math.min(this.min, lo);
    const newMax = Math.max(this.max, hi);
    const { e, first, length } = gridOf(newMin, newMax, this.counts === undefined ? undefined : this.log2Width);
    const old = this.counts;
    if (old !== undefined && e === this.log2Width && first === this.first && length === old.length) return;
    const counts = new Float64Array(length);
    if (old !== undefined) {
      const scale = pow2(e - this.log2Width);
      for (let i = 0; i < old.length; i++) {
        const c = old[i] as number;
        if (c !== 0) {
          const k = Math.floor((this.first + i) / scale) - first;
          counts[k] = (counts[k] as number) + c;
        }
      }
    }
    this.log2Width = e;
    this.first = first;
    this.counts = counts;
  }

  /** `copy: false` hands over the counts themselves (for an accumulator that is then dropped). */
  toStats(histogram: boolean, copy = true): TensorStats {
    const base = { count: this.count, min: this.min, max: this.max, nonFinite: this.nonFinite };
    if (!histogram) return base;
    const hist: HistogramData =
      this.counts === undefined
        ? emptyHistogram()
        : { log2Width: this.log2Width, first: this.first, counts: copy ? this.counts.slice() : this.counts };
    return { ...base, histogram: hist };
  }
}

function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function checkDims(dims: unknown, where: string): readonly number[] {
  if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InvalidArgumentError(`${where}: dims must be an array of non-negative integers, received ${describeValue(dims)}.`);
  }
  return dims as readonly number[];
}

function normaliseAxis(axis: number, rank: number, where: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new InvalidArgumentError(
      `${where}: channel axis ${describeValue(axis)} is out of range for a tensor of rank ${rank}.`,
      {
        hint: `Use an integer in [${-rank}, ${rank - 1}].`,
      },
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/** Zeroed integer counts, four per bin, reused by every accumulator (JS runs one add at a time). */
let scratch = new Int32Array(0);
function scratchCounts(length: number): Int32Array {
  if (scratch.length < 4 * length) scratch = new Int32Array(4 * length);
  return scratch;
}

/** Adds the four counters of each bin in `c` into `counts` and zeroes them. */
function addScratch(c: Int32Array, counts: Float64Array): void {
  const length = counts.length;
  for (let b = 0; b < length; b++) {
    const sum = (c[4 * b] as number) + (c[4 * b + 1] as number) + (c[4 * b + 2] as number) + (c[4 * b + 3] as number);
    if (sum !== 0) counts[b] = (counts[b] as number) + sum;
  }
  c.fill(0, 0, 4 * length);
}

/** A running [minimum, maximum], reused by every call of {@link widenToFinite}. */
const runningRange = new Float64Array(2);

/**
 * Widens `out` ([minimum, maximum]) to the finite values of `values[start … end)` and returns how
 * many there are. `v - v === 0` holds exactly for finite v (NaN and ±Infinity give NaN).
 */
function widenToFinite(values: Float32Array, start: number, end: number, out: Float64Array): number {
  let mn = out[0] as number;
  let mx = out[1] as number;
  let finite = 0;
  for (let i = start; i < end; i++) {
    const v = values[i] as number;
    if (v - v === 0) {
      finite++;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
  }
  out[0] = mn;
  out[1] = mx;
  return finite;
}

/** Minimum and maximum of the values {@link binInside} binned, reused by every call. */
const extremes = new Float64Array(2);

/**
 * The one-pass hot loop: bins `values[start … end)` into `counts` (bin `floor(v * inv) - first`) and takes their
 * range into `extremes`, until the first value outside the histogram (or NaN, ±Infinity). Returns
 * how many values it binned. A small function of its own, so that V8 optimises it whole from its
 * first calls instead of entering it mid-loop (on-stack replacement) and leaving it at every
 * return for lack of feedback on the code after the loop, which made the binning about 4× slower.
 */
function binInside(
  values: Float32Array,
  start: number,
  end: number,
  counts: Float64Array,
  inv: number,
  first: number,
  out: Float64Array,
): number {
  const length = counts.length;
  let mn = Number.POSITIVE_INFINITY;
  let mx = Number.NEGATIVE_INFINITY;
  let i = start;
  if (end - start >= 8 * length) {
    // Four values a step, each with its own counter per bin (bin k's are 4k … 4k+3): the loop
    // runs about twice as fast as one value a step (V8 on x86-64), and runs of one value do not
    // wait on the same counter's last store. Added into `counts` afterwards.
    const c = scratchCounts(length);
    const n = end - 3;
    for (; i < n; i += 4) {
      const v0 = values[i] as number;
      const v1 = values[i + 1] as number;
      const v2 = values[i + 2] as number;
      const v3 = values[i + 3] as number;
      const k0 = Math.floor(v0 * inv) - first;
      const k1 = Math.floor(v1 * inv) - first;
      const k2 = Math.floor(v2 * inv) - first;
      const k3 = Math.floor(v3 * inv) - first;
      if (!(k0 >= 0 && k0 < length && k1 >= 0 && k1 < length && k2 >= 0 && k2 < length && k3 >= 0 && k3 < length)) break;
      c[4 * k0] = (c[4 * k0] as number) + 1;
      c[4 * k1 + 1] = (c[4 * k1 + 1] as number) + 1;
      c[4 * k2 + 2] = (c[4 * k2 + 2] as number) + 1;
      c[4 * k3 + 3] = (c[4 * k3 + 3] as number) + 1;
      if (v0 < mn) mn = v0;
      if (v0 > mx) mx = v0;
      if (v1 < mn) mn = v1;
      if (v1 > mx) mx = v1;
      if (v2 < mn) mn = v2;
      if (v2 > mx) mx = v2;
      if (v3 < mn) mn = v3;
      if (v3 > mx) mx = v3;
    }
    addScratch(c, counts);
  }
  // The rest, one at a time: up to the first value outside the histogram exactly.
  for (; i < end; i++) {
    const v = values[i] as number;
    const k = Math.floor(v * inv) - first;
    if (!(k >= 0 && k < length)) break;
    counts[k] = (counts[k] as number) + 1;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  out[0] = mn;
  out[1] = mx;
  return i;
}

/**
 * Bins values that are known to lie inside the histogram (their exact range was added to it
 * first): no range check and no extremes, four values a step as in {@link binInside}. Returns
 * false, leaving `counts` as it was, when the counts do not add up to the number of values,
 * that is when the range was wrong and some value fell outside.
 */
function binKnown(values: Float32Array, counts: Float64Array, inv: number, first: number): boolean {
  return binKnownWasm(values, counts, inv, first) ?? binKnownJs(values, counts, inv, first);
}

/**
 * {@link binKnown} with the WebAssembly SIMD kernel (about 1.5× as fast here), whose counters are
 * laid out as the scratch's plus four for the strays; undefined (nothing done) when the kernel
 * cannot take the batch.
 */
export function binKnownWasm(values: Float32Array, counts: Float64Array, inv: number, first: number): boolean | undefined {
  const length = counts.length;
  const c = wasmBin(values, length, inv, first);
  if (c === undefined) return undefined;
  const s = 4 * length;
  const ok = c[s] === 0 && c[s + 1] === 0 && c[s + 2] === 0 && c[s + 3] === 0;
  if (ok) {
    // The kernel adds up each bin's four counters (and zeroes them); JavaScript only adds the sums.
    // It runs wherever wasmBin did, for the same lengths.
    const sums = wasmFold(length) as Int32Array;
    for (let b = 0; b < length; b++) {
      const n = sums[b] as number;
      if (n !== 0) counts[b] = (counts[b] as number) + n;
    }
  }
  c.fill(0, ok ? s : 0, s + 4);
  return ok;
}

/** {@link binKnown} in JavaScript, the reference for the WebAssembly kernel. */
export function binKnownJs(values: Float32Array, counts: Float64Array, inv: number, first: number): boolean {
  const length = counts.length;
  const c = scratchCounts(length);
  const n = values.length - 3;
  let i = 0;
  for (; i < n; i += 4) {
    const k0 = Math.floor((values[i] as number) * inv) - first;
    const k1 = Math.floor((values[i + 1] as number) * inv) - first;
    const k2 = Math.floor((values[i + 2] as number) * inv) - first;
    const k3 = Math.floor((values[i + 3] as number) * inv) - first;
    c[4 * k0] = (c[4 * k0] as number) + 1;
    c[4 * k1 + 1] = (c[4 * k1 + 1] as number) + 1;
    c[4 * k2 + 2] = (c[4 * k2 + 2] as number) + 1;
    c[4 * k3 + 3] = (c[4 * k3 + 3] as number) + 1;
  }
  for (; i < values.length; i++) {
    const k = Math.floor((values[i] as number) * inv) - first;
    c[4 * k] = (c[4 * k] as number) + 1;
  }
  // Values outside the histogram were either dropped (indices outside the scratch, which typed
  // arrays ignore) or counted past its 4·length counters: either way the first 4·length do not
  // add up to the number of values. All of the scratch is cleared, as such strays may lie anywhere.
  let binned = 0;
  for (let b = 0; b < 4 * length; b++) binned += c[b] as number;
  if (binned === values.length) {
    addScratch(c, counts);
    return true;
  }
  c.fill(0);
  return false;
}

// Every branch of binInside runs here, so that its optimised code has feedback for all of them
// (the four-value loop, its break, the one-value loop and its break) and is not thrown away when a
// calibration first takes one of them. V8 allocates a function's feedback only after its first
// few calls, hence the repetitions.
for (let r = 0; r < 16; r++) {
  binInside(new Float32Array([0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]), 0, 14, new Float64Array(1), 1, 0, extremes);
  binInside(new Float32Array(25).fill(1.5).fill(0.5, 17, 20).fill(-1, 22, 23), 1, 25, new Float64Array(3), 1, 0, extremes);
  binKnownJs(new Float32Array([0.5, 1.5, 2.5, 0, 1, 2, 0]), new Float64Array(3), 1, 0);
  binKnownJs(new Float32Array([0.5, 1.5, 2.5, 0, 1, 2, 3]), new Float64Array(3), 1, 0);
}

/**
 * Creates a statistics accumulator for one tensor, per tensor or per channel. The histogram it
 * builds depends only on the multiset of finite values added, so accumulators fed different shards
 * of the data and merged with {@link mergeTensorStats} give exactly what one accumulator fed
 * everything gives.
 */
export function createStatsAccumulator(options: StatsAccumulatorOptions): StatsAccumulator {
  return makeAccumulator(options, true);
}

/** {@link createStatsAccumulator}; `copyOut: false` makes `toStats` hand over its counts (once). */
function makeAccumulator(options: StatsAccumulatorOptions, copyOut: boolean): StatsAccumulator {
  if (typeof options !== 'object' || options === null || typeof options.histogram !== 'boolean') {
    throw new InvalidArgumentError(
      `createStatsAccumulator takes { histogram: boolean, channelAxis?, dims? }, received ${describeValue(options)}.`,
    );
  }
  const withHistogram = options.histogram;
  const perChannel = options.channelAxis !== undefined;
  const where = 'createStatsAccumulator';
  const defaultDims = options.dims === undefined ? undefined : checkDims(options.dims, where);
  let states: ChannelState[] | undefined;
  let axis: number | undefined;
  if (perChannel && defaultDims !== undefined) {
    axis = normaliseAxis(options.channelAxis as number, defaultDims.length, where);
    states = Array.from({ length: defaultDims[axis] as number }, () => new ChannelState());
  } else if (!perChannel) {
    states = [new ChannelState()];
  }
  // Per-batch scratch, reused across calls.
  let batchMin = new Float64Array(0);
  let batchMax = new Float64Array(0);

  const add = (values: Float32Array, dims?: readonly number[], range?: KnownRange): void => {
    if (!(values instanceof Float32Array)) {
      throw new InvalidArgumentError(`StatsAccumulator.add takes a Float32Array, received ${describeValue(values)}.`, {
        hint: 'Convert other element types first, for example with tensorToFloat32.',
      });
    }
    const shape = dims === undefined ? defaultDims : checkDims(dims, 'StatsAccumulator.add');
    if (shape !== undefined && product(shape) !== values.length) {
      throw new InvalidArgumentError(
        `StatsAccumulator.add: ${values.length} values do not match dims [${shape.join(', ')}] (${product(shape)} elements).`,
      );
    }
    let outer = 1;
    let channels = 1;
    let inner = values.length;
    if (perChannel) {
      if (shape === undefined) {
        throw new InvalidArgumentError('StatsAccumulator.add: per-channel statistics need the tensor shape.', {
          hint: 'Pass dims to createStatsAccumulator or to add.',
        });
      }
      const a = normaliseAxis(options.channelAxis as number, shape.length, 'StatsAccumulator.add');
      if (axis !== undefined && a !== axis) {
        throw new InvalidArgumentError(`StatsAccumulator.add: the channel axis resolved to ${a}, earlier to ${axis}.`, {
          hint: 'Keep the tensor rank the same across calls.',
        });
      }
      axis = a;
      channels = shape[a] as number;
      outer = product(shape.slice(0, a));
      inner = product(shape.slice(a + 1));
      if (states === undefined) states = Array.from({ length: channels }, () => new ChannelState());
      if (states.length !== channels) {
        throw new InvalidArgumentError(
          `StatsAccumulator.add: the tensor has ${channels} channels along axis ${a}, earlier ${states.length}.`,
        );
      }
      if (outer > 1 && channels > 1) {
        // Channel-major first (a histogram sees only each channel's multiset of values): a
        // MatMul weight [K, N] per channel along its last axis is otherwise K·N runs of one value.
        values = channelMajor(values, outer, channels, inner);
        inner *= outer;
        outer = 1;
      }
    }
    const all = states as ChannelState[];
    // One pass when every value falls inside the histogram as it is (the common case once the
    // range has settled): bin and take the range together; the first value outside it (or NaN,
    // ±Infinity) hands the rest of the batch to the two passes below.
    let from = 0;
    if (range !== undefined && withHistogram && channels === 1 && outer === 1 && values.length > 0) {
      const lo = range.min + 0;
      const hi = range.max + 0;
      if (Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi) {
        const state = all[0] as ChannelState;
        const before = { log2Width: state.log2Width, first: state.first, counts: state.counts };
        state.extend(lo, hi);
        const counts = state.counts as Float64Array;
        if (binKnown(values, counts, pow2(-state.log2Width), state.first)) {
          state.count += values.length;
          if (lo < state.min) state.min = lo;
          if (hi > state.max) state.max = hi;
          return;
        }
        // A value outside the range it came with (a backend bug): undo the extension (extend
        // leaves the old counts untouched) and bin the batch the checked way below.
        state.log2Width = before.log2Width;
        state.first = before.first;
        state.counts = before.counts;
      }
    }
    if (withHistogram && channels === 1 && outer === 1) {
      const state = all[0] as ChannelState;
      const counts = state.counts;
      if (counts !== undefined) {
        const inv = pow2(-state.log2Width);
        const first = state.first;
        const length = counts.length;
        const i = length > 0 ? binInside(values, 0, values.length, counts, inv, first, extremes) : 0;
        const mn = extremes[0] as number;
        const mx = extremes[1] as number;
        if (i > 0) {
          state.count += i;
          if (mn + 0 < state.min) state.min = mn + 0;
          if (mx + 0 > state.max) state.max = mx + 0;
        }
        if (i === values.length) return;
        from = i;
      }
    }
    if (batchMin.length < channels) {
      batchMin = new Float64Array(channels);
      batchMax = new Float64Array(channels);
    }
    batchMin.fill(Number.POSITIVE_INFINITY, 0, channels);
    batchMax.fill(Number.NEGATIVE_INFINITY, 0, channels);

    // Pass 1: counts and range.
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++) {
        const state = all[c] as ChannelState;
        const start = (o * channels + c) * inner + from;
        const end = (o * channels + c) * inner + inner;
        runningRange[0] = batchMin[c] as number;
        runningRange[1] = batchMax[c] as number;
        const finite = widenToFinite(values, start, end, runningRange);
        state.count += finite;
        state.nonFinite += end - start - finite;
        batchMin[c] = runningRange[0] as number;
        batchMax[c] = runningRange[1] as number;
      }
    }

    // Normalise -0 to +0, so that the range does not depend on which zero came first.
    for (let c = 0; c < channels; c++) {
      const state = all[c] as ChannelState;
      const mn = batchMin[c] as number;
      if (!(mn <= (batchMax[c] as number))) continue;
      const lo = mn + 0;
      const hi = (batchMax[c] as number) + 0;
      if (withHistogram) state.extend(lo, hi);
      if (lo < state.min) state.min = lo;
      if (hi > state.max) state.max = hi;
    }
    if (!withHistogram) return;

    // Pass 2: histogram bins, floor(v * 2^-e) exactly.
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++) {
        const state = all[c] as ChannelState;
        const counts = state.counts;
        if (counts === undefined) continue;
        const inv = pow2(-state.log2Width);
        const first = state.first;
        const end = (o * channels + c) * inner + inner;
        // Every finite value now lies inside the histogram, so the fast loop bins all of them and
        // stops only at a NaN or infinity, which is skipped (it was counted in pass 1).
        let i = (o * channels + c) * inner + from;
        while (i < end) {
          i = binInside(values, i, end, counts, inv, first, extremes);
          if (i < end) {
            const v = values[i] as number;
            if (v - v === 0) {
              const k = Math.floor(v * inv) - first;
              counts[k] = (counts[k] as number) + 1;
            }
            i++;
          }
        }
      }
    }
  };

  const toStats = (): TensorStats => {
    if (!perChannel) return ((states as ChannelState[])[0] as ChannelState).toStats(withHistogram, copyOut);
    const channels = (states ?? []).map((s) => s.toStats(withHistogram, copyOut));
    return {
      ...summarise(channels),
      axis: axis ?? (options.channelAxis as number),
      channels,
    };
  };

  return {
    add,
    toStats,
    get count() {
      return (states ?? []).reduce((sum, s) => sum + s.count, 0);
    },
    get nonFinite() {
      return (states ?? []).reduce((sum, s) => sum + s.nonFinite, 0);
    },
  };
}

/** `values` of shape [outer, channels, inner] as [channels, outer, inner]. */
export function channelMajor(values: Float32Array, outer: number, channels: number, inner: number): Float32Array {
  const out = new Float32Array(values.length);
  if (inner === 1) {
    for (let o = 0; o < outer; o++)
      for (let c = 0, i = o * channels, j = o; c < channels; c++, i++, j += outer) out[j] = values[i] as number;
    return out;
  }
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < channels; c++)
      out.set(values.subarray((o * channels + c) * inner, (o * channels + c + 1) * inner), (c * outer + o) * inner);
  return out;
}

/**
 * {@link statsFromValues} of channels `from … to - 1` of channel-major values (channel `c` is
 * `values[c·per … (c + 1)·per)`), bit for bit, for weights, which are seen once: two tight passes
 * per channel instead of an accumulator each, and the histogram counts of all these channels in
 * one allocation (views into it) instead of one each, which on the PaddleOCR recognizer's 16 669
 * weight channels cost more than the binning. A channel with fewer values than bins also lists
 * its non-empty bins (`HistogramData.nonEmpty`). `zeroed`, all zeros, is that allocation when it
 * is large enough (see {@link clearChannelStats}). The caller bounds `to - from` (each channel has up
 * to 4096 bins, `HISTOGRAM_MAX_BINS`).
 */
export function channelStats(
  values: Float32Array,
  per: number,
  from: number,
  to: number,
  histogram: boolean,
  zeroed?: Float64Array,
): TensorStats[] {
  const n = to - from;
  const mins = new Float64Array(n);
  const maxs = new Float64Array(n);
  const finites = new Float64Array(n);
  const widths = new Int32Array(n);
  const firsts = new Float64Array(n);
  const lengths = new Int32Array(n);
  let total = 0;
  for (let j = 0; j < n; j++) {
    const start = (from + j) * per;
    const end = start + per;
    runningRange[0] = Number.POSITIVE_INFINITY;
    runningRange[1] = Number.NEGATIVE_INFINITY;
    const finite = widenToFinite(values, start, end, runningRange);
    let mn = runningRange[0] as number;
    let mx = runningRange[1] as number;
    finites[j] = finite;
    if (mn <= mx) {
      // -0 as +0, as the accumulator does.
      mn += 0;
      mx += 0;
      if (histogram) {
        // The grid ChannelState.extend gives a fresh channel.
        const { e, first, length } = gridOf(mn, mx);
        widths[j] = e;
        firsts[j] = first;
        lengths[j] = length;
        total += length;
      }
    }
    mins[j] = mn;
    maxs[j] = mx;
  }
  const slab = zeroed !== undefined && zeroed.length >= total ? zeroed : new Float64Array(histogram ? total : 0);
  // The non-empty bins of channels with fewer values than bins, listed as they are first reached.
  const listed = new Int32Array(histogram ? n * per : 0);
  const out: TensorStats[] = new Array(n);
  for (let j = 0, offset = 0; j < n; j++) {
    const base = {
      count: finites[j] as number,
      min: mins[j] as number,
      max: maxs[j] as number,
      nonFinite: per - (finites[j] as number),
    };
    if (!histogram) {
      out[j] = base;
      continue;
    }
    const length = lengths[j] as number;
    if (length === 0) {
      out[j] = { ...base, histogram: emptyHistogram() };
      continue;
    }
    const counts = slab.subarray(offset, offset + length);
    offset += length;
    const e = widths[j] as number;
    const inv = pow2(-e);
    const first = firsts[j] as number;
    const end = (from + j + 1) * per;
    if (per < length) {
      // Each bin reached is marked in a bit set, read back in ascending order (cheaper than a sort).
      for (let i = (from + j) * per; i < end; i++) {
        const v = values[i] as number;
        if (v - v === 0) {
          const k = Math.floor(v * inv) - first;
          counts[k] = (counts[k] as number) + 1;
          marks[k >> 5] = (marks[k >> 5] as number) | (1 << (k & 31));
        }
      }
      const start = j * per;
      let used = start;
      for (let w = 0, words = (length + 31) >> 5; w < words; w++) {
        let bits = marks[w] as number;
        if (bits === 0) continue;
        marks[w] = 0;
        while (bits !== 0) {
          const low = bits & -bits;
          listed[used++] = 32 * w + 31 - Math.clz32(low);
          bits ^= low;
        }
      }
      out[j] = { ...base, histogram: { log2Width: e, first, counts, nonEmpty: listed.subarray(start, used) } };
      continue;
    }
    for (let i = (from + j) * per; i < end; i++) {
      const v = values[i] as number;
      if (v - v === 0) {
        const k = Math.floor(v * inv) - first;
        counts[k] = (counts[k] as number) + 1;
      }
    }
    out[j] = { ...base, histogram: { log2Width: e, first, counts } };
  }
  return out;
}

/** One bit per bin of a histogram ({@link channelStats}' marks of the bins reached), zero between uses. */
const marks = new Int32Array(HISTOGRAM_MAX_BINS / 32);

/**
 * Zeroes the histogram counts of statistics from {@link channelStats}, so that the memory they
 * came in (its `zeroed`) can take the next channels'.
 */
export function clearChannelStats(stats: readonly TensorStats[]): void {
  for (const s of stats) {
    const h = s.histogram;
    if (!h || !(h.counts instanceof Float64Array)) continue;
    const counts = h.counts;
    if (h.nonEmpty) for (let t = 0; t < h.nonEmpty.length; t++) counts[h.nonEmpty[t] as number] = 0;
    else counts.fill(0);
  }
}

/** Totals over channels: counts add up, extremes are the extremes of the channels. */
function summarise(channels: readonly TensorStats[]): Pick<TensorStats, 'count' | 'min' | 'max' | 'nonFinite'> {
  let count = 0;
  let nonFinite = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const s of channels) {
    count += s.count;
    nonFinite += s.nonFinite;
    if (s.min < min) min = s.min;
    if (s.max > max) max = s.max;
  }
  return { count, min, max, nonFinite };
}

/**
 * Statistics of a tensor's values in one pass, per tensor or per channel along `axis` (the form
 * for weights, which are seen once).
 */
export function statsFromValues(values: Float32Array, options: StatsFromValuesOptions): TensorStats {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`statsFromValues takes { histogram, axis?, dims? }, received ${describeValue(options)}.`);
  }
  if (options.axis !== undefined && options.dims === undefined) {
    throw new InvalidArgumentError('statsFromValues: per-channel statistics (axis) need dims, the shape of the values.');
  }
  // Seen once and dropped: its counts are handed over, not copied.
  const accumulator = makeAccumulator(
    {
      histogram: options.histogram,
      ...(options.axis !== undefined ? { channelAxis: options.axis } : {}),
      ...(options.dims !== undefined ? { dims: options.dims } : {}),
    },
    false,
  );
  accumulator.add(values);
  return accumulator.toStats();
}

export { mergeTensorStats } from './merge-stats.js';
