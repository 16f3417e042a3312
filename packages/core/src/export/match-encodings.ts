import type {
  EncodingMismatch,
  EncodingMismatchField,
  Int32BiasLink,
  ParsedEncoding,
  ParsedEncodings,
} from '../contracts/aimet-encodings.js';
import type { Encoding } from '../contracts/encoding.js';
import type { QuantPlan } from '../plan/plan.js';
import type { QuantizerSpec } from '../plan/spec.js';

export type { EncodingMismatch, EncodingMismatchField } from '../contracts/aimet-encodings.js';

import { EncodingsMismatchError } from '../errors/encodings-errors.js';
import { INT32_BIAS_OFFSET, int32BiasEncoding } from './aimet/int32-bias.js';

/** Options of {@link matchEncodings}. */
export interface MatchEncodingsOptions {
  /**
   * `true` (the default): any mismatch throws one {@link EncodingsMismatchError} listing them all.
   * `false`: mismatches are returned as warnings and only the encodings that match are used.
   */
  readonly strict?: boolean;
  /**
   * The rank of a tensor, to normalise negative channel axes (AIMET writes −1 for MatMul
   * weights, quantsim 1). Without it a negative axis is compared as written.
   */
  readonly rankOf?: (tensor: string) => number | undefined;
  /**
   * The model's biases that AIMET 2.x writes as int32 ({@link int32BiasLinks}). An entry for one
   * of them whose bias quantizer the plan leaves disabled (the default) is accepted when it is
   * the int32 bias AIMET writes: 32 bits, offset −2^31, per-channel exactly when the weight is,
   * and scale s_in·s_w from the file's own input and weight encodings (to float32 rounding). It
   * is checked, not loaded: export writes it again from the loaded input and weight. Anything
   * else is an `int32Bias` mismatch.
   */
  readonly int32Biases?: readonly Int32BiasLink[];
}

/**
 * The relative tolerance on an int32 bias scale: AIMET multiplies two float32 scales in float32,
 * so a writer that rounds the same product differently (float64, then float32) is off by at most
 * a float32 rounding of each factor and of the product, about 3·2^−24; 2^−22 leaves room.
 */
const INT32_BIAS_SCALE_TOLERANCE = 2 ** -22;

/** The outcome of {@link matchEncodings}. */
export interface MatchedEncodings {
  /** The file's encodings that agree with the plan, by quantizer id, with per-channel axes resolved. */
  readonly encodings: Map<string, Encoding>;
  /** Every disagreement (empty in strict mode, which throws instead). */
  readonly mismatches: readonly EncodingMismatch[];
}

/** How a field's value reads in a message. */
function show(field: EncodingMismatchField, value: string | number | boolean | undefined): string {
  if (value === undefined) return 'none';
  switch (field) {
    case 'symmetric':
      return value ? 'symmetric' : 'asymmetric';
    case 'strictSymmetric':
      return value ? 'strict symmetric (offset -2^(b-1) + 1)' : 'symmetric, not strict';
    case 'unsignedSymmetric':
      return value ? 'unsigned symmetric (offset 0)' : 'signed symmetric only';
    case 'perChannel':
      return value ? 'per-channel' : 'per-tensor';
    case 'enabled':
      return value ? 'enabled' : 'disabled';
    case 'axis':
      return `axis ${value}`;
    default:
      return String(value);
  }
}

/** Builds a mismatch and its message line. */
function mismatch(
  tensor: string,
  quantizer: QuantizerSpec | undefined,
  field: EncodingMismatchField,
  fileValue: string | number | boolean | undefined,
  planValue: string | number | boolean | undefined,
  path: string | undefined,
  detail?: { file?: string; plan?: string },
): EncodingMismatch {
  const who = quantizer ? `'${tensor}' (${quantizer.id})` : `'${tensor}'`;
  const where = path ? ` [${path}]` : '';
  const message = `${who} ${field}: file has ${detail?.file ?? show(field, fileValue)}, plan has ${detail?.plan ?? show(field, planValue)}${where}`;
  return { tensor, quantizerId: quantizer?.id, field, fileValue, planValue, path, message };
}

/** Every disagreement between one file entry and one plan quantizer of the same tensor and kind. */
function compare(q: QuantizerSpec, entry: ParsedEncoding): EncodingMismatch[] {
  const e = entry.encoding;
  const m = (
    field: EncodingMismatchField,
    file: string | number | boolean | undefined,
    plan: string | number | boolean | undefined,
    detail?: { file?: string; plan?: string },
  ) => mismatch(entry.tensor, q, field, file, plan, entry.path, detail);
  if (!q.enabled) return [m('enabled', true, false, { file: 'an encoding', plan: 'the quantizer disabled' })];
  if (e.dtype !== q.dtype) {
    return [m('dtype', e.dtype, q.dtype, { file: `${e.dtype}${e.bitwidth}`, plan: `${q.dtype}${q.bitwidth}` })];
  }
  const out: EncodingMismatch[] = [];
  if (e.bitwidth !== q.bitwidth) out.push(m('bitwidth', e.bitwidth, q.bitwidth));
  if (e.dtype === 'float') return out;
  if (e.symmetric !== q.symmetric) {
    // A symmetric grid read from an unsigned 2.0.0 entry is an asymmetric quantizer's grid too.
    if (!(entry.symmetryFromGrid && e.symmetric)) out.push(m('symmetric', e.symmetric, q.symmetric));
  } else if (e.symmetric) {
    // Strictness shows only in signed offsets (−2^(b−1) vs −2^(b−1) + 1); offset 0 says nothing.
    if (e.channels.some((c) => c.offset !== 0) && (e.strictSymmetric === true) !== q.strictSymmetric) {
      out.push(m('strictSymmetric', e.strictSymmetric === true, q.strictSymmetric));
    }
    // An unsigned-symmetric quantizer may still see negative data and use signed offsets, so only
    // offset 0 under a signed-only quantizer disagrees (as in AIMET's mismatch check).
    if (e.unsignedSymmetric === true && !q.unsignedSymmetric) out.push(m('unsignedSymmetric', true, false));
  }
  const planPerChannel = q.perChannelAxis !== undefined;
  if (entry.perChannel !== undefined && entry.perChannel !== planPerChannel) {
    const n = e.channels.length;
    out.push(
      m('perChannel', entry.perChannel, planPerChannel, {
        file: entry.perChannel ? `per-channel (${n} channel${n === 1 ? '' : 's'})` : 'per-tensor',
        plan: planPerChannel ? `per-channel (axis ${q.perChannelAxis})` : 'per-tensor',
      }),
    );
  } else if (planPerChannel && e.axis !== undefined && e.axis !== q.perChannelAxis) {
    out.push(m('axis', e.axis, q.perChannelAxis));
  }
  return out;
}

/** The entry with a negative axis counted from the tensor's rank, where the rank is known. */
function withNormalisedAxis(entry: ParsedEncoding, rankOf: MatchEncodingsOptions['rankOf']): ParsedEncoding {
  const axis = entry.encoding.axis;
  const rank = axis !== undefined && axis < 0 ? rankOf?.(entry.tensor) : undefined;
  if (axis === undefined || rank === undefined || axis + rank < 0) return entry;
  return { ...entry, encoding: { ...entry.encoding, axis: axis + rank } };
}

/** The entry's encoding for this quantizer: the plan's axis where the file records none. */
function resolve(q: QuantizerSpec, entry: ParsedEncoding): Encoding {
  const e = entry.encoding;
  if (e.dtype === 'float') return e;
  if (entry.symmetryFromGrid && e.symmetric && !q.symmetric) {
    // The plan's asymmetric quantizer on this grid: no symmetric flags.
    const { axis: _a, strictSymmetric: _s, unsignedSymmetric: _u, ...plain } = e;
    const axis = q.perChannelAxis === undefined ? undefined : (e.axis ?? q.perChannelAxis);
    return { ...plain, symmetric: false, ...(axis === undefined ? {} : { axis }) };
  }
  const { axis: _ignored, ...rest } = e;
  const axis = q.perChannelAxis === undefined ? undefined : (e.axis ?? q.perChannelAxis);
  return axis === undefined ? rest : { ...rest, axis };
}

/**
 * Checks a file's int32 bias entry against the one AIMET writes from the matched input and weight
 * encodings; returns its mismatches (none when it agrees).
 */
function checkInt32Bias(
  plan: QuantPlan,
  entry: ParsedEncoding,
  link: Int32BiasLink,
  matched: ReadonlyMap<string, Encoding>,
): EncodingMismatch[] {
  const e = entry.encoding;
  const q = plan.get(`param:${link.bias}`);
  const m = (file: string, planned: string) => [
    mismatch(entry.tensor, q, 'int32Bias', undefined, undefined, entry.path, { file, plan: planned }),
  ];
  const expectedGrid = 'an int32 bias (32 bits, offset -2^31) or no encoding (the bias quantizer is disabled)';
  if (e.dtype !== 'int' || e.bitwidth !== 32 || e.channels.some((c) => c.offset !== INT32_BIAS_OFFSET)) {
    const offsets = e.dtype === 'int' ? `, offset ${e.channels[0]?.offset}` : '';
    return m(`an encoding of ${e.bitwidth} bits (${e.dtype}${offsets})`, expectedGrid);
  }
  const expected = int32BiasEncoding(link, plan, matched);
  if ('reason' in expected)
    return m(
      'an int32 bias',
      `none, since ${expected.reason} (AIMET writes an int32 bias only for a quantized input and weight)`,
    );
  const want = expected.encoding;
  const wantPerChannel = want.axis !== undefined;
  if (want.channels.length !== e.channels.length || (entry.perChannel !== undefined && entry.perChannel !== wantPerChannel)) {
    const n = e.channels.length;
    return m(
      `${entry.perChannel ? 'a per-channel' : 'a per-tensor'} int32 bias (${n} scale${n === 1 ? '' : 's'})`,
      wantPerChannel
        ? `a per-channel one (${want.channels.length} scales, as the weight ${link.weight})`
        : `a per-tensor one (the weight ${link.weight} is per-tensor)`,
    );
  }
  for (const [i, c] of e.channels.entries()) {
    const s = want.channels[i]?.scale ?? 0;
    if (Math.abs(c.scale - s) <= s * INT32_BIAS_SCALE_TOLERANCE) continue;
    const ch = e.channels.length > 1 ? ` (channel ${i})` : '';
    const sw = expected.weightScales[wantPerChannel ? i : 0];
    return m(
      `scale ${c.scale}${ch}`,
      `s_in·s_w = ${s} (input ${link.input} scale ${expected.inputScale} × weight ${link.weight} scale ${sw})`,
    );
  }
  return [];
}

/**
 * Matches a parsed encodings file to the plan's quantizers by tensor name and kind: entries of
 * `activation_encodings` go to the tensor's output and input quantizers, entries of
 * `param_encodings` to its parameter quantizer (2.0.0 files, which do not separate them, go to
 * all of the tensor's quantizers).
 *
 * It reports every disagreement: tensors the plan does not quantize, a parameter listed as an
 * activation or the reverse, encodings for disabled quantizers, enabled quantizers the file does
 * not cover (except float16 ones in 2.0.0 files, which AIMET leaves out), and differences in
 * dtype, bitwidth, symmetry, strict or unsigned symmetry, per-channel and axis. With
 * `int32Biases`, AIMET 2.x's int32 biases are checked against s_in·s_w instead (`int32Bias`).
 *
 * @throws EncodingsMismatchError in strict mode (the default), listing every mismatch at once.
 */
export function matchEncodings(plan: QuantPlan, parsed: ParsedEncodings, options: MatchEncodingsOptions = {}): MatchedEncodings {
  const strict = options.strict ?? true;
  const byTensor = new Map<string, QuantizerSpec[]>();
  for (const q of plan.quantizers) {
    const list = byTensor.get(q.tensor);
    if (list) list.push(q);
    else byTensor.set(q.tensor, [q]);
  }
  const skipped = new Map(plan.skipped.map((s) => [s.tensor, s.reason]));
  const encodings = new Map<string, Encoding>();
  const mismatches: EncodingMismatch[] = [];
  const covered = new Set<string>();

  const biasLinks = new Map((options.int32Biases ?? []).map((l) => [l.bias, l]));
  const int32Entries: { entry: ParsedEncoding; link: Int32BiasLink }[] = [];
  for (const raw of parsed.entries) {
    const entry = withNormalisedAxis(raw, options.rankOf);
    const all = byTensor.get(entry.tensor) ?? [];
    const link = biasLinks.get(entry.tensor);
    if (link && entry.kind !== 'activation' && !all.some((q) => q.kind === 'param' && q.enabled)) {
      // An int32 bias (AIMET 2.x): checked once the input and weight encodings are known.
      for (const q of all) covered.add(q.id);
      int32Entries.push({ entry, link });
      continue;
    }
    if (all.length === 0) {
      const reason = skipped.get(entry.tensor);
      mismatches.push(
        mismatch(entry.tensor, undefined, 'name', entry.tensor, undefined, entry.path, {
          file: 'an encoding',
          plan: reason
            ? `no quantizer for this tensor (skipped: ${reason})`
            : 'no quantizer for this tensor (not in the model, or not quantized)',
        }),
      );
      continue;
    }
    const sameKind = entry.kind === undefined ? all : all.filter((q) => (q.kind === 'param') === (entry.kind === 'param'));
    if (sameKind.length === 0) {
      for (const q of all) covered.add(q.id);
      const planKinds = [...new Set(all.map((q) => q.kind))].join(' and ');
      mismatches.push(
        mismatch(entry.tensor, all[0], 'kind', entry.kind, planKinds, entry.path, {
          file: `it in ${entry.kind}_encodings`,
          plan: `it quantized as ${planKinds}`,
        }),
      );
      continue;
    }
    for (const q of sameKind) {
      covered.add(q.id);
      const found = compare(q, entry);
      if (found.length > 0) mismatches.push(...found);
      else encodings.set(q.id, resolve(q, entry));
    }
  }

  for (const { entry, link } of int32Entries) mismatches.push(...checkInt32Bias(plan, entry, link, encodings));

  for (const q of plan.quantizers) {
    if (!q.enabled || covered.has(q.id)) continue;
    if (parsed.version === '2.0.0' && q.dtype === 'float') continue;
    mismatches.push(
      mismatch(q.tensor, q, 'missing', undefined, true, undefined, {
        file: 'no encoding',
        plan: `an enabled ${q.dtype}${q.bitwidth} quantizer`,
      }),
    );
  }

  if (strict && mismatches.length > 0) throw new EncodingsMismatchError(parsed.source, mismatches);
  return { encodings, mismatches };
}
