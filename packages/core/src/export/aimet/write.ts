import type { Int32BiasLink } from '../../contracts/aimet-encodings.js';
import type { AimetEncodingsFile, AimetEncodingsVersion, AimetQuantizerArgs } from '../../contracts/aimet-format.js';
import type { Encoding, EncodingMap } from '../../contracts/encoding.js';
import { EncodingsExportError } from '../../errors/encodings-errors.js';
import { describeValue } from '../../errors/quantsim-error.js';
import type { QuantPlan } from '../../plan/plan.js';
import type { QuantizerSpec } from '../../plan/spec.js';
import { stableJson } from '../stable-json.js';
import { int32BiasEncodings } from './int32-bias.js';
import { writeLegacyEntry } from './v0-6-1.js';
import { writeV1Entry } from './v1-0-0.js';
import { writeV2Entry } from './v2-0-0.js';

/** Options of {@link toAimetEncodings} and {@link serializeAimetEncodings}. */
export interface AimetEncodingsOptions {
  /** The format version; `1.0.0` (AIMET's current default) when omitted. */
  readonly version?: AimetEncodingsVersion;
  /** Layers left unquantized, written to `excluded_layers` (0.6.1 and 1.0.0 only). */
  readonly excludedLayers?: readonly string[];
  /** `quantizer_args` to write instead of the ones derived from the plan (0.6.1 and 1.0.0 only). */
  readonly quantizerArgs?: AimetQuantizerArgs;
  /**
   * Write int32 biases as AIMET 2.x does (`export(..., export_int32_bias=...)`): for each of
   * `biasLinks` whose layer's input and weight are quantized to integers and whose bias has no
   * encoding of its own, an entry named after the bias with 32 bits, scale s_in·s_w (per channel,
   * axis 0, where the weight is per-channel) and offset −2^31 (in 2.0.0: `int32`, zero point 0).
   * Default: `true` for 2.0.0, `false` for 0.6.1 and 1.0.0, as in AIMET.
   */
  readonly int32Bias?: boolean;
  /**
   * The model's biases and the quantizers their int32 scale comes from, from
   * {@link int32BiasLinks}; without them no int32 bias is written. `sim.export` passes them.
   */
  readonly biasLinks?: readonly Int32BiasLink[];
}

/** Which part of a 0.6.1 or 1.0.0 file a quantizer's encoding goes to. */
type Section = 'activation' | 'param';

/** An enabled quantizer (or an int32 bias) with the encoding to write. */
interface Row {
  /** The quantizer id (`param:<bias>` for an int32 bias). */
  readonly id: string;
  readonly tensor: string;
  readonly section: Section;
  readonly encoding: Encoding;
}

/** AIMET's `QuantScheme` names for quantsim's scheme names; other names are written as they are. */
const AIMET_SCHEME_NAMES: Readonly<Record<string, string>> = {
  tf: 'post_training_tf',
  minmax: 'post_training_tf',
  'min-max': 'post_training_tf',
  min_max: 'post_training_tf',
  tf_enhanced: 'post_training_tf_enhanced',
  'tf-enhanced': 'post_training_tf_enhanced',
  tfe: 'post_training_tf_enhanced',
  sqnr: 'post_training_tf_enhanced',
  percentile: 'post_training_percentile',
};

/** The most frequent value (the first seen among equals), or `fallback` for an empty list. */
function mostCommon<T>(values: readonly T[], fallback: T): T {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = fallback;
  let bestCount = 0;
  for (const [v, n] of counts) {
    if (n > bestCount) {
      best = v;
      bestCount = n;
    }
  }
  return best;
}

/**
 * The `quantizer_args` AIMET writes, derived from the plan's enabled quantizers: the most common
 * activation (and input) bitwidth, the most common parameter bitwidth, dtype and symmetry,
 * whether any parameter is per-channel, and the most common scheme under AIMET's name
 * (`minmax`/`tf` → `post_training_tf`, `tf_enhanced`/`sqnr` → `post_training_tf_enhanced`,
 * `percentile` → `post_training_percentile`).
 */
export function aimetQuantizerArgs(plan: QuantPlan): AimetQuantizerArgs {
  const enabled = plan.enabled;
  const activations = enabled.filter((q) => q.kind !== 'param');
  const params = enabled.filter((q) => q.kind === 'param');
  const scheme = mostCommon(
    enabled.map((q) => q.scheme),
    'tf',
  );
  return {
    activation_bitwidth: mostCommon(
      activations.map((q) => q.bitwidth),
      8,
    ),
    dtype: mostCommon(
      params.map((q) => q.dtype),
      'int',
    ),
    is_symmetric: mostCommon(
      params.map((q) => q.symmetric),
      true,
    ),
    param_bitwidth: mostCommon(
      params.map((q) => q.bitwidth),
      8,
    ),
    per_channel_quantization: params.some((q) => q.perChannelAxis !== undefined),
    quant_scheme: AIMET_SCHEME_NAMES[scheme] ?? scheme,
  };
}

/** Checks an encoding's numbers; returns one sentence per problem. */
function encodingProblems(q: QuantizerSpec, e: Encoding): string[] {
  const problems: string[] = [];
  const where = `quantizer ${q.id}`;
  if (e.dtype === 'float') return problems;
  if (!Number.isInteger(e.bitwidth) || e.bitwidth < 1 || e.bitwidth > 32) {
    problems.push(`${where} has bitwidth ${describeValue(e.bitwidth)}; integer encodings need 1 to 32 bits`);
  }
  if (e.channels.length === 0) problems.push(`${where} has an integer encoding without channels`);
  if (e.axis === undefined && e.channels.length > 1) {
    problems.push(`${where} has ${e.channels.length} channels but no channel axis`);
  }
  e.channels.forEach((c, i) => {
    const ch = e.channels.length > 1 ? ` channel ${i}` : '';
    if (!(Number.isFinite(c.scale) && c.scale > 0))
      problems.push(`${where}${ch} has scale ${describeValue(c.scale)}; scales must be positive`);
    if (!Number.isInteger(c.offset) || c.offset > 0 || c.offset < -(2 ** e.bitwidth - 1)) {
      problems.push(`${where}${ch} has offset ${describeValue(c.offset)}; offsets are integers in [-(2^${e.bitwidth} - 1), 0]`);
    }
    if (!Number.isFinite(c.min) || !Number.isFinite(c.max)) {
      problems.push(`${where}${ch} has range [${c.min}, ${c.max}]; min and max must be finite`);
    }
  });
  return problems;
}

/**
 * The enabled quantizers in plan order with their encodings. Float quantizers without an entry
 * get one from the plan (fp16 needs no calibration); integer ones without an entry are errors.
 */
function collectRows(plan: QuantPlan, encodings: EncodingMap): Row[] {
  const rows: Row[] = [];
  const problems: string[] = [];
  for (const q of plan.enabled) {
    let encoding = encodings.get(q.id);
    if (!encoding && q.dtype === 'float') {
      encoding = { dtype: 'float', bitwidth: q.bitwidth, symmetric: q.symmetric, channels: [] };
    }
    if (!encoding) {
      problems.push(`quantizer ${q.id} (tensor '${q.tensor}') has no encoding`);
      continue;
    }
    problems.push(...encodingProblems(q, encoding));
    rows.push({ id: q.id, tensor: q.tensor, section: q.kind === 'param' ? 'param' : 'activation', encoding });
  }
  if (problems.length > 0) {
    throw new EncodingsExportError('AIMET encodings', problems, {
      hint: 'Calibrate the model (builder.calibrate(data)) or load its encodings (builder.loadEncodings(file)) before exporting, or disable the quantizers you do not want.',
    });
  }
  return rows;
}

/**
 * Keeps one entry per key. Quantizers that share a tensor (an output quantizer and an input
 * quantizer of a consumer) may share an entry when they agree; AIMET's files key encodings by
 * tensor name, so different encodings of one tensor cannot both be written.
 */
function dedupe<T>(items: readonly { row: Row; entry: T }[]): T[] {
  const seen = new Map<string, { row: Row; json: string }>();
  const out: T[] = [];
  const problems: string[] = [];
  for (const item of items) {
    const json = stableJson(item.entry);
    const before = seen.get(item.row.tensor);
    if (!before) {
      seen.set(item.row.tensor, { row: item.row, json });
      out.push(item.entry);
    } else if (before.json !== json) {
      const which =
        before.row.id === item.row.id ? `${item.row.id} (an int32 bias of two layers)` : `${before.row.id} and ${item.row.id}`;
      problems.push(
        `tensor '${item.row.tensor}' has different encodings from ${which}, and AIMET's format holds one encoding per tensor`,
      );
    }
  }
  if (problems.length > 0) {
    throw new EncodingsExportError('AIMET encodings', problems, {
      hint: 'Give quantizers of one tensor the same settings (or disable all but one of them), then calibrate again.',
    });
  }
  return out;
}

/** The rows with each int32 bias (when on) placed after its layer's weight. */
function withInt32Biases(
  rows: Row[],
  plan: QuantPlan,
  encodings: EncodingMap,
  options: AimetEncodingsOptions,
  version: AimetEncodingsVersion,
): Row[] {
  if (!(options.int32Bias ?? version === '2.0.0') || !options.biasLinks) return rows;
  const out = [...rows];
  for (const { link, encoding } of int32BiasEncodings(options.biasLinks, plan, encodings)) {
    const row: Row = { id: `param:${link.bias}`, tensor: link.bias, section: 'param', encoding };
    const after = out.findIndex((r) => r.id === link.weight);
    out.splice(after < 0 ? out.length : after + 1, 0, row);
  }
  return out;
}

/**
 * The AIMET encodings file of a plan and its encodings, as a plain object ready for JSON.
 *
 * Output (`activation:<tensor>`) and input (`input:<layer>:<index>`) quantizers go to
 * `activation_encodings`, parameter quantizers (`param:<tensor>`) to `param_encodings`, each keyed
 * by tensor name; 2.0.0 puts them all in `encodings`. Disabled quantizers are left out, as are
 * float16 quantizers in 2.0.0 (AIMET writes no 2.0.0 entry for them). Lists follow the plan's order.
 * With `biasLinks`, 2.0.0 files (and older ones with `int32Bias: true`) also get AIMET's int32
 * biases, each after its layer's weight (see {@link AimetEncodingsOptions.int32Bias}).
 *
 * @throws EncodingsExportError listing every enabled integer quantizer without a valid encoding,
 * and every tensor whose quantizers disagree.
 */
export function toAimetEncodings(
  plan: QuantPlan,
  encodings: EncodingMap,
  options: AimetEncodingsOptions = {},
): AimetEncodingsFile {
  const version = options.version ?? '1.0.0';
  const rows = withInt32Biases(collectRows(plan, encodings), plan, encodings, options, version);
  if (version === '2.0.0') {
    const items = rows.flatMap((r) => {
      const entry = writeV2Entry(r.tensor, r.encoding);
      return entry ? [{ row: r, entry }] : [];
    });
    return { encodings: dedupe(items), version };
  }
  const section = <T>(which: Section, make: (r: Row) => T) =>
    dedupe(rows.filter((r) => r.section === which).map((r) => ({ row: r, entry: make(r) })));
  const common = {
    excluded_layers: [...(options.excludedLayers ?? [])],
    quantizer_args: options.quantizerArgs ?? aimetQuantizerArgs(plan),
  };
  if (version === '0.6.1') {
    const dict = (which: Section) => Object.fromEntries(section(which, (r) => [r.tensor, writeLegacyEntry(r.encoding)] as const));
    return { activation_encodings: dict('activation'), param_encodings: dict('param'), ...common, version };
  }
  return {
    activation_encodings: section('activation', (r) => writeV1Entry(r.tensor, r.encoding)),
    param_encodings: section('param', (r) => writeV1Entry(r.tensor, r.encoding)),
    ...common,
    version,
  };
}

/**
 * {@link toAimetEncodings} as JSON text: keys sorted at every level (as AIMET's `sort_keys=True`),
 * two-space indentation and a trailing newline, so that the same plan and encodings always give
 * the same bytes.
 */
export function serializeAimetEncodings(plan: QuantPlan, encodings: EncodingMap, options: AimetEncodingsOptions = {}): string {
  return `${stableJson(toAimetEncodings(plan, encodings, options))}\n`;
}
