import type { CalibrationStats, HistogramData, Model, QuantPlan } from '@quantsim/core';
import type { Scorer } from './evaluation.js';

/** What a finding is about. */
export type FindingKind = 'per-channel-range' | 'outlier-range' | 'sixteen-bit-recovers' | 'near-constant-output';

/** A cause of quantization loss and what fixes it. */
export interface AnalysisFinding {
  readonly layer: string;
  readonly kind: FindingKind;
  /** The quantized tensor concerned, when one is. */
  readonly tensor?: string;
  /**
   * How bad it is, in the metric's unit (larger is worse); for output SQNR, the dB that the
   * layer alone loses, or that its fix recovers.
   */
  readonly loss: number;
  /** What was seen, e.g. `channel ranges span 1:4100`. */
  readonly detail: string;
  /** The builder call that fixes it. */
  readonly fix: string;
}

/** What {@link findAnalysisFindings} looks at. */
export interface FindingInput {
  readonly plan: QuantPlan;
  readonly model: Model;
  readonly stats: CalibrationStats;
  readonly scorer: Scorer;
  readonly scores: { readonly quantized: number; readonly all16: number; readonly float: number };
  readonly layers: readonly {
    readonly layer: string;
    readonly quantizers: readonly string[];
    readonly weightsOnly: number | undefined;
    readonly activationsOnly: number | undefined;
    readonly sixteenBit: number | undefined;
  }[];
  /** The channel axis a parameter quantizer would use per channel. */
  readonly channelAxis: (quantizer: string) => number | undefined;
  /** Scores the model with only this layer's weights quantized, per channel. */
  readonly perChannelScore: (layer: string) => Promise<number>;
}

/** Channel ranges at or above this ratio waste at least 3 bits of the smallest channels. */
export const CHANNEL_RANGE_RATIO = 8;
/** A range at least this many times the central 99.9 % of values is outlier-dominated. */
export const OUTLIER_RATIO = 16;
/** Per-channel checks run for at most this many layers (the worst by weights-only score). */
const MAX_PER_CHANNEL_CHECKS = 12;

/** Badness of a score: larger is worse, in the metric's unit. */
export function badness(scorer: Pick<Scorer, 'better'>, value: number): number {
  return scorer.better === 'higher' ? -value : value;
}

/** Finds the causes the analysis can name, with measured losses and fixes. */
export async function findAnalysisFindings(input: FindingInput): Promise<AnalysisFinding[]> {
  const { plan, scorer } = input;
  const bad = (v: number) => badness(scorer, v);
  const out: AnalysisFinding[] = [];
  const fixLayer = (layer: string) => `.layers(${JSON.stringify(layer)})`;

  // Per-tensor weights whose channels have very different ranges.
  const candidates: { layer: string; tensor: string; ratio: number; weightsOnly: number }[] = [];
  for (const l of input.layers) {
    if (l.weightsOnly === undefined) continue;
    for (const id of l.quantizers) {
      const q = plan.get(id);
      if (q?.kind !== 'param' || q.paramRole !== 'weight' || q.perChannelAxis !== undefined || !q.enabled) continue;
      const axis = input.channelAxis(id);
      const values = input.model.constantValues(q.tensor);
      const dims = input.model.graph.tensor(q.tensor)?.shape;
      if (axis === undefined || !values || !dims) continue;
      const ratio = channelRangeRatio(values, dims.map(Number), axis);
      if (ratio >= CHANNEL_RANGE_RATIO) candidates.push({ layer: l.layer, tensor: q.tensor, ratio, weightsOnly: l.weightsOnly });
    }
  }
  candidates.sort((a, b) => bad(b.weightsOnly) - bad(a.weightsOnly));
  for (const c of candidates.slice(0, MAX_PER_CHANNEL_CHECKS)) {
    const perChannel = await input.perChannelScore(c.layer);
    const recovered = bad(c.weightsOnly) - bad(perChannel);
    if (!(recovered > 0)) continue;
    out.push({
      layer: c.layer,
      kind: 'per-channel-range',
      tensor: c.tensor,
      loss: finiteOr(recovered, 1e9),
      detail: `per-tensor weights whose channel ranges span 1:${formatRatio(c.ratio)}; per-channel weights take ${describe(scorer, c.weightsOnly)} to ${describe(scorer, perChannel)} with only this layer's weights quantized`,
      fix: `${fixLayer(c.layer)}.perChannel() or .equalize()`,
    });
  }

  // Activations: outlier-dominated and near-constant ranges.
  for (const l of input.layers) {
    for (const id of l.quantizers) {
      const q = plan.get(id);
      const range = q ? activationRange(q, input.stats) : undefined;
      if (!q || !range) continue;
      const actLoss = l.activationsOnly === undefined ? 0 : bad(l.activationsOnly);
      const { min, max } = range;
      out.push(
        range.kind === 'near-constant-output'
          ? {
              layer: l.layer,
              kind: range.kind,
              tensor: q.tensor,
              loss: finiteOr(actLoss, 1e9),
              detail: `output ${q.tensor} is near-constant (calibration range [${fmt(min)}, ${fmt(max)}])`,
              fix: `.tensors(${JSON.stringify(q.tensor)}).disable()`,
            }
          : {
              layer: l.layer,
              kind: range.kind,
              tensor: q.tensor,
              loss: finiteOr(actLoss, 1e9),
              detail: `range of ${q.tensor} [${fmt(min)}, ${fmt(max)}] is ${formatRatio(range.ratio)}× the span of its central 99.9 %`,
              fix: `.tensors(${JSON.stringify(q.tensor)}).scheme('percentile', { p: 99.99 }) or .activations(16)`,
            },
      );
    }
  }

  // Layers whose 16-bit setting recovers most of what 16 bits everywhere recover.
  const total = bad(input.scores.quantized) - bad(input.scores.all16);
  if (total > 0) {
    const ranked = input.layers
      .filter((l): l is typeof l & { sixteenBit: number } => l.sixteenBit !== undefined)
      .map((l) => ({ l, recovered: bad(input.scores.quantized) - bad(l.sixteenBit) }))
      .filter((r) => r.recovered >= 0.1 * total)
      .sort((a, b) => b.recovered - a.recovered)
      .slice(0, 5);
    for (const { l, recovered } of ranked)
      out.push({
        layer: l.layer,
        kind: 'sixteen-bit-recovers',
        loss: finiteOr(recovered, 1e9),
        detail: `16 bits on this layer alone take the model from ${describe(scorer, input.scores.quantized)} to ${describe(scorer, l.sixteenBit)} (${Math.round((100 * recovered) / total)} % of what 16 bits everywhere recover)`,
        fix: `${fixLayer(l.layer)}.activations(16).params(16)`,
      });
  }
  return out;
}

type QuantizerOfPlan = NonNullable<ReturnType<QuantPlan['get']>>;

/** An integer activation quantizer's range that a finding names: near-constant, or outlier-dominated. */
function activationRange(
  q: QuantizerOfPlan,
  stats: CalibrationStats,
):
  | { kind: 'near-constant-output'; min: number; max: number }
  | { kind: 'outlier-range'; min: number; max: number; ratio: number }
  | undefined {
  if (q.kind === 'param' || !q.enabled || q.dtype !== 'int') return undefined;
  const s = stats.tensors[q.tensor];
  if (!s || !Number.isFinite(s.min) || !Number.isFinite(s.max)) return undefined;
  const range = s.max - s.min;
  const magnitude = Math.max(Math.abs(s.min), Math.abs(s.max));
  if (magnitude > 0 && range <= 1e-3 * magnitude) return { kind: 'near-constant-output', min: s.min, max: s.max };
  if (!s.histogram || range <= 0) return undefined;
  const central = centralRange(s.histogram, 0.999);
  if (central <= 0) return undefined;
  const ratio = range / central;
  return ratio < OUTLIER_RATIO ? undefined : { kind: 'outlier-range', min: s.min, max: s.max, ratio };
}

/** Units with an activation quantizer that a finding names (near-constant or outlier-dominated range). */
export function activationRangeSuspects(
  plan: QuantPlan,
  stats: CalibrationStats,
  units: readonly { readonly name: string; readonly quantizers: readonly string[] }[],
): Set<string> {
  const out = new Set<string>();
  for (const u of units)
    for (const id of u.quantizers) {
      const q = plan.get(id);
      if (q && activationRange(q, stats)) out.add(u.name);
    }
  return out;
}

/**
 * Layers with per-tensor weights whose channel ranges differ by {@link CHANNEL_RANGE_RATIO} or
 * more: the candidates of the per-channel finding.
 */
export function perChannelSuspects(
  plan: QuantPlan,
  model: Model,
  units: readonly { readonly name: string; readonly quantizers: readonly string[] }[],
  channelAxis: (quantizer: string) => number | undefined,
): Set<string> {
  const out = new Set<string>();
  for (const u of units)
    for (const id of u.quantizers) {
      const q = plan.get(id);
      if (q?.kind !== 'param' || q.paramRole !== 'weight' || q.perChannelAxis !== undefined || !q.enabled) continue;
      const axis = channelAxis(id);
      const values = model.constantValues(q.tensor);
      const dims = model.graph.tensor(q.tensor)?.shape;
      if (axis !== undefined && values && dims && channelRangeRatio(values, dims.map(Number), axis) >= CHANNEL_RANGE_RATIO)
        out.add(u.name);
    }
  return out;
}

/** Largest over smallest non-zero per-channel max |w| along `axis`. */
export function channelRangeRatio(values: Float32Array, dims: readonly number[], axis: number): number {
  const channels = dims[axis] ?? 1;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const ranges = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % channels;
    ranges[c] = Math.max(ranges[c] as number, Math.abs(values[i] as number));
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const r of ranges)
    if (r > 0) {
      lo = Math.min(lo, r);
      hi = Math.max(hi, r);
    }
  return hi === 0 ? 1 : hi / lo;
}

/** The width of the interval holding the central `mass` of a histogram's values. */
export function centralRange(h: HistogramData, mass: number): number {
  const counts = Array.from(h.counts as ArrayLike<number>);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const tail = ((1 - mass) / 2) * total;
  const width = 2 ** h.log2Width;
  let acc = 0;
  let lo = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i] as number;
    if (acc > tail) {
      lo = (h.first + i) * width;
      break;
    }
  }
  acc = 0;
  let hi = 0;
  for (let i = counts.length - 1; i >= 0; i--) {
    acc += counts[i] as number;
    if (acc > tail) {
      hi = (h.first + i + 1) * width;
      break;
    }
  }
  return hi - lo;
}

function finiteOr(v: number, fallback: number): number {
  return Number.isFinite(v) ? v : fallback;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3);
}

function formatRatio(r: number): string {
  return r >= 100 ? String(Math.round(r)) : r.toFixed(1);
}

function describe(scorer: Pick<Scorer, 'unit'>, v: number): string {
  if (v === Number.POSITIVE_INFINITY) return `∞${scorer.unit ? ` ${scorer.unit}` : ''}`;
  return `${v.toFixed(2)}${scorer.unit ? ` ${scorer.unit}` : ''}`;
}
