import type { CalibrationStats } from '../calibrate/collect.js';
import { HISTOGRAM_MAX_BINS } from '../calibrate/histogram.js';
import { channelMajor, channelStats, clearChannelStats } from '../calibrate/stats.js';
import type { Encoding } from '../contracts/encoding.js';
import type { EncodingScheme } from '../contracts/scheme.js';
import type { TensorStats } from '../contracts/stats.js';
import { QuantsimError } from '../errors/quantsim-error.js';
import { ownGraphProto } from '../graph/scopes.js';
import type { QuantPlan } from '../plan/plan.js';
import type { PreparedModel } from '../plan/prepared-model.js';
import type { QuantizerSpec } from '../plan/spec.js';
import { assembleEncoding, statsFromValues } from './index.js';

/** Computes one quantizer's encoding from statistics with its scheme, per tensor or per channel. */
export function encodingFromStats(spec: QuantizerSpec, stats: TensorStats, scheme: EncodingScheme): Encoding {
  if (spec.perChannelAxis !== undefined && stats.channels) {
    const channels = stats.channels.map((c) => scheme.compute(c, spec));
    return assembleEncoding(spec, channels, spec.perChannelAxis);
  }
  return assembleEncoding(spec, [scheme.compute(stats, spec)]);
}

/** A parameter's values and shape. */
function paramValues(prepared: PreparedModel, spec: QuantizerSpec): { values: Float32Array; dims: number[] } {
  const graph = spec.scope === undefined ? undefined : ownGraphProto(prepared.graph, spec.scope);
  const tensor = prepared.model.constantTensor(spec.tensor, graph);
  const values = prepared.model.constantValues(spec.tensor, graph);
  if (!tensor || !values)
    throw new QuantsimError('CALIBRATION', `Parameter '${spec.tensor}' has no constant value.`, {
      hint: 'Its quantizer cannot be calibrated; disable it with .tensors(name).disable().',
    });
  return { values, dims: tensor.dims.map(Number) };
}

/** The statistics of a parameter, from its values (per channel along the quantizer's axis). */
export function paramStats(prepared: PreparedModel, spec: QuantizerSpec, scheme: EncodingScheme): TensorStats {
  const { values, dims } = paramValues(prepared, spec);
  return statsFromValues(values, {
    histogram: scheme.statistics === 'histogram',
    ...(spec.perChannelAxis !== undefined ? { axis: spec.perChannelAxis } : {}),
    dims,
  });
}

/**
 * Channels whose statistics are gathered together (their histograms share one allocation of at
 * most 32 × 4096 bins, 1 MiB) before the scheme takes them one by one.
 */
const CHANNELS_AT_ONCE = 32;

/** Zeroed memory for their histograms, shared by every call (JavaScript runs one at a time). */
let slab: Float64Array | undefined;
function sharedSlab(): Float64Array {
  slab ??= new Float64Array(CHANNELS_AT_ONCE * HISTOGRAM_MAX_BINS);
  return slab;
}

/**
 * A parameter's encoding: `encodingFromStats(spec, paramStats(…), scheme)`, computed a few
 * channels at a time so that their histograms are used while they are in cache and then dropped
 * (the PaddleOCR recognizer's weights have 16 669 channels of up to 4096 bins each).
 */
export function paramEncoding(prepared: PreparedModel, spec: QuantizerSpec, scheme: EncodingScheme): Encoding {
  const axis = spec.perChannelAxis;
  if (axis === undefined) return encodingFromStats(spec, paramStats(prepared, spec, scheme), scheme);
  const { values, dims } = paramValues(prepared, spec);
  const a = axis < 0 ? axis + dims.length : axis;
  if (!Number.isInteger(a) || a < 0 || a >= dims.length)
    // statsFromValues explains a bad axis.
    return encodingFromStats(spec, paramStats(prepared, spec, scheme), scheme);
  const channels = dims[a] as number;
  const outer = dims.slice(0, a).reduce((x, y) => x * y, 1);
  const inner = dims.slice(a + 1).reduce((x, y) => x * y, 1);
  const major = outer > 1 && channels > 1 ? channelMajor(values, outer, channels, inner) : values;
  const per = outer * inner;
  const histogram = scheme.statistics === 'histogram';
  const encodings = [];
  // A scheme that keeps no statistics after `compute` gets the same memory for every few channels.
  const zeroed = histogram && scheme.transientStats === true ? sharedSlab() : undefined;
  for (let c = 0; c < channels; c += CHANNELS_AT_ONCE) {
    const chunk = channelStats(major, per, c, Math.min(channels, c + CHANNELS_AT_ONCE), histogram, zeroed);
    try {
      for (const stats of chunk) encodings.push(scheme.compute(stats, spec));
    } finally {
      // Zeroed again even when the scheme throws: the next call relies on it.
      if (zeroed) clearChannelStats(chunk);
    }
  }
  return assembleEncoding(spec, encodings, axis);
}

/**
 * Turns statistics into encodings for every enabled quantizer of the plan, except those in
 * `keep` (frozen or carried encodings), which are copied as they are.
 */
export function computeEncodings(
  plan: QuantPlan,
  prepared: PreparedModel,
  stats: CalibrationStats,
  schemes: ReadonlyMap<string, EncodingScheme>,
  keep: ReadonlyMap<string, Encoding> = new Map(),
): Map<string, Encoding> {
  const out = new Map<string, Encoding>();
  for (const q of plan.quantizers) {
    if (!q.enabled) continue;
    const kept = keep.get(q.id);
    if (kept) {
      out.set(q.id, kept);
      continue;
    }
    if (q.dtype === 'float') {
      out.set(q.id, { dtype: 'float', bitwidth: q.bitwidth, symmetric: q.symmetric, channels: [] });
      continue;
    }
    const scheme = schemes.get(q.scheme);
    if (!scheme)
      throw new QuantsimError(
        'UNKNOWN_SCHEME',
        `Quantizer ${q.id} uses encoding scheme '${q.scheme}', which no plugin provides.`,
        {
          hint: `Known schemes: ${[...schemes.keys()].join(', ')}.`,
        },
      );
    if (q.kind === 'param') {
      out.set(q.id, paramEncoding(prepared, q, scheme));
      continue;
    }
    const s = stats.tensors[q.tensor];
    // An If branch that no calibration sample took: its activations stay float (the caller warns).
    if (q.scope !== undefined && s?.count === 0) continue;
    if (!s)
      throw new QuantsimError('CALIBRATION', `No statistics were gathered for tensor '${q.tensor}' (quantizer ${q.id}).`, {
        hint: 'This is a bug in quantsim: the statistics graph missed it.',
      });
    out.set(q.id, encodingFromStats(q, s, scheme));
  }
  return out;
}
