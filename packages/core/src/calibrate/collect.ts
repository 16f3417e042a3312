import os from 'node:os';
import type { Backend, BackendSession } from '../contracts/backend.js';
import type { CalibrateOptions, CalibrationStats } from '../contracts/calibration.js';
import type { EncodingScheme } from '../contracts/scheme.js';
import type { TensorStats } from '../contracts/stats.js';
import type { TensorData } from '../contracts/tensor.js';
import { InvalidArgumentError } from '../errors/quantsim-error.js';
import type { PlannedModel } from '../plan/prepared-model.js';
import { HistogramBinner } from './histogram-binner.js';
import { createStatsAccumulator, mergeTensorStats } from './stats.js';

export type { CalibrateOptions, CalibrationProgress, CalibrationStats } from '../contracts/calibration.js';

import { CalibrationError } from '../errors/calibration-error.js';
import { type DerivedRange, type DerivedValues, deriveRange } from './derived-values.js';
import { type CalibrationData, checkFeeds, iterateData } from './feeds.js';
import { buildStatisticsGraph, type StatisticsOutputs, type TensorRequest } from './statistics-graph.js';

export { CalibrationError } from '../errors/calibration-error.js';

/** The tensors whose activation statistics a plan needs, and whether each needs a histogram. */
export function statisticsRequests(
  resolved: PlannedModel,
  schemes: ReadonlyMap<string, EncodingScheme>,
  skip: ReadonlySet<string> = new Set(),
  histogramStride = 1,
): TensorRequest[] {
  if (!Number.isInteger(histogramStride) || histogramStride < 1)
    throw new InvalidArgumentError(`histogramStride must be a positive integer, received ${histogramStride}.`, {
      hint: 'Use 1 for exact histograms, or for example 16 to sample every 16th element.',
    });
  const full = new Map<string, boolean>();
  const scopes = new Map<string, string>();
  for (const q of resolved.plan.quantizers) {
    if (!q.enabled || q.kind === 'param' || q.dtype !== 'int' || skip.has(q.id)) continue;
    const needsHistogram = schemes.get(q.scheme)?.statistics === 'histogram';
    full.set(q.tensor, (full.get(q.tensor) ?? false) || needsHistogram);
    if (q.scope !== undefined) scopes.set(q.tensor, q.scope);
  }
  return [...full].map(([tensor, f]) => {
    const scope = scopes.get(tensor);
    // Tensors of If branches leave them whole (see buildStatisticsGraph).
    if (scope !== undefined) return { tensor, full: true, scope };
    return { tensor, full: f, ...(f && histogramStride > 1 ? { stride: histogramStride } : {}) };
  });
}

/**
 * Runs the statistics graph over calibration data and gathers each requested tensor's
 * statistics. Memory does not grow with the number of samples: each sample's outputs are folded
 * into fixed-size accumulators and dropped. Histograms are binned partly on a second thread, while
 * this one runs the next sample (the `HistogramBinner` of calibrate/histogram-binner.ts); `offloadBinning: false` keeps them in
 * this thread (for calibration threads, which already share the cores).
 */
export async function collectStats(
  resolved: PlannedModel,
  backend: Backend,
  requests: readonly TensorRequest[],
  data: CalibrationData,
  options: CalibrateOptions = {},
  { offloadBinning = true }: { readonly offloadBinning?: boolean } = {},
): Promise<CalibrationStats> {
  const graph = resolved.prepared.graph;
  const policy = options.nonFinite ?? 'error';
  // Under 'error', a NaN or infinity anywhere ends calibration, so whole tensors need no range
  // before binning (the binning measures it, and reports what is not finite); under 'ignore' their
  // reductions tell which samples' derived tensors must be fetched instead of computed.
  const { model, outputs, packed } = buildStatisticsGraph(resolved.prepared.model, requests, {
    wholeRanges: policy !== 'error',
  });
  const binner = new HistogramBinner(offloadBinning);
  type Range = { count: number; min: number; max: number; nonFinite: number };
  const ranges = new Map<string, Range>();
  const whole = (o: StatisticsOutputs) => o.values !== undefined && o.stride === 1;
  for (const o of outputs) {
    if (!whole(o) && !o.computed)
      ranges.set(o.tensor, { count: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, nonFinite: 0 });
  }
  const { derivedOrder, computedFrom } = computationOrder(outputs);
  // Every reduced tensor's statistics come in the two packed outputs; values one output each.
  const fetches = [...(packed ? [packed.stats, packed.sizes] : []), ...outputs.flatMap((o) => (o.values ? [o.values] : []))];
  const limit = options.samples ?? Number.POSITIVE_INFINITY;
  const total = Array.isArray(data) ? Math.min(data.length, limit) : Number.isFinite(limit) ? limit : undefined;
  let session: BackendSession | undefined;
  let slowSession: BackendSession | undefined;
  let samples = 0;
  const tensors: Record<string, TensorStats> = {};
  // A second session exposes the tensors that are not outputs of the first (reduced or computed
  // ones) themselves; made only when a sample with NaN or infinities needs it.
  const exposingSession = () => {
    const exposed = buildStatisticsGraph(
      resolved.prepared.model,
      outputs.filter((o) => !whole(o)).map((o) => ({ tensor: o.tensor, full: true })),
      { derive: false },
    );
    return backend.createSession(exposed.model.toBytes({ inlineExternal: true }), { mode: 'float' });
  };
  try {
    // With histograms binned on a second thread, the session leaves it a core (recognizer,
    // percentile, 40 samples on 2 cores: 10.6 s with both cores for the session, 9.7 s with one).
    const binning = offloadBinning && outputs.some((o) => o.values !== undefined);
    const threads = binning ? { intraOpThreads: Math.max(1, os.availableParallelism() - 1) } : {};
    if (outputs.length > 0)
      session = await backend.createSession(model.toBytes({ inlineExternal: true }), { mode: 'float', ...threads });
    for await (const item of iterateData(data)) {
      if (samples >= limit) break;
      if (options.signal?.aborted) throw aborted(samples);
      const feeds = checkFeeds(item, graph, `calibration sample ${samples}`);
      if (session) {
        const result = await session.run(feeds, fetches);
        await binner.settle();
        const flagged: StatisticsOutputs[] = [];
        const reduced = packed ? floatData(result[packed.stats], packed.stats) : new Float32Array(0);
        const sizes = packed ? result[packed.sizes]?.data : undefined;
        // The values of this sample that histograms take, all tensors together (the binning thread's budget).
        let sampleElements = 0;
        for (const o of outputs)
          if (o.values) sampleElements += (result[o.values]?.data.length ?? 0) * (1 + (computedFrom.get(o.tensor)?.length ?? 0));
        // This sample's range of each reduced tensor (undefined: flagged), then of derived ones.
        const sample = new Map<string, { count: number; lo: number; hi: number } | undefined>();
        for (const o of outputs) {
          if (o.index === undefined) continue;
          const i = o.index;
          const lo = element(reduced, 3 * i);
          const hi = element(reduced, 3 * i + 1);
          const sum = element(reduced, 3 * i + 2);
          const finite = Number.isFinite(sum) && Number.isFinite(lo) && Number.isFinite(hi);
          sample.set(o.tensor, finite ? { count: element(sizes, i), lo, hi } : undefined);
        }
        for (const o of derivedOrder) {
          // A product's range is only known where it is computed (the binning).
          if (o.product) continue;
          const d = o.derived as DerivedRange;
          const source = sample.get(d.from);
          const [lo, hi] = source ? deriveRange(d, source.lo, source.hi) : [Number.NaN, Number.NaN];
          // Flagged with its source, or when the derived range overflows.
          sample.set(
            o.tensor,
            source && Number.isFinite(lo) && Number.isFinite(hi) ? { count: source.count, lo, hi } : undefined,
          );
        }
        // Computed tensors of a source with NaN or infinities in this sample: fetched instead.
        const fetchComputed: StatisticsOutputs[] = [];
        for (const o of outputs) {
          if (o.computed) continue;
          if (whole(o)) {
            // Its reductions (or its source's, when derived) give the exact range when every value
            // is finite, which lets the histogram bin in one pass; otherwise (flagged, or a branch
            // tensor without reductions) the checked pass counts the non-finite values. The values
            // of the tensors computed from it are computed then, from finite values only.
            const s = sample.get(o.tensor);
            const values = floatData(result[o.values as string], o.tensor);
            const derived: DerivedValues[] = [];
            // Not reduced (see wholeRanges above): its range is measured where it is binned.
            const unreduced = o.index === undefined && !o.derived;
            if (s || (unreduced && policy === 'error')) {
              // Under 'ignore', a product of factors that are not all finite may hold NaN
              // (∞ · 0), and what Clip or Relu make of NaN depends on the backend's kernel: such a
              // product and what is computed from it are fetched.
              const fetched = new Set<string>();
              for (const c of computedFrom.get(o.tensor) ?? []) {
                const sources = sourcesOf(c);
                const unsure = c.product
                  ? policy !== 'error' && sources.some((f) => sample.get(f) === undefined)
                  : sources.some((f) => fetched.has(f));
                if (unsure) {
                  fetched.add(c.tensor);
                  fetchComputed.push(c);
                } else derived.push({ tensor: c.tensor, how: c.product ?? (c.derived as DerivedRange) });
              }
            } else fetchComputed.push(...(computedFrom.get(o.tensor) ?? []));
            const found = binner.add(
              o.tensor,
              values,
              samples,
              sampleElements,
              s ? { min: s.lo, max: s.hi } : undefined,
              derived,
            );
            if (found !== undefined && policy === 'error') throw nonFiniteError(found, samples);
            continue;
          }
          const s = sample.get(o.tensor);
          if (!s) {
            flagged.push(o);
            continue;
          }
          const { lo, hi } = s;
          const m = ranges.get(o.tensor) as Range;
          m.count += s.count;
          if (lo < m.min) m.min = lo;
          if (hi > m.max) m.max = hi;
          // A strided sample feeds the histogram; the exact range comes from the reductions.
          if (o.values) binner.add(o.tensor, floatData(result[o.values], o.tensor), samples, sampleElements);
        }
        if (fetchComputed.length > 0) {
          // Their source held NaN or infinities (under 'error' only when the binning thread has
          // not reported them yet), or its sum overflowed: fetch the exact values.
          slowSession ??= await exposingSession();
          const full = await slowSession.run(
            feeds,
            fetchComputed.map((o) => o.tensor),
          );
          for (const o of fetchComputed) binner.add(o.tensor, floatData(full[o.tensor], o.tensor), samples, 0);
        }
        if (flagged.length > 0) {
          // Slow path, only for samples with non-finite values: fetch the tensors themselves.
          if (policy === 'error') throw nonFiniteError((flagged[0] as StatisticsOutputs).tensor, samples);
          // Graph inputs are not outputs of the session: their values are in the feeds.
          const computed = flagged.filter((o) => !(o.tensor in feeds)).map((o) => o.tensor);
          if (computed.length > 0) slowSession ??= await exposingSession();
          const full = computed.length > 0 && slowSession ? await slowSession.run(feeds, computed) : {};
          for (const o of flagged) {
            const values = floatData(full[o.tensor] ?? feeds[o.tensor], o.tensor);
            const m = ranges.get(o.tensor) as Range;
            for (let i = 0; i < values.length; i++) {
              const v = values[i] as number;
              if (!Number.isFinite(v)) m.nonFinite++;
              else {
                m.count++;
                if (v < m.min) m.min = v;
                if (v > m.max) m.max = v;
              }
            }
            // The same elements the graph's strided sample would have taken.
            if (o.values) {
              const picked = new Float32Array(Math.ceil(values.length / o.stride));
              for (let i = 0, j = 0; i < values.length; i += o.stride) picked[j++] = values[i] as number;
              binner.add(o.tensor, picked, samples, 0);
            }
          }
        }
      }
      // Non-finite values the binning thread found (in an earlier sample, as it runs behind).
      const late = binner.nonFiniteSeen;
      if (late && policy === 'error') throw nonFiniteError(late.tensor, late.sample);
      samples++;
      options.onProgress?.({ done: samples, total });
    }
    if (options.signal?.aborted) throw aborted(samples);
    const histograms = await binner.finish();
    const late = binner.nonFiniteSeen;
    if (late && policy === 'error') throw nonFiniteError(late.tensor, late.sample);
    for (const o of outputs)
      if (o.values || o.computed)
        tensors[o.tensor] = histograms.get(o.tensor) ?? createStatsAccumulator({ histogram: true }).toStats();
  } finally {
    await binner.release();
    await session?.release();
    await slowSession?.release();
  }
  if (samples === 0)
    throw new CalibrationError(
      'CALIBRATION',
      'Calibration received no samples.',
      'Pass at least one feed, for example [{ x: { data, dims } }].',
    );
  // Reductions give the exact count, range and non-finite count; a sample only the histogram.
  for (const [t, m] of ranges) tensors[t] = { ...tensors[t], ...m };
  return { samples, tensors };
}

/** Merges statistics gathered on different shards of the calibration data; exact and associative. */
export function mergeCalibrationStats(a: CalibrationStats, b: CalibrationStats): CalibrationStats {
  const tensors: Record<string, TensorStats> = { ...a.tensors };
  for (const [t, s] of Object.entries(b.tensors)) {
    const other = tensors[t];
    tensors[t] = other ? mergeTensorStats(other, s) : s;
  }
  return { samples: a.samples + b.samples, tensors };
}

/**
 * The derived tensors and products among a statistics graph's outputs in dependency order (a
 * source before what derives from it; a source may itself be derived), and for each fetched whole
 * tensor the tensors computed from its values, in that order (a product's factors are computed
 * from the same one): what {@link collectStats} hands the binning with each fetched tensor.
 */
export function computationOrder(outputs: readonly StatisticsOutputs[]): {
  derivedOrder: StatisticsOutputs[];
  computedFrom: Map<string, StatisticsOutputs[]>;
} {
  const byTensor = new Map(outputs.map((o) => [o.tensor, o]));
  const derivedOrder: StatisticsOutputs[] = [];
  const placed = new Set<string>();
  const place = (o: StatisticsOutputs) => {
    if ((!o.derived && !o.product) || placed.has(o.tensor)) return;
    placed.add(o.tensor);
    for (const from of sourcesOf(o)) {
      const source = byTensor.get(from);
      if (source) place(source);
    }
    derivedOrder.push(o);
  };
  for (const o of outputs) place(o);
  const computedFrom = new Map<string, StatisticsOutputs[]>();
  for (const o of derivedOrder) {
    if (!o.computed) continue;
    let root = o;
    while (root.computed) root = byTensor.get(sourcesOf(root)[0] as string) as StatisticsOutputs;
    const list = computedFrom.get(root.tensor) ?? [];
    list.push(o);
    computedFrom.set(root.tensor, list);
  }
  return { derivedOrder, computedFrom };
}

/** The tensors a derived tensor's or a product's values are computed from (none for others). */
function sourcesOf(o: StatisticsOutputs): string[] {
  if (o.product) return [o.product.from, o.product.other];
  return o.derived ? [o.derived.from] : [];
}

/** Element `i` of a packed statistics output. */
function element(data: TensorData['data'] | undefined, i: number): number {
  const v = data?.[i];
  if (v === undefined)
    throw new CalibrationError(
      'CALIBRATION',
      'The backend returned fewer statistics than the statistics graph computes.',
      'This is a backend bug; try the cpu backend.',
    );
  return Number(v);
}

function floatData(t: TensorData | undefined, name: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array))
    throw new CalibrationError(
      'CALIBRATION',
      `The backend returned no float32 values for tensor '${name}'.`,
      'This is a backend bug; try the cpu backend.',
    );
  return t.data;
}

function nonFiniteError(tensor: string, sample: number): CalibrationError {
  return new CalibrationError(
    'NON_FINITE',
    `Tensor '${tensor}' holds NaN or infinite values in calibration sample ${sample}.`,
    "Check that sample's input data, or pass { nonFinite: 'ignore' } to calibrate() to skip such values and count them.",
  );
}

function aborted(samples: number): CalibrationError {
  return new CalibrationError('ABORTED', `Calibration was aborted after ${samples} samples; no encodings were computed.`);
}
