import type { CalibrationStats } from '../calibrate/collect.js';
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

/** The statistics of a parameter, from its values (per channel along the quantizer's axis). */
export function paramStats(prepared: PreparedModel, spec: QuantizerSpec, scheme: EncodingScheme): TensorStats {
  const graph = spec.scope === undefined ? undefined : ownGraphProto(prepared.graph, spec.scope);
  const tensor = prepared.model.constantTensor(spec.tensor, graph);
  const values = prepared.model.constantValues(spec.tensor, graph);
  if (!tensor || !values)
    throw new QuantsimError('CALIBRATION', `Parameter '${spec.tensor}' has no constant value.`, {
      hint: 'Its quantizer cannot be calibrated; disable it with .tensors(name).disable().',
    });
  return statsFromValues(values, {
    histogram: scheme.statistics === 'histogram',
    ...(spec.perChannelAxis !== undefined ? { axis: spec.perChannelAxis } : {}),
    dims: tensor.dims.map(Number),
  });
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
    const s = q.kind === 'param' ? paramStats(prepared, q, scheme) : stats.tensors[q.tensor];
    // An If branch that no calibration sample took: its activations stay float (the caller warns).
    if (q.kind !== 'param' && q.scope !== undefined && s?.count === 0) continue;
    if (!s)
      throw new QuantsimError('CALIBRATION', `No statistics were gathered for tensor '${q.tensor}' (quantizer ${q.id}).`, {
        hint: 'This is a bug in quantsim: the statistics graph missed it.',
      });
    out.set(q.id, encodingFromStats(q, s, scheme));
  }
  return out;
}
